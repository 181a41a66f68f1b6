// AWS credentials, in the order of the AWS SDK default chain for what runs in clusters: environment keys, web
// identity (EKS IRSA), container credentials (EKS Pod Identity, ECS), EC2 instance metadata (IMDSv2).
// Endpoints follow the SDKs' override variables (AWS_ENDPOINT_URL_STS, AWS_EC2_METADATA_SERVICE_ENDPOINT, ...), which
// is also how tests point them at local fakes.
import { xmlText } from "../xml.ts";
import { RefreshingCache } from "./cache.ts";
import {
  credentialError,
  credentialPolicy,
  credentialRequest,
  parseExpiry,
  parseJsonObject,
  readTokenFile,
  requireString,
  type CredentialOptions,
  type Env,
} from "./http.ts";

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiresAt?: Date;
}

export interface AwsCredentialProvider {
  /** Which source the credentials come from, for errors and logs. */
  readonly source: string;
  get(): Promise<AwsCredentials>;
  /** Drop a cached credential the server just rejected. */
  invalidate?(): void;
}

export function staticAwsCredentials(c: AwsCredentials, source = "static credentials"): AwsCredentialProvider {
  return { source, get: async () => c };
}

export interface AwsChainOptions extends CredentialOptions {
  /** Region for the regional STS endpoint (AWS_REGION otherwise). */
  region?: string;
  /** Base of AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (the ECS agent address by default; tests use a local fake). */
  containerCredentialsHost?: string;
}

/** The chain as configured by the environment; IMDS is the last resort, as in the SDKs. */
export function awsCredentialChain(options: AwsChainOptions = {}): AwsCredentialProvider {
  const env: Env = options.env ?? process.env;
  const policy = credentialPolicy(options);
  const tried: string[] = [];

  if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
    return staticAwsCredentials(
      { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, sessionToken: env.AWS_SESSION_TOKEN || undefined },
      "environment (AWS_ACCESS_KEY_ID)",
    );
  }
  tried.push("environment (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY unset)");

  if (env.AWS_WEB_IDENTITY_TOKEN_FILE && env.AWS_ROLE_ARN) {
    const region = options.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
    const endpoint = env.AWS_ENDPOINT_URL_STS ?? (region ? `https://sts.${region}.amazonaws.com` : "https://sts.amazonaws.com");
    const source = `web identity (AWS_WEB_IDENTITY_TOKEN_FILE, role ${env.AWS_ROLE_ARN}, STS ${endpoint})`;
    return cached(source, () =>
      assumeRoleWithWebIdentity(policy, source, endpoint, {
        tokenFile: env.AWS_WEB_IDENTITY_TOKEN_FILE!,
        roleArn: env.AWS_ROLE_ARN!,
        sessionName: env.AWS_ROLE_SESSION_NAME || `opendepot-${Date.now()}`,
      }),
    );
  }
  tried.push("web identity (AWS_WEB_IDENTITY_TOKEN_FILE/AWS_ROLE_ARN unset)");

  // The relative form always goes to the agent address (ours to choose); a full URI comes from outside and is checked.
  const relative = env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI;
  const containerUrl = relative ? `${options.containerCredentialsHost ?? "http://169.254.170.2"}${relative}` : env.AWS_CONTAINER_CREDENTIALS_FULL_URI;
  if (containerUrl) {
    const source = `container credentials (${containerUrl})`;
    if (!relative) checkContainerUrl(source, containerUrl);
    return cached(source, () => containerCredentials(policy, source, containerUrl, env));
  }
  tried.push("container credentials (AWS_CONTAINER_CREDENTIALS_FULL_URI/RELATIVE_URI unset)");

  if ((env.AWS_EC2_METADATA_DISABLED ?? "").toLowerCase() === "true") {
    tried.push("EC2 instance metadata (AWS_EC2_METADATA_DISABLED=true)");
    const message = `no AWS credentials; tried: ${tried.join("; ")}`;
    return { source: "none", get: async () => Promise.reject(credentialError("aws credential chain", message)) };
  }
  const imds = (env.AWS_EC2_METADATA_SERVICE_ENDPOINT ?? "http://169.254.169.254").replace(/\/+$/, "");
  const source = `EC2 instance metadata (IMDSv2 at ${imds}; before it tried: ${tried.join("; ")})`;
  return cached(source, () => instanceMetadataCredentials(policy, source, imds));
}

function cached(source: string, fetcher: () => Promise<AwsCredentials>): AwsCredentialProvider {
  const cache = new RefreshingCache(fetcher);
  return { source, get: () => cache.get(), invalidate: () => cache.invalidate() };
}

async function assumeRoleWithWebIdentity(
  policy: ReturnType<typeof credentialPolicy>,
  source: string,
  endpoint: string,
  p: { tokenFile: string; roleArn: string; sessionName: string },
): Promise<AwsCredentials> {
  // The projected token rotates: read it on every exchange.
  const token = await readTokenFile(source, p.tokenFile);
  const form = new URLSearchParams({
    Action: "AssumeRoleWithWebIdentity",
    Version: "2011-06-15",
    RoleArn: p.roleArn,
    RoleSessionName: p.sessionName.replace(/[^\w+=,.@-]/g, "-").slice(0, 64),
    WebIdentityToken: token,
  });
  const { text } = await credentialRequest(policy, source, () =>
    new Request(endpoint.replace(/\/*$/, "/"), {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/xml" },
      body: form.toString(),
    }),
  );
  const accessKeyId = xmlText(text, "AccessKeyId");
  const secretAccessKey = xmlText(text, "SecretAccessKey");
  const sessionToken = xmlText(text, "SessionToken");
  const expiration = xmlText(text, "Expiration");
  if (!accessKeyId || !secretAccessKey || !sessionToken || !expiration) {
    const code = xmlText(text, "Code");
    throw credentialError(source, code ? `STS error ${code}: ${xmlText(text, "Message") ?? ""}` : "STS response lacks Credentials");
  }
  return { accessKeyId, secretAccessKey, sessionToken, expiresAt: parseExpiry(source, expiration) };
}

/** As the SDKs do: a full URI must be https or point at loopback / the ECS and EKS agent addresses. */
function checkContainerUrl(source: string, url: string): void {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw credentialError(source, "not a valid URL");
  }
  if (u.protocol === "https:") return;
  const allowed = ["127.0.0.1", "localhost", "[::1]", "169.254.170.2", "169.254.170.23", "[fd00:ec2::23]"];
  if (u.protocol !== "http:" || !(allowed.includes(u.hostname) || u.hostname.startsWith("127."))) {
    throw credentialError(source, "plain-http container credential URIs must point at loopback or the ECS/EKS agent address");
  }
}

async function containerCredentials(policy: ReturnType<typeof credentialPolicy>, source: string, url: string, env: Env): Promise<AwsCredentials> {
  const auth = env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE
    ? await readTokenFile(source, env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE)
    : env.AWS_CONTAINER_AUTHORIZATION_TOKEN;
  if (auth && /[\r\n]/.test(auth)) throw credentialError(source, "authorization token contains a line break");
  const { text } = await credentialRequest(policy, source, () => new Request(url, { headers: auth ? { authorization: auth } : {} }));
  return parseCredentialJson(source, text);
}

function parseCredentialJson(source: string, text: string): AwsCredentials {
  const obj = parseJsonObject(source, text);
  if (obj.Code !== undefined && obj.Code !== "Success") throw credentialError(source, `endpoint answered Code=${String(obj.Code)}`);
  return {
    accessKeyId: requireString(source, obj, "AccessKeyId"),
    secretAccessKey: requireString(source, obj, "SecretAccessKey"),
    sessionToken: requireString(source, obj, "Token"),
    expiresAt: parseExpiry(source, obj.Expiration),
  };
}

async function instanceMetadataCredentials(policy: ReturnType<typeof credentialPolicy>, source: string, base: string): Promise<AwsCredentials> {
  // IMDSv2: a session token first (PUT), then the role name, then the role's credentials.
  const { text: token } = await credentialRequest(policy, source, () =>
    new Request(`${base}/latest/api/token`, { method: "PUT", headers: { "x-aws-ec2-metadata-token-ttl-seconds": "21600" } }),
  );
  if (!token || /[\r\n]/.test(token.trim())) throw credentialError(source, "IMDS returned an invalid session token");
  const headers = { "x-aws-ec2-metadata-token": token.trim() };
  const { text: roles } = await credentialRequest(policy, source, () => new Request(`${base}/latest/meta-data/iam/security-credentials/`, { headers }));
  const role = roles.split("\n")[0]?.trim();
  if (!role || !/^[\w+=,.@-]{1,128}$/.test(role)) throw credentialError(source, "no IAM role attached to this instance");
  const { text } = await credentialRequest(policy, source, () => new Request(`${base}/latest/meta-data/iam/security-credentials/${role}`, { headers }));
  return parseCredentialJson(source, text);
}
