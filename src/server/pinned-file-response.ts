// Proxied downloads copied by the kernel. A filesystem artifact used to go out as a JS stream: every 256 KiB read into
// a fresh buffer, then copied to the socket. When storage hands over a path that re-opens the very inode it checked
// (`/proc/self/fd/N` of the descriptor behind the pin, GetResult.pinnedPath), the response body is that path instead:
// Bun's server opens its own descriptor on it and sendfile()s from there, so memory stays flat and the bytes served
// are those of the verified inode even if the key is renamed over or deleted meanwhile.
//
// When our descriptor may close. The path names our inode only while we hold the descriptor: once it is closed, the
// number can be reused by any other open() and the same path would name that file. Bun's server opens a file body in
// the very call that takes the body out of the Response (RequestContext.doRenderWithBody → renderSendFile: use the
// body, then open, fstat and sendfile, synchronously), and an aborted request is dropped before its body is used. So
// once the Response's native body is used, Bun holds its own descriptor or never will, and ours can close. Readers in
// JavaScript (in-process callers, a middleware re-wrapping the body) would open the file later, asynchronously: they
// never get the file body; every JS accessor reads the portable stream over our own descriptor instead.
//
// Not used: over TLS (Bun cannot sendfile there and would read the whole file into memory first), without a pinned
// path (other platforms, S3/GCS/Azure), and outside Bun; those go out framed by framed-download.ts instead (buffered
// with a Content-Length when small, else streamed with a length guard). The file body itself comes from the runtime
// adapter (runtime.fileBody: a path-backed Bun.file on Bun).
import { runtime, type ResponseBody } from "../runtime/index.ts";
import type { GetResult } from "../storage/types.ts";
import { exactLength, readExactly, streamsLoseContentLength, type BufferBudget } from "./framed-download.ts";

export interface DownloadInit {
  status: number;
  headers: Record<string, string>;
}

export interface FramingOptions {
  /** Memory for bodies read whole before they are answered (so that they carry a Content-Length); none: stream. */
  budget?: BufferBudget;
  /** A streamed body was cut because storage ended it early, ran long or failed (the client's connection is cut). */
  onCut?: (e: unknown) => void;
}

/**
 * The response for bytes `got` describes (its range, or all of it): kernel-copied when possible; otherwise read whole
 * within the budget, or streamed through a length guard. Rejects (having released `got`) when a buffered read fails or
 * comes out short: nothing was answered yet, so the caller can still refuse.
 */
export function downloadResponse(got: GetResult, request: Request, init: DownloadInit, framing: FramingOptions = {}): Response | Promise<Response> {
  const start = got.range?.start ?? 0;
  const end = got.range?.end ?? got.size - 1;
  const length = Math.max(0, end + 1 - start);
  const file = got.pinnedPath && got.size > 0 && !request.url.startsWith("https:") ? kernelCopyBody(got.pinnedPath, start, end + 1) : undefined;
  if (file) {
    const response = new PinnedFileResponse(file, got.body, init);
    releaseOnceUsed(new WeakRef(response), got.body);
    return response;
  }
  const { budget } = framing;
  if (budget && streamsLoseContentLength() && budget.take(length)) return buffered(got.body, length, init, budget);
  // The cut's reason goes to the log (onCut); on Bun the body errors without it, so Bun prints no stack of its own.
  return new Response(exactLength(got.body, length, framing.onCut, { quiet: runtime.name === "bun" }), init);
}

async function buffered(body: ReadableStream<Uint8Array>, length: number, init: DownloadInit, budget: BufferBudget): Promise<Response> {
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = await readExactly(body, length);
  } catch (e) {
    budget.release(length);
    throw e;
  }
  const response = new Response(bytes, init);
  budget.hold(response, length);
  return response;
}

/**
 * The file body, where it is safe: on Bun, whose server opens a file body in the same call that uses it (see above).
 * Elsewhere `runtime.fileBody` is a stream that opens the path later, after our descriptor may be closed, so the
 * caller streams our descriptor instead.
 */
function kernelCopyBody(path: string, start: number, endExclusive: number): ResponseBody | undefined {
  return runtime.name === "bun" ? runtime.fileBody(path, start, endExclusive) : undefined;
}

type Holder = "pending" | "server" | "javascript";

const nativeBodyUsedGetter = Object.getOwnPropertyDescriptor(Response.prototype, "bodyUsed")?.get;
/** Whether the native body (the file) was taken, read through Response's own accessor. */
const nativeBodyUsed = (response: Response): boolean => nativeBodyUsedGetter?.call(response) === true;

/**
 * A Response whose native body (what Bun's server sends) is the pinned file, and whose JavaScript body is the portable
 * stream over our descriptor. Bun's server never calls these accessors; anything else reading the body does.
 */
export class PinnedFileResponse extends Response {
  #stream: ReadableStream<Uint8Array>;
  #holder: Holder = "pending";
  #consumed = false;

  constructor(file: ResponseBody, stream: ReadableStream<Uint8Array>, init: DownloadInit) {
    super(file, init);
    this.#stream = stream;
  }

  /** Who reads the bytes: undecided, Bun's server (from its own descriptor), or JavaScript (from the stream). */
  get holder(): Holder {
    if (this.#holder === "pending" && nativeBodyUsed(this)) this.#holder = "server";
    return this.#holder;
  }

  #forJavaScript(consume: boolean): ReadableStream<Uint8Array> {
    if (this.holder === "pending") this.#holder = "javascript";
    if (consume) {
      if (this.#consumed || this.#stream.locked) throw new TypeError("Body already used");
      this.#consumed = true;
    }
    return this.#stream;
  }

  #asPlain(consume = true): Response {
    return new Response(this.#forJavaScript(consume), { status: this.status, statusText: this.statusText, headers: this.headers });
  }

  // `body` and `bodyUsed` are accessors on Response.prototype (the typings call them properties): redefined here.
  static {
    Object.defineProperties(this.prototype, {
      body: {
        get(this: PinnedFileResponse) {
          return this.#forJavaScript(false);
        },
      },
      bodyUsed: {
        get(this: PinnedFileResponse) {
          return this.#holder === "server" || nativeBodyUsed(this) || this.#consumed || this.#stream.locked;
        },
      },
    });
  }

  // Own properties (not methods): Response's typings declare these as properties, and they shadow the native ones.
  override arrayBuffer: Response["arrayBuffer"] = () => this.#asPlain().arrayBuffer();
  override blob: Response["blob"] = () => this.#asPlain().blob();
  override bytes: Response["bytes"] = () => this.#asPlain().bytes();
  override formData: Response["formData"] = () => this.#asPlain().formData();
  override json: Response["json"] = () => this.#asPlain().json();
  override text: Response["text"] = () => this.#asPlain().text();

  override clone(): Response {
    const [mine, theirs] = this.#forJavaScript(true).tee();
    this.#stream = mine;
    this.#consumed = false;
    return new Response(theirs, { status: this.status, statusText: this.statusText, headers: new Headers(this.headers) });
  }
}

// First look as soon as the handler's promise chain has settled (Bun renders in that microtask checkpoint), then
// back off: a response held a while before it is returned is rare, and one never returned is collected.
const RECHECK_MS = [0, 1, 4, 16, 64, 250, 1000];

/**
 * Closes our descriptor (by cancelling the stream that owns it) once Bun's server has opened its own, or once the
 * response is collected (nobody can open the path any more: Bun keeps a response it may still send alive). Stops
 * watching when JavaScript took the stream: its reader then owns the descriptor, closed at the end, on cancel, or
 * when the stream is collected.
 */
function releaseOnceUsed(ref: WeakRef<PinnedFileResponse>, stream: ReadableStream<Uint8Array>, attempt = 0): void {
  const timer = setTimeout(() => {
    const response = ref.deref();
    const holder = response?.holder;
    if (holder === "javascript") return;
    if (holder === undefined || holder === "server") {
      stream.cancel().catch(() => {});
      return;
    }
    releaseOnceUsed(ref, stream, attempt + 1);
  }, RECHECK_MS[Math.min(attempt, RECHECK_MS.length - 1)]);
  (timer as { unref?: () => void }).unref?.();
}
