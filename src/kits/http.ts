// The outbound HTTP kit every client of ours builds on (upstream sources, object stores, the Kubernetes API, the
// OIDC issuer): bodies read under a byte limit that counts what arrives (a chunked or lying Content-Length cannot
// get past it), an idle timer on streamed bodies, retry delays with jitter, and URLs safe to log. The callers keep
// their own error vocabulary: every helper takes the error to throw.
import { sleep as timerSleep } from "./sleep.ts";

/** A body that grew past its limit. Callers usually pass their own error instead. */
export class BodyTooLarge extends Error {
  override readonly name = "BodyTooLarge";
  constructor(readonly limit: number) {
    super(`response body exceeds ${limit} bytes`);
  }
}

type Body = Response | ReadableStream<Uint8Array> | null;

const streamOf = (body: Body) => (body instanceof Response ? body.body : body);

/**
 * The whole body, at most `limit` bytes. A declared Content-Length above the limit fails before reading; otherwise
 * bytes are counted as they arrive and the read is cancelled (the connection released) as soon as one byte too many
 * comes in, so a chunked body or a short Content-Length header never makes us buffer more than `limit`.
 */
export async function readBounded(body: Body, limit: number, tooLarge: () => Error = () => new BodyTooLarge(limit)): Promise<Uint8Array> {
  if (body instanceof Response) {
    const declared = Number(body.headers.get("content-length"));
    if (Number.isFinite(declared) && declared > limit) {
      await body.body?.cancel().catch(() => {});
      throw tooLarge();
    }
  }
  const stream = streamOf(body);
  if (!stream) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/**
 * At most the first `limit` bytes as text, then the rest is cancelled; never fails. For error bodies of servers we do
 * not control, where what arrived is as good as it gets.
 */
export async function readPrefix(body: Body, limit = 64 * 1024): Promise<string> {
  const stream = streamOf(body);
  if (!stream) return "";
  const reader = stream.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  try {
    while (total < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value.subarray(0, limit - total));
      total += value.byteLength;
    }
  } catch {
    // A body that fails midway is as good as what arrived.
  } finally {
    reader.cancel().catch(() => {});
  }
  return new TextDecoder().decode(Buffer.concat(parts));
}

export interface IdleGuardOptions {
  /** Longest pause between two chunks. */
  idleMs: number;
  /** The error the stream fails with when the pause is exceeded. */
  onIdle: () => Error;
  /** Aborted (with the idle error) so the underlying request is torn down, not just abandoned. */
  abort?: AbortController;
  /** Maps any other read failure (reset, abort) to the caller's error; the default passes it through. */
  onError?: (e: unknown) => Error;
  /** Told the size of every chunk handed on (e.g. a bytes-received metric). */
  onChunk?: (bytes: number) => void;
}

/**
 * A pass-through stream that re-arms a timer on every pull: a download that stalls fails with `onIdle()` instead of
 * hanging its consumer, while a slow but moving download (700 MB over a thin link) is never cut off by a total timeout.
 */
export function idleGuard(body: ReadableStream<Uint8Array>, o: IdleGuardOptions): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stalled: Error | undefined;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        timer = setTimeout(() => {
          stalled = o.onIdle();
          o.abort?.abort(stalled);
          reader.cancel(stalled).catch(() => {});
        }, o.idleMs);
        try {
          const { done, value } = await reader.read();
          if (stalled) controller.error(stalled);
          else if (done) controller.close();
          else {
            o.onChunk?.(value.byteLength);
            controller.enqueue(value);
          }
        } catch (err) {
          controller.error(stalled ?? (o.onError ? o.onError(err) : err));
        } finally {
          clearTimeout(timer);
        }
      },
      cancel(reason) {
        clearTimeout(timer);
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

/**
 * Delay before retry number `attempt` (0-based): "full jitter", a uniform draw below min(max, base·2^attempt), so
 * many replicas retrying against a recovering server spread out instead of arriving in lockstep.
 */
export function backoffDelay(attempt: number, baseMs: number, maxMs = 5_000, random: () => number = Math.random): number {
  return random() * Math.min(maxMs, baseMs * 2 ** attempt);
}

export interface RetryOptions {
  /** Extra attempts after the first. */
  retries: number;
  /** Whether this failure may be retried (e.g. transient, and the request is idempotent). */
  retryable: (e: unknown) => boolean;
  baseMs: number;
  maxMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** Runs `attempt` until it succeeds, fails with a non-retryable error, or retries run out (then the last error). */
export async function withRetries<T>(o: RetryOptions, attempt: (n: number) => Promise<T>): Promise<T> {
  const sleep = o.sleep ?? timerSleep;
  for (let n = 0; ; n++) {
    try {
      return await attempt(n);
    } catch (e) {
      if (n >= o.retries || !o.retryable(e)) throw e;
      await sleep(backoffDelay(n, o.baseMs, o.maxMs));
    }
  }
}

const SECRET_PARAM = /token|sig|signature|secret|key|credential|password|auth|code|x-amz-|x-goog-/i;

/** A URL safe for logs and status messages: no userinfo, secret-looking query values replaced. */
export function redactUrl(input: string | URL): string {
  let url: URL;
  try {
    url = new URL(String(input));
  } catch {
    return "<invalid url>";
  }
  url.username = "";
  url.password = "";
  for (const name of [...url.searchParams.keys()]) {
    if (SECRET_PARAM.test(name)) url.searchParams.set(name, "REDACTED");
  }
  return url.toString();
}
