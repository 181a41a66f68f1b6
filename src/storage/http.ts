// Shared plumbing of the cloud clients: timeouts, retries with backoff, bounded reads of (hostile) error bodies,
// and the mapping of HTTP outcomes to StorageError kinds the controllers act on. Body limits, idle timeouts and
// jittered backoff are the outbound HTTP kit's (src/kits/http.ts); this file gives them StorageError's vocabulary.
import { idleGuard, readPrefix, withRetries as retrying } from "../kits/http.ts";
import { StorageError, type GetResult, type ObjectInfo, type StorageErrorKind } from "./types.ts";

export type FetchLike = (input: Request | string | URL, init?: RequestInit) => Promise<Response>;

export interface HttpPolicy {
  /** fetch to use (tests inject counting or failing fetches). Called as fetch(url, init): wrapping bodies in
   * Request objects costs a copy of every part. */
  fetch?: FetchLike;
  /** Per request, until the response headers arrive; uploads of one part get `uploadTimeoutMs`. */
  timeoutMs?: number;
  /** Per uploaded part/block/chunk (whole request). */
  uploadTimeoutMs?: number;
  /** Longest pause between two chunks of a downloaded body before the download is aborted. */
  idleTimeoutMs?: number;
  /** Extra attempts for idempotent requests that failed transiently. */
  retries?: number;
  /** First backoff delay; the cap doubles per attempt, the delay is drawn below it (full jitter). */
  retryBaseMs?: number;
}

export const DEFAULT_POLICY = {
  timeoutMs: 30_000,
  uploadTimeoutMs: 300_000,
  idleTimeoutMs: 60_000,
  retries: 3,
  retryBaseMs: 200,
} as const;

export type ResolvedPolicy = Required<HttpPolicy>;

export function resolvePolicy(p: HttpPolicy | undefined): ResolvedPolicy {
  return {
    fetch: p?.fetch ?? ((input, init) => fetch(input, init)),
    timeoutMs: p?.timeoutMs ?? DEFAULT_POLICY.timeoutMs,
    uploadTimeoutMs: p?.uploadTimeoutMs ?? DEFAULT_POLICY.uploadTimeoutMs,
    idleTimeoutMs: p?.idleTimeoutMs ?? DEFAULT_POLICY.idleTimeoutMs,
    retries: p?.retries ?? DEFAULT_POLICY.retries,
    retryBaseMs: p?.retryBaseMs ?? DEFAULT_POLICY.retryBaseMs,
  };
}

/** HTTP status → error kind, when the body gives nothing more specific. */
export function kindForStatus(status: number): StorageErrorKind {
  if (status === 404) return "NotFound";
  if (status === 401 || status === 403) return "Denied";
  if (status === 408 || status === 429 || status >= 500) return "Transient";
  return "Invalid";
}

/** Error bodies come from servers we do not control: read at most `limit` bytes, never the whole stream. */
export function readBoundedText(res: Response, limit = 64 * 1024): Promise<string> {
  return readPrefix(res, limit);
}

/** Drains a small successful response body (bounded) so the connection can be reused. */
export async function discardBody(res: Response): Promise<void> {
  if (res.body) await readBoundedText(res, 1024 * 1024);
}

/** fetch failures (DNS, refused, reset, timeout) are transient; the description says what was attempted. */
export function networkError(what: string, e: unknown): StorageError {
  if (e instanceof StorageError) return e;
  const name = e instanceof Error ? e.name : "";
  const detail = name === "TimeoutError" ? "timed out" : e instanceof Error ? e.message : String(e);
  return new StorageError("Transient", `${what}: ${detail}`, { cause: e });
}

/**
 * Runs `attempt` until it succeeds, or fails with a non-transient error, or retries run out. Only for requests that
 * are safe to repeat (the caller decides): a non-idempotent request is attempted once.
 */
export function withRetries<T>(policy: ResolvedPolicy, idempotent: boolean, attempt: (n: number) => Promise<T>): Promise<T> {
  const retryable = (e: unknown) => e instanceof StorageError && e.kind === "Transient";
  return retrying({ retries: idempotent ? policy.retries : 0, retryable, baseMs: policy.retryBaseMs }, attempt);
}

/**
 * A download body guarded by an idle timeout: if the server stalls for `idleMs`, the request is aborted and the
 * stream errors with a Transient StorageError instead of hanging the caller forever.
 */
export function guardedBody(body: ReadableStream<Uint8Array>, controller: AbortController, idleMs: number, what: string): ReadableStream<Uint8Array> {
  return idleGuard(body, {
    idleMs,
    abort: controller,
    onIdle: () => new StorageError("Transient", `${what}: no data for ${idleMs} ms`),
    onError: (e) => (controller.signal.aborted && controller.signal.reason instanceof StorageError ? controller.signal.reason : networkError(what, e)),
  });
}

/**
 * Starts a request whose response body will be streamed: the timeout covers only the wait for headers; the body is
 * then guarded by the idle timeout.
 */
export async function fetchForStream(policy: ResolvedPolicy, url: string, init: RequestInit, what: string): Promise<{ res: Response; controller: AbortController }> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DOMException("timed out", "TimeoutError")), policy.timeoutMs);
  try {
    const res = await policy.fetch(url, { ...init, signal: controller.signal });
    return { res, controller };
  } catch (e) {
    throw networkError(what, controller.signal.aborted ? controller.signal.reason : e);
  } finally {
    clearTimeout(timer);
  }
}

/** Content-Range `bytes a-b/total` → numbers; anything else is rejected rather than guessed. */
export function parseContentRange(value: string | null): { start: number; end: number; total: number | undefined } | undefined {
  const m = value ? /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(value.trim()) : null;
  if (!m) return undefined;
  const start = Number(m[1]);
  const end = Number(m[2]);
  const total = m[3] === "*" ? undefined : Number(m[3]);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || end < start) return undefined;
  return { start, end, total };
}

/**
 * The range a 206 answer actually covers, for a ranged GET; undefined when no range was asked or the server sent
 * the whole object (200). A 206 without a usable Content-Range aborts the download: guessing would corrupt data.
 */
export function honouredRange(res: Response, range: unknown, controller: AbortController, what: string): { start: number; end: number; total: number | undefined } | undefined {
  if (!range || res.status !== 206) return undefined;
  const cr = parseContentRange(res.headers.get("content-range"));
  if (!cr) {
    controller.abort();
    throw new StorageError("Transient", `${what}: 206 without a valid Content-Range`);
  }
  return cr;
}

export function parseLength(value: string | null): number | undefined {
  if (value === null || !/^\d{1,16}$/.test(value.trim())) return undefined;
  return Number(value.trim());
}

export function parseDate(value: string | null): Date | undefined {
  if (!value) return undefined;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** `Range` header value for a ByteRange; validated so a bad range fails before any request. */
export function rangeHeader(range: { start: number; end?: number }): string {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || start < 0 || (end !== undefined && (!Number.isSafeInteger(end) || end < start))) {
    throw new StorageError("Invalid", `invalid byte range ${JSON.stringify(range)}`);
  }
  return `bytes=${start}-${end ?? ""}`;
}

/** Percent-encodes each key segment per RFC 3986 (as S3, GCS and Azure canonicalize them), keeping `/`. */
export function encodeKeyPath(key: string): string {
  return key
    .split("/")
    .map((s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`))
    .join("/");
}

/** ETags come quoted (and sometimes weak-prefixed); a pin is the bare value. */
export function bareEtag(value: string | null): string | undefined {
  const v = value?.trim().replace(/^W\//, "").replace(/^"|"$/g, "");
  return v && v.length <= 256 ? v : undefined;
}

/** Content type recorded with an artifact when the caller gives none. */
export function contentTypeFor(key: string): string {
  if (key.endsWith(".zip")) return "application/zip";
  if (key.endsWith(".tar.gz") || key.endsWith(".tgz")) return "application/gzip";
  return "application/octet-stream";
}

/**
 * The result of a streamed GET, the same for every backend: object info read from the headers (an unusable answer
 * aborts the download), the range the server honoured, and the body guarded against stalls.
 */
export function streamedObject(res: Response, controller: AbortController, range: unknown, idleMs: number, what: string, info: () => ObjectInfo): GetResult {
  let parsed: ObjectInfo;
  try {
    if (!res.body) throw new StorageError("Transient", `${what}: response has no body`);
    parsed = info();
  } catch (e) {
    controller.abort();
    throw e;
  }
  const honoured = honouredRange(res, range, controller, what);
  if (honoured?.total !== undefined) parsed.size = honoured.total;
  return { ...parsed, body: guardedBody(res.body!, controller, idleMs, what), ...(honoured ? { range: { start: honoured.start, end: honoured.end } } : {}) };
}
