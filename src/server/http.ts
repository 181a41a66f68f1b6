// Small response helpers shared by the routes. Error bodies use the registry protocol's `{"errors": [...]}` shape.
const JSON_HEADERS = { "content-type": "application/json" } as const;

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
