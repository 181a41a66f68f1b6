// S3 (and S3-compatible: MinIO, Ceph, R2, Swift s3api) behind ArtifactStorage, on fetch + SigV4 (aws4fetch).
// Small objects go in one PUT (buffered up to the threshold, hash signed); larger ones as a multipart upload.
import { MiB, PartReader, isBase64Sha256 } from "./chunks.ts";
import type { AwsCredentialProvider } from "./credentials/aws.ts";
import type { Env } from "./credentials/http.ts";
import { bareEtag, contentTypeFor, discardBody, parseDate, parseLength, rangeHeader, type HttpPolicy, streamedObject } from "./http.ts";
import { assertSafeKey } from "./keys.ts";
import { listMultipartUploads, multipartUpload } from "./s3-multipart.ts";
import { S3Transport, type S3Location } from "./s3-request.ts";
import type { GuardedClientOptions } from "./endpoint-guard.ts";
import { StorageError, type ArtifactStorage, type ByteRange, type GetResult, type ObjectInfo, type PutOptions, type PutResult } from "./types.ts";

export interface S3StorageOptions extends S3Location, HttpPolicy, GuardedClientOptions {
  /** Explicit credentials; the AWS default chain (env, web identity, container, IMDS) otherwise. */
  credentials?: AwsCredentialProvider;
  env?: Env;
  /** Objects up to this size go in one PUT (default 8 MiB, as the AWS SDKs). */
  multipartThreshold?: number;
  /** Part size of multipart uploads: max(partSize, threshold, 5 MiB) (S3 needs ≥ 5 MiB for all but the last part). */
  partSize?: number;
  /**
   * Send x-amz-checksum-sha256 so that S3 verifies and keeps the SHA-256 natively. Default: on for AWS, off for
   * custom endpoints (Swift's s3api predates flexible checksums). x-amz-meta-sha256 is recorded either way.
   */
  checksumHeader?: boolean;
}

const MIN_PART = 5 * MiB;
const META_SHA256 = "x-amz-meta-sha256";

export class S3Storage implements ArtifactStorage {
  readonly description: string;
  readonly transport: S3Transport;
  private readonly threshold: number;
  private readonly partSize: number;
  private readonly checksumHeader: boolean;

  constructor(options: S3StorageOptions) {
    this.transport = new S3Transport(options);
    this.description = this.transport.description;
    this.threshold = options.multipartThreshold ?? 8 * MiB;
    // The first part read decides single PUT vs multipart, so a part is never smaller than the threshold.
    this.partSize = Math.max(options.partSize ?? MIN_PART, this.threshold, MIN_PART);
    if (!(this.threshold >= 0) || !(this.partSize >= MIN_PART) || this.partSize > 5 * 1024 * MiB) {
      throw new StorageError("Invalid", `S3 part size must be 5 MiB..5 GiB (got ${this.partSize}) and the threshold ≥ 0`);
    }
    this.checksumHeader = options.checksumHeader ?? options.endpoint === undefined;
  }

  async put(key: string, body: ReadableStream<Uint8Array>, options: PutOptions = {}): Promise<PutResult> {
    assertSafeKey(key);
    if (options.sha256 !== undefined && !isBase64Sha256(options.sha256)) throw new StorageError("Invalid", `invalid expected SHA-256 ${JSON.stringify(options.sha256)}`);
    const reader = new PartReader(body);
    // With a known size, grow parts so that the upload fits S3's 10,000-part limit.
    const partSize = options.size && options.size / this.partSize > 9_000 ? Math.ceil(options.size / 9_000 / MiB) * MiB : this.partSize;
    const headers: Record<string, string> = { "content-type": options.contentType ?? contentTypeFor(key) };
    let first: Uint8Array;
    try {
      first = await reader.read(partSize);
    } catch (e) {
      reader.cancel(e);
      throw e;
    }
    if (first.byteLength > this.threshold || !(await reader.atEnd())) {
      // The SHA-256 is known only after the last part, too late for the object's metadata: it is recorded only
      // when the caller knew it in advance (and then checked before completing).
      if (options.sha256) headers[META_SHA256] = options.sha256;
      const r = await multipartUpload(this.transport, { key, reader, first, partSize, headers, expectedSha256: options.sha256 });
      return { size: r.size, pin: r.etag, sha256: r.sha256, contentType: headers["content-type"] };
    }
    const sha256 = reader.sha256();
    if (options.sha256 && options.sha256 !== sha256) {
      throw new StorageError("Invalid", `upload of ${key}: content SHA-256 ${sha256} does not match the expected ${options.sha256}`);
    }
    headers[META_SHA256] = sha256;
    if (this.checksumHeader) headers["x-amz-checksum-sha256"] = sha256;
    const res = await this.transport.send(`put ${key}`, { method: "PUT", key, headers, body: first, idempotent: true, timeoutMs: this.transport.policy.uploadTimeoutMs });
    await discardBody(res);
    const pin = bareEtag(res.headers.get("etag"));
    if (!pin) throw new StorageError("Transient", `put ${key} (${this.description}): response has no ETag`);
    return { size: first.byteLength, pin, sha256, contentType: headers["content-type"] };
  }

  async get(key: string, range?: ByteRange): Promise<GetResult> {
    assertSafeKey(key);
    const headers: Record<string, string> = range ? { range: rangeHeader(range) } : {};
    const { res, controller } = await this.transport.sendForStream(`get ${key}`, { method: "GET", key, headers, idempotent: true });
    return streamedObject(res, controller, range, this.transport.policy.idleTimeoutMs, `get ${key} (${this.description})`, () => this.infoFrom(key, res));
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    assertSafeKey(key);
    const res = await this.transport.send(`head ${key}`, {
      method: "HEAD",
      key,
      headers: this.checksumHeader ? { "x-amz-checksum-mode": "ENABLED" } : {},
      idempotent: true,
      accept: (s) => (s >= 200 && s < 300) || s === 404,
    });
    if (res.status === 404) return undefined;
    return this.infoFrom(key, res);
  }

  async delete(key: string): Promise<void> {
    assertSafeKey(key);
    const res = await this.transport.send(`delete ${key}`, { method: "DELETE", key, idempotent: true, accept: (s) => (s >= 200 && s < 300) || s === 404 });
    if (res.status === 404) {
      // An absent key is success; an absent bucket is a configuration problem worth surfacing.
      const err = await this.transport.errorFrom(`delete ${key}`, res);
      if (err.message.includes("NoSuchBucket")) throw err;
      return;
    }
    await discardBody(res);
  }

  async presign(key: string, ttlSeconds: number): Promise<string> {
    assertSafeKey(key);
    return this.transport.presign(key, ttlSeconds);
  }

  /** In-progress multipart uploads (for tests and audits: a failed put must leave none). */
  listMultipartUploads(prefix?: string): Promise<{ key: string; uploadId: string }[]> {
    return listMultipartUploads(this.transport, prefix);
  }

  private infoFrom(key: string, res: Response): ObjectInfo {
    const pin = bareEtag(res.headers.get("etag"));
    const size = parseLength(res.headers.get("content-length"));
    if (!pin || size === undefined) throw new StorageError("Transient", `${key} (${this.description}): response lacks ETag or Content-Length`);
    const meta = res.headers.get(META_SHA256);
    const native = res.headers.get("x-amz-checksum-sha256");
    const sha256 = isBase64Sha256(meta) ? meta : isBase64Sha256(native) ? native : undefined;
    const lastModified = parseDate(res.headers.get("last-modified"));
    const contentType = res.headers.get("content-type") ?? undefined;
    return { size, pin, ...(sha256 ? { sha256 } : {}), ...(lastModified ? { lastModified } : {}), ...(contentType ? { contentType } : {}) };
  }
}
