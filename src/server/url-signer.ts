// Download URLs handed to Terraform are signed: Terraform sends no credentials to artifact URLs, so possession of
// a fresh, untampered URL is the authorisation. The HMAC covers the path, the expiry and the artifact's checksum,
// so a URL stops working when it expires or when the artifact it was minted for is replaced.
// Rotation: the first key signs; the previous keys (the rest of the key file) are still accepted for one TTL after
// the signer was created, which is as long as any URL they signed can live, and never after.
import { createHmac, timingSafeEqual } from "node:crypto";
import { recordSignedUrlRefusal, type UrlRefusal } from "../metrics/server.ts";

const REFUSALS: Record<UrlRefusal, string> = {
  unsigned: "download URL is not signed",
  malformed: "download URL signature is malformed",
  invalid: "download URL signature is invalid",
  expired: "download URL has expired",
};

/** What the check reads of a URL's query: its parameters by name (first occurrence), as URLSearchParams.get. */
export type QueryParams = Pick<URLSearchParams, "get">;

export class UrlSigner {
  private readonly key: Uint8Array;
  private readonly previous: Uint8Array[];
  /** Previous keys are refused from this time on (ms). */
  readonly previousAcceptedUntil: number;

  constructor(
    keys: Uint8Array | Uint8Array[],
    readonly ttlSeconds: number,
    private readonly now: () => number = () => Date.now(),
  ) {
    const [key, ...previous] = Array.isArray(keys) ? keys : [keys];
    if (!key || [key, ...previous].some((k) => k.length < 32)) throw new Error("URL signing key must be at least 32 bytes");
    if (!(ttlSeconds > 0)) throw new Error("URL TTL must be positive");
    this.key = key;
    this.previous = previous;
    this.previousAcceptedUntil = this.now() + (ttlSeconds + this.windowSeconds()) * 1000;
  }

  private mac(path: string, expires: number, binding: string, key = this.key): string {
    return createHmac("sha256", key).update(`${path}\n${expires}\n${binding}`).digest("base64url");
  }

  private windowSeconds(): number {
    return Math.max(1, Math.min(60, Math.floor(this.ttlSeconds / 10)));
  }

  /**
   * The expiry for URLs minted now: at least ttlSeconds away, rounded up to a window of a tenth of the TTL (at most
   * a minute), so URLs minted within one window are identical and responses carrying them can be memoised.
   */
  expiresAt(): number {
    const window = this.windowSeconds();
    return Math.ceil((Math.floor(this.now() / 1000) + this.ttlSeconds) / window) * window;
  }

  /** `path?expires=...&signature=...` valid until `expires`, bound to `binding` (the artifact checksum). */
  sign(path: string, binding: string, expires = this.expiresAt()): string {
    return `${path}?expires=${expires}&signature=${this.mac(path, expires, binding)}`;
  }

  /** Why the URL is not acceptable, or undefined when it is. */
  check(path: string, query: QueryParams, binding: string): string | undefined {
    const refusal = this.refusal(path, query, binding);
    if (!refusal) return undefined;
    recordSignedUrlRefusal(refusal);
    return REFUSALS[refusal];
  }

  private refusal(path: string, query: QueryParams, binding: string): UrlRefusal | undefined {
    const expiresText = query.get("expires");
    const signature = query.get("signature");
    if (!expiresText || !signature) return "unsigned";
    if (!/^\d{1,12}$/.test(expiresText) || signature.length > 128) return "malformed";
    const given = Buffer.from(signature);
    const matches = (key: Uint8Array) => {
      const expected = Buffer.from(this.mac(path, Number(expiresText), binding, key));
      return given.length === expected.length && timingSafeEqual(given, expected);
    };
    const previousOk = this.now() < this.previousAcceptedUntil && this.previous.some(matches);
    if (!matches(this.key) && !previousOk) return "invalid";
    if (Number(expiresText) * 1000 < this.now()) return "expired";
    return undefined;
  }
}
