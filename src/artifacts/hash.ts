// Streaming SHA-256 and the two encodings the project uses for it: `status.checksum` is base64 (std, padded) of the
// raw digest; the provider protocol's `shasum` and SHA256SUMS use lowercase hex. Everything hashes while streaming so
// multi-GB artifacts never sit in memory.
import { createHash } from "node:crypto";
import { fromBase64, fromHex, toBase64, toHex } from "../kits/encoding.ts";
import { runtime } from "../runtime/index.ts";


export interface HashingStream {
  /** Pass-through transform that hashes every chunk on its way. */
  stream: TransformStream<Uint8Array, Uint8Array>;
  /** Resolves with the raw digest once the stream has flushed; rejects if the stream is aborted or errors. */
  digest(): Promise<Uint8Array>;
  /** Bytes seen so far (the total once digest() has resolved). */
  readonly size: number;
}

export function hashingStream(): HashingStream {
  const hasher = createHash("sha256");
  let size = 0;
  let resolve!: (d: Uint8Array) => void;
  let reject!: (e: unknown) => void;
  const done = new Promise<Uint8Array>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Callers that only pipe and never ask for the digest must not see an unhandled rejection.
  done.catch(() => {});
  // `cancel` (called when either side is aborted) is in the Streams spec and in Bun, not yet in the DOM typings.
  const transformer: Transformer<Uint8Array, Uint8Array> & { cancel(reason: unknown): void } = {
    transform(chunk, controller) {
      hasher.update(chunk);
      size += chunk.byteLength;
      controller.enqueue(chunk);
    },
    flush() {
      resolve(new Uint8Array(hasher.digest()));
    },
    cancel(reason) {
      reject(reason ?? new Error("hashing stream cancelled"));
    },
  };
  const stream = new TransformStream<Uint8Array, Uint8Array>(transformer);
  return {
    stream,
    digest: () => done,
    get size() {
      return size;
    },
  };
}

export interface StreamDigest {
  /** Raw 32-byte SHA-256. */
  bytes: Uint8Array;
  size: number;
}

/** Consumes the stream entirely. */
export async function sha256OfStream(body: ReadableStream<Uint8Array>): Promise<StreamDigest> {
  const hasher = createHash("sha256");
  let size = 0;
  for await (const chunk of body) {
    hasher.update(chunk);
    size += chunk.byteLength;
  }
  return { bytes: new Uint8Array(hasher.digest()), size };
}

/** Streams the file from disk in chunks, so memory stays flat whatever its size. */
export async function sha256OfFile(path: string): Promise<StreamDigest> {
  return sha256OfStream(runtime.readStream(path));
}

export function sha256Bytes(data: string | Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha256").update(data).digest());
}

/** Lowercase hex SHA-256 (protocol `shasum`) → base64 (`status.checksum`). Throws on anything but 64 hex digits. */
export function hexToBase64(hex: string): string {
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new Error(`invalid SHA-256 hex digest ${JSON.stringify(hex.slice(0, 80))}`);
  return toBase64(fromHex(hex));
}

/** base64 SHA-256 (`status.checksum`) → lowercase hex. Throws unless it decodes to exactly 32 bytes. */
export function base64ToHex(b64: string): string {
  let bytes: Uint8Array | undefined;
  try {
    bytes = fromBase64(b64);
  } catch {
    bytes = undefined;
  }
  if (!bytes || bytes.length !== 32) throw new Error(`invalid base64 SHA-256 digest ${JSON.stringify(b64.slice(0, 80))}`);
  return toHex(bytes);
}
