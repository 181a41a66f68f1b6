// Cuts an upload stream into parts of a fixed size (S3 parts, Azure blocks, GCS resumable chunks) while hashing it,
// so that at most one part is held in memory and the SHA-256 of the whole object is known when the last part goes.
import { createHash } from "node:crypto";

/** Reads exact-size slices from a byte stream; the SHA-256 and byte count cover everything read so far. */
export class PartReader {
  private readonly reader: { read(): Promise<{ done: boolean; value?: Uint8Array }>; cancel(reason?: unknown): Promise<void> };
  private readonly hasher = createHash("sha256");
  private carry: Uint8Array | undefined;
  private ended = false;
  private buffer: Uint8Array | undefined;
  bytesRead = 0;

  constructor(body: ReadableStream<Uint8Array>) {
    this.reader = body.getReader();
  }

  /**
   * Up to `size` bytes, fewer only at the end of the stream (then possibly zero). Body errors propagate as-is.
   * The bytes live in one buffer reused by the next read(): callers send a part completely before reading the next,
   * which keeps memory flat (a fresh 8-16 MiB buffer per part lingers until GC and grows the RSS by hundreds of MiB).
   */
  async read(size: number): Promise<Uint8Array> {
    if (!this.buffer || this.buffer.byteLength !== size) this.buffer = new Uint8Array(size);
    const out = this.buffer;
    let filled = 0;
    while (filled < size) {
      if (!this.carry || this.carry.byteLength === 0) {
        this.carry = undefined;
        if (this.ended) break;
        const { done, value } = await this.reader.read();
        if (done) {
          this.ended = true;
          break;
        }
        if (!(value instanceof Uint8Array)) throw new TypeError("upload body must be a stream of Uint8Array chunks");
        this.carry = value;
        continue;
      }
      const n = Math.min(size - filled, this.carry.byteLength);
      const piece = this.carry.subarray(0, n);
      out.set(piece, filled);
      this.hasher.update(piece);
      this.bytesRead += n;
      filled += n;
      this.carry = this.carry.subarray(n);
    }
    return out.subarray(0, filled);
  }

  /** True when no byte is left; may pull one chunk from the source to find out. */
  async atEnd(): Promise<boolean> {
    while (!this.ended && (!this.carry || this.carry.byteLength === 0)) {
      const { done, value } = await this.reader.read();
      if (done) this.ended = true;
      else this.carry = value;
    }
    return this.ended && (!this.carry || this.carry.byteLength === 0);
  }

  /** base64 SHA-256 of all bytes read; call once, after the last read. */
  sha256(): string {
    return this.hasher.digest("base64");
  }

  /** Tells the producer we stopped reading (after a failed upload), without throwing. */
  cancel(reason?: unknown): void {
    this.reader.cancel(reason).catch(() => {});
  }
}

export const MiB = 1024 * 1024;

export function isBase64Sha256(s: string | undefined | null): s is string {
  return typeof s === "string" && /^[A-Za-z0-9+/]{43}=$/.test(s);
}
