// GitHub App authentication: an RS256 app JWT buys an installation token, which is cached until five minutes
// before it expires (v0.9 minted one per reconcile and burned the App's rate limit).
import { createHash, createPrivateKey } from "node:crypto";
import { type FetchLike, UpstreamError, UpstreamHttp, type UpstreamHttpOptions } from "./http.ts";

/** Name of the Secret v0.9 reads the App credentials from. */
export const GITHUB_APP_SECRET_NAME = "opendepot-github-application-secret";

export interface GitHubAppCredentials {
  appId: string;
  installationId: string;
  /** PEM, PKCS#1 (`RSA PRIVATE KEY`) or PKCS#8 (`PRIVATE KEY`). */
  privateKeyPem: string;
}

export class GitHubAppConfigError extends Error {
  override readonly name = "GitHubAppConfigError";
}

type SecretValue = string | Uint8Array | undefined;

function text(v: SecretValue): string | undefined {
  if (v === undefined) return undefined;
  return (typeof v === "string" ? v : new TextDecoder().decode(v)).trim();
}

function base64Decoded(s: string): string | undefined {
  if (!/^[A-Za-z0-9+/=\s_-]+$/.test(s)) return undefined;
  const out = Buffer.from(s, "base64").toString("utf8");
  return out.length > 0 ? out : undefined;
}

/** A numeric ID as given, or as base64 of one (when the caller passes a Secret's raw `data`). */
function numericId(v: SecretValue, key: string): string {
  const s = text(v);
  if (!s) throw new GitHubAppConfigError(`GitHub App secret ${GITHUB_APP_SECRET_NAME} is missing key ${key}`);
  if (/^\d+$/.test(s)) return s;
  const decoded = base64Decoded(s)?.trim();
  if (decoded && /^\d+$/.test(decoded)) return decoded;
  throw new GitHubAppConfigError(`GitHub App secret key ${key} must be a numeric ID`);
}

/**
 * Reads `githubAppID`, `githubInstallID`, `githubPrivateKey` from Secret data (decoded values). v0.9 stores the
 * key as base64 of a PEM, so the Secret's data is double-base64; a plain PEM is accepted too, and so is one more
 * layer of base64 in case the caller hands over the Secret's raw `data` map.
 */
export function gitHubAppCredentialsFromSecret(data: Record<string, SecretValue>): GitHubAppCredentials {
  const appId = numericId(data.githubAppID, "githubAppID");
  const installationId = numericId(data.githubInstallID, "githubInstallID");
  let key = text(data.githubPrivateKey);
  if (!key) throw new GitHubAppConfigError(`GitHub App secret ${GITHUB_APP_SECRET_NAME} is missing key githubPrivateKey`);
  for (let i = 0; i < 2 && !key.startsWith("-----BEGIN"); i++) key = base64Decoded(key)?.trim() ?? key;
  if (!key.startsWith("-----BEGIN")) {
    throw new GitHubAppConfigError("GitHub App secret key githubPrivateKey is neither a PEM private key nor base64 of one");
  }
  return { appId, installationId, privateKeyPem: key };
}

/** Imports an RSA private key for RS256; PKCS#1 is converted because jose only imports PKCS#8. */
export async function importAppPrivateKey(pem: string): Promise<CryptoKey> {
  // jose is loaded when a GitHub App key is first read, not with the sources layer.
  const { importPKCS8 } = await import("jose");
  let pkcs8 = pem;
  try {
    if (!pem.includes("-----BEGIN PRIVATE KEY-----")) {
      pkcs8 = createPrivateKey({ key: pem, format: "pem" }).export({ type: "pkcs8", format: "pem" }).toString();
    }
    return await importPKCS8(pkcs8, "RS256");
  } catch (cause) {
    throw new GitHubAppConfigError(`GitHub App private key could not be read: ${(cause as Error).message}`, { cause });
  }
}

/** The App JWT: issued a minute in the past (GitHub's clock-skew advice), valid nine minutes (limit is ten). */
export async function createAppJwt(appId: string, key: CryptoKey, nowSeconds: number): Promise<string> {
  const { SignJWT } = await import("jose");
  return new SignJWT({})
    .setProtectedHeader({ alg: "RS256", typ: "JWT" })
    .setIssuedAt(nowSeconds - 60)
    .setExpirationTime(nowSeconds + 9 * 60)
    .setIssuer(appId)
    .sign(key);
}

export interface GitHubAppTokenSourceOptions extends Partial<Omit<UpstreamHttpOptions, "service" | "fetch">> {
  baseUrl?: string;
  fetch?: FetchLike;
  /** Refresh this long before expiry (default five minutes). */
  refreshMarginMs?: number;
}

interface CachedToken {
  token: string;
  expiresAt: number;
}

export class GitHubAppTokenSource {
  readonly baseUrl: string;
  private readonly http: UpstreamHttp;
  private readonly now: () => number;
  private readonly margin: number;
  private key?: Promise<CryptoKey>;
  private cached?: CachedToken;
  private inflight?: Promise<CachedToken>;
  /** Tokens minted so far (tests and metrics). */
  minted = 0;

  constructor(readonly credentials: GitHubAppCredentials, opts: GitHubAppTokenSourceOptions = {}) {
    this.baseUrl = (opts.baseUrl ?? process.env.OPENDEPOT_GITHUB_API_URL ?? "https://api.github.com").replace(/\/+$/, "");
    this.http = new UpstreamHttp({ ...opts, service: "GitHub" });
    this.now = opts.now ?? Date.now;
    this.margin = opts.refreshMarginMs ?? 5 * 60_000;
  }

  /** A valid installation token; concurrent callers share one mint. */
  async token(): Promise<string> {
    if (this.cached && this.cached.expiresAt - this.margin > this.now()) return this.cached.token;
    this.inflight ??= this.mint().finally(() => {
      this.inflight = undefined;
    });
    this.cached = await this.inflight;
    return this.cached.token;
  }

  /** For `new GitHubClient({ token: source.provider() })`. */
  provider(): () => Promise<string | undefined> {
    return () => this.token();
  }

  private async mint(): Promise<CachedToken> {
    this.key ??= importAppPrivateKey(this.credentials.privateKeyPem);
    let key: CryptoKey;
    try {
      key = await this.key;
    } catch (err) {
      this.key = undefined;
      throw err;
    }
    const jwt = await createAppJwt(this.credentials.appId, key, Math.floor(this.now() / 1000));
    const url = `${this.baseUrl}/app/installations/${encodeURIComponent(this.credentials.installationId)}/access_tokens`;
    let value: { token?: unknown; expires_at?: unknown };
    try {
      ({ value } = await this.http.json<{ token?: unknown; expires_at?: unknown }>(url, {
        method: "POST",
        headers: { authorization: `Bearer ${jwt}`, accept: "application/vnd.github+json", "x-github-api-version": "2022-11-28", "user-agent": "opendepot" },
      }));
    } catch (err) {
      if (err instanceof UpstreamError && (err.kind === "Unauthorized" || err.kind === "NotFound")) {
        throw new UpstreamError(err.service, "Unauthorized", err.url,
          `GitHub App ${this.credentials.appId} could not get a token for installation ${this.credentials.installationId}: ${err.message}`,
          err.status, undefined, { cause: err });
      }
      throw err;
    }
    const expiresAt = typeof value.expires_at === "string" ? Date.parse(value.expires_at) : NaN;
    if (typeof value.token !== "string" || !value.token || Number.isNaN(expiresAt)) {
      throw this.http.error("Invalid", url, "installation token response lacks token or expires_at");
    }
    this.minted++;
    return { token: value.token, expiresAt };
  }
}

const sources = new Map<string, GitHubAppTokenSource>();

/**
 * One token source per (API, App, installation, key) for the whole process, so controllers that build a client
 * per reconcile still reuse the cached token.
 */
export function sharedGitHubAppTokenSource(credentials: GitHubAppCredentials, opts: GitHubAppTokenSourceOptions = {}): GitHubAppTokenSource {
  const baseUrl = (opts.baseUrl ?? process.env.OPENDEPOT_GITHUB_API_URL ?? "https://api.github.com").replace(/\/+$/, "");
  const id = createHash("sha256")
    .update(JSON.stringify([baseUrl, credentials.appId, credentials.installationId, credentials.privateKeyPem]))
    .digest("hex");
  let source = sources.get(id);
  if (!source) {
    source = new GitHubAppTokenSource(credentials, { ...opts, baseUrl });
    sources.set(id, source);
  }
  return source;
}
