// Small response helpers shared by the routes. Error bodies use the registry protocol's `{"errors": [...]}` shape.
const JSON_HEADERS = { "content-type": "application/json" } as const;

/** On every response the listener sends (set as the fast path builds its responses, added by the listener otherwise). */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
});

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { ...JSON_HEADERS, ...headers } });
}

/** A pre-serialised JSON body (the index memoises these). */
export function jsonText(body: string, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(body, { status, headers: { ...JSON_HEADERS, ...headers } });
}

export function errorResponse(status: number, message: string, headers: Record<string, string> = {}): Response {
  return json({ errors: [message] }, status, headers);
}

export const notFound = (what: string) => errorResponse(404, `${what} not found`);

/** A memo that forgets everything once it holds `max` entries: bounded memory, no bookkeeping per hit. */
export class BoundedMemo<T> {
  private readonly entries = new Map<string, T>();
  private bytes = 0;
  /** At most `max` entries and about `maxBytes` of keys and string values; a key over `maxKeyBytes` is not kept. */
  constructor(
    private readonly max: number,
    private readonly maxBytes = 32 * 1024 * 1024,
    private readonly maxKeyBytes = 16 * 1024,
  ) {}
  get(key: string): T | undefined {
    return this.entries.get(key);
  }
  set(key: string, value: T): void {
    if (key.length > this.maxKeyBytes) return;
    const size = key.length + (typeof value === "string" ? value.length : 0);
    if (this.entries.size >= this.max || this.bytes + size > this.maxBytes) {
      this.entries.clear();
      this.bytes = 0;
    }
    if (this.entries.has(key)) this.bytes -= key.length + (typeof this.entries.get(key) === "string" ? (this.entries.get(key) as string).length : 0);
    this.entries.set(key, value);
    this.bytes += size;
  }
  get size(): number {
    return this.entries.size;
  }
}

/**
 * A request refused before its handler ran (by a route hook: a 401/403 from the gatekeeper, a 403 for an invalid
 * signed URL, a 404 for an unknown module): the app answers with `response` as it is.
 */
export class Refusal extends Error {
  override readonly name = "Refusal";
  constructor(readonly response: Response) {
    super(`refused with ${response.status}`);
  }
}
