// The issuer's signing keys, cached. Keys are refreshed when they grow old (in the background, serving the cached
// set meanwhile) and when a token names a key we don't know — the issuer rotated — but at most once per
// `minRefreshIntervalMs`, so a flood of tokens with made-up key ids cannot turn us into a load generator against
// the IdP. A failed refresh keeps the last good keys. `generation` changes whenever the set of keys does, so
// caches of verified tokens can forget what a removed key vouched for.
import type { createLocalJWKSet, JSONWebKeySet, JWSHeaderParameters, CryptoKey } from "jose";
import type { Logger } from "../../log.ts";
import { fetchJson, type Fetch } from "./oidc-discovery.ts";

export interface JwksCacheOptions {
  fetch?: Fetch;
  log?: Logger;
  /** Minimum time between refreshes triggered by unknown key ids (default 10 s). */
  minRefreshIntervalMs?: number;
  /** Refresh in the background once the keys are this old (default 10 min). */
  maxAgeMs?: number;
  timeoutMs?: number;
  now?: () => number;
}

const MAX_KEYS = 100;

type Jose = typeof import("jose");
let jose: Jose | undefined;
let joseLoading: Promise<Jose> | undefined;
/** jose, imported on first use: deployments without OIDC never load it (it costs startup time and memory). */
export function loadJose(): Promise<Jose> {
  joseLoading ??= import("jose").then((m) => (jose = m));
  return joseLoading;
}
/** jose once a JwksCache has loaded it (every verifier is built on a loaded cache); throws before that. */
export function loadedJose(): Jose {
  if (!jose) throw new Error("jose is used before any JwksCache loaded it");
  return jose;
}

export class JwksCache {
  generation = 0;
  private resolver: ReturnType<typeof createLocalJWKSet> | undefined;
  private kids = "";
  private fetchedAt = 0;
  private lastAttemptAt = -Infinity;
  private inflight: Promise<void> | undefined;
  private readonly fetchFn: Fetch;
  private readonly now: () => number;

  constructor(
    readonly uri: string,
    private readonly options: JwksCacheOptions = {},
  ) {
    this.fetchFn = options.fetch ?? fetch;
    this.now = options.now ?? Date.now;
  }

  /** First load; throws when the keys cannot be fetched (startup should fail loudly, not serve 401s). */
  async load(): Promise<void> {
    await this.refresh();
    if (!this.resolver) throw new Error(`could not load signing keys from ${this.uri}`);
  }

  /** jose key resolver: the key the token's header names, refreshing once (rate-limited) if it is unknown. */
  readonly resolve = async (header: JWSHeaderParameters): Promise<CryptoKey> => {
    if (this.now() - this.fetchedAt > (this.options.maxAgeMs ?? 600_000)) void this.refresh().catch(() => {});
    try {
      return await this.lookup(header);
    } catch (e) {
      if (!(e instanceof loadedJose().errors.JWKSNoMatchingKey) || !this.mayRefresh()) throw e;
      await this.refresh();
      return this.lookup(header);
    }
  };

  private lookup(header: JWSHeaderParameters): Promise<CryptoKey> {
    if (!this.resolver) throw new (loadedJose().errors.JWKSNoMatchingKey)();
    return this.resolver(header);
  }

  private mayRefresh(): boolean {
    return this.now() - this.lastAttemptAt >= (this.options.minRefreshIntervalMs ?? 10_000);
  }

  /** One fetch at a time; concurrent callers share it. */
  refresh(): Promise<void> {
    this.inflight ??= this.fetchKeys().finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  private async fetchKeys(): Promise<void> {
    this.lastAttemptAt = this.now();
    const { createLocalJWKSet } = await loadJose();
    try {
      const doc = (await fetchJson(this.fetchFn, this.uri, this.options.timeoutMs ?? 5000)) as JSONWebKeySet;
      if (!doc || !Array.isArray(doc.keys)) throw new Error("not a JSON Web Key Set");
      // Only public signing keys; symmetric ("oct") keys in a public JWKS would let anyone forge HMAC tokens.
      const keys = doc.keys.filter((k) => k && typeof k === "object" && k.kty !== "oct" && (k.use === undefined || k.use === "sig")).slice(0, MAX_KEYS);
      this.resolver = createLocalJWKSet({ keys });
      this.fetchedAt = this.now();
      const kids = keys.map((k) => `${k.kid ?? ""}/${k.kty}/${k.n ?? k.x ?? ""}`).sort().join(",");
      if (kids !== this.kids) {
        this.kids = kids;
        this.generation++;
        this.options.log?.info("OIDC signing keys loaded", { jwksUri: this.uri, keys: keys.length, kids: keys.map((k) => k.kid).filter(Boolean) });
      }
    } catch (e) {
      this.options.log?.warn("OIDC signing keys could not be refreshed; keeping the previous ones", { jwksUri: this.uri, error: e instanceof Error ? e.message : String(e) });
      if (!this.resolver) throw e;
    }
  }
}
