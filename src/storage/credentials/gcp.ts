// Google Cloud credentials for GCS: a service-account key (JWT bearer grant, signed with jose) or the metadata
// server (GKE workload identity / GCE). Signing for V4 URLs uses the key when there is one, else IAM signBlob.
import { createPrivateKey, createSign, type KeyObject } from "node:crypto";
import { runtime } from "../../runtime/index.ts";
import type { BlobSigner } from "../gcs-sign.ts";
import { RefreshingCache } from "./cache.ts";
import type { AccessToken } from "./azure.ts";
import { credentialError, credentialPolicy, credentialRequest, parseJsonObject, requireString, type CredentialOptions, type Env } from "./http.ts";

export const STORAGE_RW_SCOPE = "https://www.googleapis.com/auth/devstorage.read_write";

export interface GcpCredentials {
  readonly source: string;
  token(): Promise<AccessToken>;
  signer(): Promise<BlobSigner>;
  invalidate?(): void;
}

export interface ServiceAccountKey {
  type: "service_account";
  client_email: string;
  private_key: string;
  private_key_id?: string;
  token_uri?: string;
}

export interface GcpOptions extends CredentialOptions {
  /** IAM Credentials API base (signBlob), default https://iamcredentials.googleapis.com. */
  iamEndpoint?: string;
  scope?: string;
}

export function serviceAccountSigner(email: string, privateKeyPem: string): BlobSigner {
  let key: KeyObject | undefined;
  return {
    email,
    async sign(data) {
      key ??= createPrivateKey(privateKeyPem);
      return createSign("RSA-SHA256").update(data).sign(key);
    },
  };
}

export function parseServiceAccountKey(source: string, text: string): ServiceAccountKey {
  const obj = parseJsonObject(source, text);
  if (obj.type !== "service_account") throw credentialError(source, `unsupported credential type ${JSON.stringify(obj.type)} (only service_account keys)`);
  const client_email = requireString(source, obj, "client_email");
  const private_key = requireString(source, obj, "private_key");
  const token_uri = typeof obj.token_uri === "string" ? obj.token_uri : undefined;
  const private_key_id = typeof obj.private_key_id === "string" ? obj.private_key_id : undefined;
  return { type: "service_account", client_email, private_key, ...(token_uri ? { token_uri } : {}), ...(private_key_id ? { private_key_id } : {}) };
}

function tokenFromJson(source: string, text: string): AccessToken {
  const obj = parseJsonObject(source, text);
  const token = requireString(source, obj, "access_token");
  const expiresIn = Number(obj.expires_in);
  if (!Number.isFinite(expiresIn) || expiresIn <= 0) throw credentialError(source, "token response lacks a valid expires_in");
  return { token, expiresAt: new Date(Date.now() + expiresIn * 1000) };
}

export function serviceAccountCredentials(key: ServiceAccountKey, options: GcpOptions = {}, origin = "service account key"): GcpCredentials {
  const policy = credentialPolicy(options);
  const tokenUri = key.token_uri ?? "https://oauth2.googleapis.com/token";
  const source = `${origin} (${key.client_email}, ${tokenUri})`;
  const cache = new RefreshingCache<AccessToken>(async () => {
    // jose is loaded at the first token, not with the storage layer (most deployments never need it).
    const { SignJWT, importPKCS8 } = await import("jose");
    let signingKey: CryptoKey;
    try {
      signingKey = await importPKCS8(key.private_key, "RS256");
    } catch (e) {
      throw credentialError(source, "private_key is not a PKCS#8 RSA key", e);
    }
    const now = Math.floor(Date.now() / 1000);
    const assertion = await new SignJWT({ scope: options.scope ?? STORAGE_RW_SCOPE })
      .setProtectedHeader({ alg: "RS256", typ: "JWT", ...(key.private_key_id ? { kid: key.private_key_id } : {}) })
      .setIssuer(key.client_email)
      .setAudience(tokenUri)
      .setIssuedAt(now)
      .setExpirationTime(now + 3600)
      .sign(signingKey);
    const body = new URLSearchParams({ grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer", assertion });
    const { text } = await credentialRequest(policy, source, () =>
      new Request(tokenUri, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: body.toString() }),
    );
    return tokenFromJson(source, text);
  });
  const signer = serviceAccountSigner(key.client_email, key.private_key);
  return { source, token: () => cache.get(), signer: async () => signer, invalidate: () => cache.invalidate() };
}

/** The metadata server: GKE workload identity or the GCE instance's service account. */
export function metadataServerCredentials(options: GcpOptions = {}): GcpCredentials {
  const env: Env = options.env ?? process.env;
  const policy = credentialPolicy(options);
  const host = env.GCE_METADATA_HOST || env.GCE_METADATA_IP || "metadata.google.internal";
  const base = `http://${host}/computeMetadata/v1/instance/service-accounts/default`;
  const source = `metadata server (${host})`;
  const get = async (path: string) => {
    const { text, res } = await credentialRequest(policy, source, () => new Request(`${base}/${path}`, { headers: { "metadata-flavor": "Google" } }));
    // Anything that does not answer as the metadata server is not trusted with our tokens.
    if (res.headers.get("metadata-flavor") !== "Google") throw credentialError(source, "response lacks Metadata-Flavor: Google");
    return text;
  };
  const cache = new RefreshingCache<AccessToken>(async () => tokenFromJson(source, await get(`token?scopes=${encodeURIComponent(options.scope ?? STORAGE_RW_SCOPE)}`)));
  let email: Promise<string> | undefined;
  const iam = (options.iamEndpoint ?? "https://iamcredentials.googleapis.com").replace(/\/+$/, "");
  const signer: BlobSigner & { ready(): Promise<BlobSigner> } = {
    email: "",
    async ready() {
      email ??= get("email").then((e) => {
        const v = e.trim();
        if (!/^[^@\s/]+@[^@\s/]+$/.test(v)) throw credentialError(source, "invalid service account e-mail");
        return v;
      });
      email.catch(() => (email = undefined));
      signer.email = await email;
      return signer;
    },
    async sign(data) {
      const who = (await signer.ready()).email;
      const iamSource = `IAM signBlob for ${who} (${iam})`;
      const { token } = await cache.get();
      const { text } = await credentialRequest(policy, iamSource, () =>
        new Request(`${iam}/v1/projects/-/serviceAccounts/${encodeURIComponent(who)}:signBlob`, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify({ payload: Buffer.from(data).toString("base64") }),
        }),
      );
      const signed = requireString(iamSource, parseJsonObject(iamSource, text), "signedBlob");
      const bytes = Buffer.from(signed, "base64");
      if (bytes.byteLength < 128 || bytes.byteLength > 1024) throw credentialError(iamSource, "signedBlob is not an RSA signature");
      return new Uint8Array(bytes);
    },
  };
  return { source, token: () => cache.get(), signer: () => signer.ready(), invalidate: () => cache.invalidate() };
}

/** GOOGLE_APPLICATION_CREDENTIALS (service-account key) → metadata server. */
export function gcpCredentialChain(options: GcpOptions = {}): GcpCredentials {
  const env: Env = options.env ?? process.env;
  const file = env.GOOGLE_APPLICATION_CREDENTIALS;
  if (file) {
    const source = `GOOGLE_APPLICATION_CREDENTIALS (${file})`;
    let inner: Promise<GcpCredentials> | undefined;
    const load = () =>
      (inner ??= runtime
        .readText(file)
        .catch((e: unknown) => {
          throw credentialError(source, `cannot read: ${e instanceof Error ? e.message : String(e)}`, e);
        })
        .then((text) => serviceAccountCredentials(parseServiceAccountKey(source, text), options, source))
        .catch((e: unknown) => {
          inner = undefined;
          throw e;
        }));
    return {
      source,
      token: async () => (await load()).token(),
      signer: async () => (await load()).signer(),
      invalidate: () => void inner?.then((c) => c.invalidate?.()),
    };
  }
  const metadata = metadataServerCredentials(options);
  return { ...metadata, source: `${metadata.source}; GOOGLE_APPLICATION_CREDENTIALS unset` };
}
