// The issuer's OpenID discovery document: where its keys, authorization and token endpoints are. Fetched once at
// startup (with retries, since the IdP may start alongside us); the issuer it names must be exactly ours.
import { readBounded, redactUrl } from "../../kits/http.ts";
import { sleep } from "../../kits/sleep.ts";

export interface OidcDiscovery {
  issuer: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  jwksUri: string;
  deviceAuthorizationEndpoint?: string;
}

export type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

const MAX_DOCUMENT_BYTES = 256 * 1024;

export class DiscoveryError extends Error {}

/**
 * GET a JSON document with a timeout covering the whole exchange (headers and body: an idle IdP cannot hold us)
 * and a size cap; the IdP is trusted, but not to be small or quick.
 */
export async function fetchJson(fetchFn: Fetch, url: string, timeoutMs: number): Promise<unknown> {
  const response = await fetchFn(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: "application/json" }, redirect: "error" });
  if (!response.ok) throw new DiscoveryError(`GET ${url}: HTTP ${response.status}`);
  // Counted as it arrives: a chunked body or a wrong Content-Length cannot make us buffer more than the cap.
  const bytes = await readBounded(response, MAX_DOCUMENT_BYTES, () => new DiscoveryError(`GET ${redactUrl(url)}: document larger than ${MAX_DOCUMENT_BYTES} bytes`));
  const text = new TextDecoder().decode(bytes);
  try {
    return JSON.parse(text);
  } catch {
    throw new DiscoveryError(`GET ${url}: not JSON`);
  }
}

export function isHttpUrl(value: unknown): value is string {
  if (typeof value !== "string") return false;
  try {
    const u = new URL(value);
    return (u.protocol === "https:" || u.protocol === "http:") && !u.username && !u.password;
  } catch {
    return false;
  }
}

export async function discover(issuer: string, options: { fetch?: Fetch; timeoutMs?: number; attempts?: number; retryDelayMs?: number; onRetry?: (error: Error, attempt: number) => void } = {}): Promise<OidcDiscovery> {
  const fetchFn = options.fetch ?? fetch;
  const attempts = options.attempts ?? 5;
  const url = `${issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`;
  let lastError: Error = new DiscoveryError("no attempt made");
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      return parseDiscovery(issuer, await fetchJson(fetchFn, url, options.timeoutMs ?? 5000));
    } catch (e) {
      lastError = e instanceof Error ? e : new Error(String(e));
      if (e instanceof DiscoveryError && /issuer|missing/.test(e.message)) break; // a wrong document won't fix itself
      options.onRetry?.(lastError, attempt);
      if (attempt < attempts) await sleep((options.retryDelayMs ?? 1000) * attempt);
    }
  }
  throw new DiscoveryError(`OIDC discovery for ${issuer} failed: ${lastError.message}`);
}

export function parseDiscovery(issuer: string, doc: unknown): OidcDiscovery {
  if (!doc || typeof doc !== "object") throw new DiscoveryError("discovery document is not an object");
  const d = doc as Record<string, unknown>;
  // OpenID Connect Discovery §4.3: the issuer in the document must be identical to the one we were configured with.
  if (d.issuer !== issuer) throw new DiscoveryError(`discovery document names issuer ${JSON.stringify(d.issuer)}, expected ${JSON.stringify(issuer)}`);
  for (const field of ["authorization_endpoint", "token_endpoint", "jwks_uri"]) {
    if (!isHttpUrl(d[field])) throw new DiscoveryError(`discovery document is missing a valid ${field}`);
  }
  return {
    issuer,
    authorizationEndpoint: d.authorization_endpoint as string,
    tokenEndpoint: d.token_endpoint as string,
    jwksUri: d.jwks_uri as string,
    ...(isHttpUrl(d.device_authorization_endpoint) ? { deviceAuthorizationEndpoint: d.device_authorization_endpoint } : {}),
  };
}
