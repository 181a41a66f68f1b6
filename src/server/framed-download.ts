// Downloads the kernel cannot copy (buckets, TLS, no procfs), framed so that a client can tell a whole body from a cut
// one. Bun 1.4's server drops a handler's Content-Length from every ReadableStream body and sends it chunked (its
// render_metadata strips the header; only in-memory and regular-file bodies get one, oven-sh/bun#10507), so:
//   - a body that fits the memory budget is read whole first, checked to be exactly the promised length, and sent as
//     bytes: the client gets Content-Length (progress, and a short body is detectable by any HTTP client), and a
//     storage failure before the end becomes a 503 instead of a short 200;
//   - a larger one is streamed through a guard that errors the stream when the source ends before (or runs past) the
//     promised length. An errored body makes Bun abort the connection without the terminating zero-size chunk, so the
//     client sees a failed transfer, never a "complete" short file.
// Deno frames a stream with the handler's Content-Length itself (and cuts the connection when it ends short), so only
// the guard applies there.
import { runtime } from "../runtime/index.ts";

/**
 * Bytes held in memory by buffered downloads, bounded in total. A reservation is given back when the Response holding
 * the bytes is collected: Bun keeps a Response alive until it has sent it, so a slow client keeps its share, and once
 * the budget is taken further downloads stream instead of queueing for memory.
 */
export class BufferBudget {
  private used = 0;
  private readonly returns = new FinalizationRegistry<number>((bytes) => (this.used -= bytes));

  constructor(
    /** Largest single body that is buffered. */
    readonly maxBody: number,
    /** All buffered bodies together. */
    readonly total: number,
  ) {}

  get inUse(): number {
    return this.used;
  }

  /** Reserves `bytes` if they fit; the caller must `hold` or `release` them. */
  take(bytes: number): boolean {
    if (bytes > this.maxBody || this.used + bytes > this.total) return false;
    this.used += bytes;
    return true;
  }

  release(bytes: number): void {
    this.used -= bytes;
  }

  /** Ties a reservation to the object that holds the bytes: released once it is garbage-collected. */
  hold(owner: object, bytes: number): void {
    this.returns.register(owner, bytes);
  }
}

/** v0.9-sized module archives fit (most are well under 8 MiB); provider archives usually stream. */
export const DEFAULT_BUFFER_BUDGET = { maxBody: 8 * 1024 * 1024, total: 64 * 1024 * 1024 };

/** The process's budget ("64 MiB in all" is per process, however many servers it runs): ArtifactDelivery's default. */
export const processBufferBudget = new BufferBudget(DEFAULT_BUFFER_BUDGET.maxBody, DEFAULT_BUFFER_BUDGET.total);

export class ShortBodyError extends Error {
  constructor(
    readonly received: number,
    readonly expected: number,
  ) {
    super(received < expected ? `storage ended the body after ${received} of ${expected} bytes` : `storage sent more than the ${expected} bytes it announced`);
    this.name = "ShortBodyError";
  }
}

/** Whether this runtime's server sends a stream body chunked whatever Content-Length the handler set. */
export const streamsLoseContentLength = (): boolean => runtime.name === "bun";

/**
 * All of `body`, which must be exactly `length` bytes; a source that ends early, runs long or fails rejects (and is
 * cancelled), so no partial body is ever answered as a whole one.
 */
export async function readExactly(body: ReadableStream<Uint8Array>, length: number): Promise<Uint8Array<ArrayBuffer>> {
  const out = new Uint8Array(new ArrayBuffer(length));
  const reader = body.getReader();
  let at = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (at + value.byteLength > length) throw new ShortBodyError(at + value.byteLength, length);
      out.set(value, at);
      at += value.byteLength;
    }
    if (at !== length) throw new ShortBodyError(at, length);
    return out;
  } catch (e) {
    reader.cancel(e).catch(() => {});
    throw e;
  } finally {
    reader.releaseLock();
  }
}

/**
 * `body`, passed through unchanged, but erroring instead of closing when it ends before `length` bytes, and erroring
 * as soon as it exceeds them. `onCut` hears why (once), for the log: the client only sees its connection cut.
 * `quiet`: the stream errors with no reason, once `onCut` has it — for a response body on Bun, whose server prints
 * the stack of the error a body ends with to stderr, beside our structured line; a reason-less error cuts the
 * connection just the same (Deno prints "undefined" for one, so it keeps the reason there: see downloadResponse).
 */
export function exactLength(body: ReadableStream<Uint8Array>, length: number, onCut: (e: unknown) => void = () => {}, o: { quiet?: boolean } = {}): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let seen = 0;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const { done, value } = await reader.read();
          if (done) {
            if (seen !== length) throw new ShortBodyError(seen, length);
            return controller.close();
          }
          seen += value.byteLength;
          if (seen > length) throw new ShortBodyError(seen, length);
          controller.enqueue(value);
        } catch (e) {
          reader.cancel(e).catch(() => {});
          onCut(e);
          controller.error(o.quiet ? undefined : e);
        }
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  );
}
