// ArtifactStorage: where archives live. Backends: filesystem (here), s3, gcs, azure. All streaming; none ever takes
// a path from a request: keys are built by objectKey() from validated resource fields only.

export interface ObjectInfo {
  size: number;
  /**
   * A value that changes whenever the object's bytes may have changed (filesystem: inode+size+mtime; S3/Azure:
   * ETag; GCS: generation). The server pins "verified" against it instead of re-hashing on every download.
   */
  pin: string;
  /** base64 SHA-256 recorded with the object at upload, when the backend keeps one. Informational only. */
  sha256?: string;
  lastModified?: Date;
  contentType?: string;
}

export interface ByteRange {
  /** First byte, inclusive. */
  start: number;
  /** Last byte, inclusive; absent = to the end. */
  end?: number;
}

export interface GetResult extends ObjectInfo {
  body: ReadableStream<Uint8Array>;
  /** Set when a range was requested and honoured. */
  range?: { start: number; end: number };
  /**
   * Filesystem storage on Linux: a path that opens the very inode described here (`/proc/self/fd/N` of the descriptor
   * `body` holds), so a server can let the kernel copy the bytes (sendfile) instead of reading `body`. It names that
   * inode only while `body` is open: the consumer must have opened the path before `body` is cancelled or read out.
   */
  pinnedPath?: string;
}

export interface PutOptions {
  contentType?: string;
  /** Known size in bytes, when the caller knows it (lets backends skip multipart for small objects). */
  size?: number;
  /** base64 SHA-256 of the content, when known in advance; backends that can, record or check it. */
  sha256?: string;
}

export interface PutResult extends ObjectInfo {
  /** base64 SHA-256 of the bytes written, computed while streaming. */
  sha256: string;
}

export interface ArtifactStorage {
  /** A short description for logs and errors, e.g. `filesystem:/var/lib/opendepot`. */
  readonly description: string;
  /** Streams body to key. Atomic: readers see the old object or the complete new one, never a partial one. */
  put(key: string, body: ReadableStream<Uint8Array>, options?: PutOptions): Promise<PutResult>;
  /** Throws StorageError("NotFound") when absent. */
  get(key: string, range?: ByteRange): Promise<GetResult>;
  /** undefined when absent. */
  head(key: string): Promise<ObjectInfo | undefined>;
  /** Idempotent: deleting an absent object succeeds. */
  delete(key: string): Promise<void>;
  /** A URL a plain HTTP client can GET for ttlSeconds. Throws StorageError("Unsupported") where impossible. */
  presign(key: string, ttlSeconds: number): Promise<string>;
}

/** NotAllowed: outside the operator's storage policy (nothing was contacted). */
export type StorageErrorKind = "NotFound" | "Denied" | "Transient" | "Invalid" | "Unsupported" | "Credentials" | "NotAllowed";

export class StorageError extends Error {
  constructor(
    readonly kind: StorageErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = `StorageError(${kind})`;
  }
}
