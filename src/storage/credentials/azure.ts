// Azure Storage credentials. v0.9's StorageConfig has no key field, so a shared key comes from the environment
// (AZURE_STORAGE_KEY or a connection string); the keyless path is Microsoft Entra workload identity (the federated
// token projected into the pod, exchanged for an access token with a client assertion).
import { RefreshingCache } from "./cache.ts";
import { credentialError, credentialPolicy, credentialRequest, parseJsonObject, readTokenFile, requireString, type CredentialOptions, type Env } from "./http.ts";
import type { SharedKey } from "../azure-sign.ts";

export interface AccessToken {
  token: string;
  expiresAt: Date;
}

export interface TokenProvider {
  readonly source: string;
  get(): Promise<AccessToken>;
  invalidate?(): void;
}

export type AzureCredential = { kind: "sharedKey"; key: SharedKey; source: string } | { kind: "token"; provider: TokenProvider };

export const STORAGE_SCOPE = "https://storage.azure.com/.default";

/** `AccountName=…;AccountKey=…;…` → fields (keys case-insensitive, as the SDKs read them). */
export function parseConnectionString(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of s.split(";")) {
    const i = part.indexOf("=");
    if (i > 0) out[part.slice(0, i).trim().toLowerCase()] = part.slice(i + 1).trim();
  }
  return out;
}

const isBase64Key = (k: string) => /^[A-Za-z0-9+/]+={0,2}$/.test(k) && k.length >= 16 && k.length <= 200;

/** Shared key → workload identity; an error lists what was tried. */
export function azureCredentialFromEnv(accountName: string, options: CredentialOptions = {}): AzureCredential {
  const env: Env = options.env ?? process.env;
  const tried: string[] = [];
  const envAccount = env.AZURE_STORAGE_ACCOUNT;
  if (env.AZURE_STORAGE_KEY) {
    if (envAccount && envAccount !== accountName) {
      tried.push(`AZURE_STORAGE_KEY (ignored: AZURE_STORAGE_ACCOUNT=${envAccount} is not ${accountName})`);
    } else if (!isBase64Key(env.AZURE_STORAGE_KEY)) {
      throw credentialError("AZURE_STORAGE_KEY", "not a base64 account key");
    } else {
      return { kind: "sharedKey", key: { accountName, accountKey: env.AZURE_STORAGE_KEY }, source: "AZURE_STORAGE_KEY" };
    }
  } else tried.push("AZURE_STORAGE_KEY (unset)");

  if (env.AZURE_STORAGE_CONNECTION_STRING) {
    const cs = parseConnectionString(env.AZURE_STORAGE_CONNECTION_STRING);
    if (cs.accountname === accountName && cs.accountkey && isBase64Key(cs.accountkey)) {
      return { kind: "sharedKey", key: { accountName, accountKey: cs.accountkey }, source: "AZURE_STORAGE_CONNECTION_STRING" };
    }
    tried.push(`AZURE_STORAGE_CONNECTION_STRING (no AccountKey for account ${accountName})`);
  } else tried.push("AZURE_STORAGE_CONNECTION_STRING (unset)");

  if (env.AZURE_FEDERATED_TOKEN_FILE && env.AZURE_CLIENT_ID && env.AZURE_TENANT_ID) {
    return { kind: "token", provider: workloadIdentity(options) };
  }
  tried.push("workload identity (AZURE_FEDERATED_TOKEN_FILE/AZURE_CLIENT_ID/AZURE_TENANT_ID unset)");
  return {
    kind: "token",
    provider: {
      source: "none",
      get: async () => Promise.reject(credentialError(`azure credentials for account ${accountName}`, `none found; tried: ${tried.join("; ")}`)),
    },
  };
}

/** Entra workload identity: client credentials grant with the projected service-account token as assertion. */
export function workloadIdentity(options: CredentialOptions & { scope?: string } = {}): TokenProvider {
  const env: Env = options.env ?? process.env;
  const policy = credentialPolicy(options);
  const tenant = env.AZURE_TENANT_ID ?? "";
  const clientId = env.AZURE_CLIENT_ID ?? "";
  const tokenFile = env.AZURE_FEDERATED_TOKEN_FILE ?? "";
  if (!/^[\w.-]{1,128}$/.test(tenant)) throw credentialError("workload identity", `invalid AZURE_TENANT_ID ${JSON.stringify(tenant)}`);
  const authority = (env.AZURE_AUTHORITY_HOST || "https://login.microsoftonline.com/").replace(/\/*$/, "/");
  const url = `${authority}${tenant}/oauth2/v2.0/token`;
  const source = `workload identity (client ${clientId}, token file ${tokenFile}, ${url})`;
  const cache = new RefreshingCache<AccessToken & { expiresAt: Date }>(async () => {
    // The projected token is rotated by the kubelet: read it for every exchange.
    const assertion = await readTokenFile(source, tokenFile);
    const body = new URLSearchParams({
      client_id: clientId,
      scope: options.scope ?? STORAGE_SCOPE,
      grant_type: "client_credentials",
      client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
      client_assertion: assertion,
    });
    const { text } = await credentialRequest(policy, source, () =>
      new Request(url, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: body.toString() }),
    );
    const obj = parseJsonObject(source, text);
    const token = requireString(source, obj, "access_token");
    const expiresIn = Number(obj.expires_in);
    if (!Number.isFinite(expiresIn) || expiresIn <= 0) throw credentialError(source, "response lacks a valid expires_in");
    return { token, expiresAt: new Date(Date.now() + expiresIn * 1000) };
  });
  return { source, get: () => cache.get(), invalidate: () => cache.invalidate() };
}
