// The Explorer's cookies, sealed with AES-256-GCM under a key derived (HKDF-SHA256) from the registry's
// URL-signing key: every replica already shares that key, so sessions survive a hop between replicas, and a
// cookie sealed for one purpose ("session", "login") never opens as another. Tampered, foreign or expired
// cookies open as undefined.
const encoder = new TextEncoder();
const MAX_COOKIE_CHARS = 3800;

export class CookieSealer {
  private constructor(private readonly keys: Map<string, CryptoKey>) {}

  static async fromUrlSigningKey(urlKey: Uint8Array, purposes: string[] = ["session", "login"]): Promise<CookieSealer> {
    const base = await crypto.subtle.importKey("raw", new Uint8Array(urlKey), "HKDF", false, ["deriveKey"]);
    const keys = new Map<string, CryptoKey>();
    for (const purpose of purposes) {
      const info = encoder.encode(`opendepot-ui-cookie:${purpose}:v1`);
      keys.set(purpose, await crypto.subtle.deriveKey({ name: "HKDF", hash: "SHA-256", salt: encoder.encode("opendepot-ui"), info }, base, { name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]));
    }
    return new CookieSealer(keys);
  }

  /** base64url(iv ‖ ciphertext) of `{ v: value, exp }`, or undefined when it would not fit in a cookie. */
  async seal(purpose: string, value: unknown, ttlSeconds: number): Promise<string | undefined> {
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const body = encoder.encode(JSON.stringify({ v: value, exp: Math.floor(Date.now() / 1000) + ttlSeconds }));
    const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: encoder.encode(purpose) }, this.key(purpose), body));
    const out = Buffer.concat([iv, sealed]).toString("base64url");
    return out.length <= MAX_COOKIE_CHARS ? out : undefined;
  }

  async open<T>(purpose: string, cookie: string | undefined): Promise<T | undefined> {
    if (!cookie || cookie.length > MAX_COOKIE_CHARS || !/^[A-Za-z0-9_-]+$/.test(cookie)) return undefined;
    const bytes = Buffer.from(cookie, "base64url");
    if (bytes.length < 12 + 16) return undefined;
    try {
      const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: bytes.subarray(0, 12), additionalData: encoder.encode(purpose) }, this.key(purpose), bytes.subarray(12));
      const { v, exp } = JSON.parse(new TextDecoder().decode(plain)) as { v: T; exp: number };
      return typeof exp === "number" && exp > Date.now() / 1000 ? v : undefined;
    } catch {
      return undefined;
    }
  }

  private key(purpose: string): CryptoKey {
    const k = this.keys.get(purpose);
    if (!k) throw new Error(`no cookie key for purpose ${purpose}`);
    return k;
  }
}

export function readCookie(request: Request, name: string): string | undefined {
  const header = request.headers.get("cookie");
  if (!header || header.length > 16 * 1024) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export interface CookieOptions {
  maxAge: number;
  secure: boolean;
  path?: string;
  httpOnly?: boolean;
}

export function setCookie(name: string, value: string, o: CookieOptions): string {
  return `${name}=${value}; Path=${o.path ?? "/"}; Max-Age=${o.maxAge}; SameSite=Lax${o.httpOnly === false ? "" : "; HttpOnly"}${o.secure ? "; Secure" : ""}`;
}

export const clearCookie = (name: string, o: { secure: boolean; path?: string }) => setCookie(name, "", { maxAge: 0, ...o });
