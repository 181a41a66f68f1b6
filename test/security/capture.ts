// Loopback servers for the security suite: a capturing server (the tenant's: records every request, its headers
// and bytes, answers 500) and a credential server that answers like STS, the ECS/EKS agent, IMDSv2, the GKE
// metadata server, Google's OAuth token endpoint and Entra ID, so that every credential source would succeed if
// anything asked it. Plus the per-suite counters the suite prints (requests tried, refusals, bytes).
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Captured {
  method: string;
  path: string;
  authorization: string | null;
  bytes: number;
}

export interface CaptureServer {
  url: string;
  requests: Captured[];
  /** Bytes received (headers' authorization values included, so a leaked token counts). */
  bytes(): number;
  reset(): void;
  stop(): void;
}

export function startCapture(answer: (req: Request) => Response | Promise<Response> = () => new Response("tenant server", { status: 500 })): CaptureServer {
  const requests: Captured[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const body = new Uint8Array(await req.arrayBuffer());
      const u = new URL(req.url);
      requests.push({ method: req.method, path: u.pathname + u.search, authorization: req.headers.get("authorization"), bytes: body.byteLength + (req.headers.get("authorization")?.length ?? 0) });
      return answer(req);
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}`,
    requests,
    bytes: () => requests.reduce((n, r) => n + r.bytes, 0),
    reset: () => void requests.splice(0),
    stop: () => void server.stop(true),
  };
}

const expiry = () => new Date(Date.now() + 3600_000).toISOString();

/** Answers every credential protocol the storage clients speak, with valid-looking credentials. */
export function startCredentialServer(): CaptureServer {
  return startCapture((req) => {
    const path = new URL(req.url).pathname;
    if (path === "/sts/") {
      return new Response(
        `<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>ASIAPLATFORM</AccessKeyId><SecretAccessKey>platform-secret</SecretAccessKey><SessionToken>platform-session</SessionToken><Expiration>${expiry()}</Expiration></Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>`,
        { headers: { "content-type": "text/xml" } },
      );
    }
    const awsJson = () => Response.json({ Code: "Success", AccessKeyId: "ASIAPLATFORM", SecretAccessKey: "platform-secret", Token: "platform-session", Expiration: expiry() });
    if (path === "/container-credentials") return awsJson();
    if (path === "/latest/api/token") return new Response("imds-session-token");
    if (path === "/latest/meta-data/iam/security-credentials/") return new Response("platform-role");
    if (path === "/latest/meta-data/iam/security-credentials/platform-role") return awsJson();
    if (path.startsWith("/computeMetadata/v1/instance/service-accounts/default/token")) {
      return Response.json({ access_token: "ya29.platform-workload-identity", expires_in: 3600 }, { headers: { "metadata-flavor": "Google" } });
    }
    if (path === "/computeMetadata/v1/instance/service-accounts/default/email") return new Response("platform@example.iam.gserviceaccount.com", { headers: { "metadata-flavor": "Google" } });
    if (path === "/google-token") return Response.json({ access_token: "ya29.platform-service-account", expires_in: 3600 });
    if (path.endsWith("/oauth2/v2.0/token")) return Response.json({ access_token: "eyJ.platform-entra.token", expires_in: 3600 });
    return new Response("unknown credential path", { status: 404 });
  });
}

export interface CredentialSource {
  name: string;
  backend: "s3" | "gcs" | "azureStorage";
  env: Record<string, string>;
}

/** Every credential source of every cloud backend, each configured to succeed against the credential server. */
export function credentialSources(cred: CaptureServer): CredentialSource[] {
  const dir = mkdtempSync(join(tmpdir(), "opendepot-security-"));
  const tokenFile = join(dir, "projected-token");
  writeFileSync(tokenFile, "projected.service-account.token");
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const keyFile = join(dir, "sa.json");
  writeFileSync(
    keyFile,
    JSON.stringify({ type: "service_account", client_email: "platform@example.iam.gserviceaccount.com", private_key: privateKey.export({ type: "pkcs8", format: "pem" }).toString(), token_uri: `${cred.url}/google-token` }),
  );
  const noImds = { AWS_EC2_METADATA_DISABLED: "true" };
  return [
    { name: "AWS static keys", backend: "s3", env: { AWS_ACCESS_KEY_ID: "AKIAPLATFORM", AWS_SECRET_ACCESS_KEY: "platform-secret" } },
    { name: "AWS IRSA (web identity)", backend: "s3", env: { ...noImds, AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile, AWS_ROLE_ARN: "arn:aws:iam::123456789012:role/platform", AWS_ENDPOINT_URL_STS: `${cred.url}/sts` } },
    { name: "AWS EKS Pod Identity", backend: "s3", env: { ...noImds, AWS_CONTAINER_CREDENTIALS_FULL_URI: `${cred.url}/container-credentials`, AWS_CONTAINER_AUTHORIZATION_TOKEN: "pod-identity-token" } },
    { name: "AWS EC2 IMDSv2", backend: "s3", env: { AWS_EC2_METADATA_SERVICE_ENDPOINT: cred.url } },
    { name: "GCP service-account key", backend: "gcs", env: { GOOGLE_APPLICATION_CREDENTIALS: keyFile } },
    { name: "GKE metadata server", backend: "gcs", env: { GCE_METADATA_HOST: cred.url.replace("http://", "") } },
    { name: "Azure shared key", backend: "azureStorage", env: { AZURE_STORAGE_KEY: Buffer.from("platform-account-key-0123456789").toString("base64") } },
    {
      name: "Azure Entra workload identity",
      backend: "azureStorage",
      env: { AZURE_FEDERATED_TOKEN_FILE: tokenFile, AZURE_CLIENT_ID: "00000000-0000-0000-0000-000000000001", AZURE_TENANT_ID: "platform-tenant", AZURE_AUTHORITY_HOST: `${cred.url}/` },
    },
  ];
}

/** Counts a suite prints at the end: what an attacker tried and what the registry refused. */
export class SecurityTally {
  tried = 0;
  refused = 0;
  bytesLeaked = 0;
  constructor(readonly suite: string) {}
  print(extra: Record<string, number> = {}): void {
    const more = Object.entries(extra).map(([k, v]) => ` ${k}=${v}`).join("");
    console.log(`[security] ${this.suite}: requests tried=${this.tried} refusals=${this.refused} bytes to attacker=${this.bytesLeaked}${more}`);
  }
}
