// Google Cloud Storage behind ArtifactStorage, on the JSON API with OAuth tokens (service-account key or metadata
// server) and V4 signed URLs. The object's generation is its pin; the SHA-256 is kept as custom metadata.
import { MiB, PartReader, isBase64Sha256 } from "./chunks.ts";
import { gcpCredentialChain, type GcpCredentials } from "./credentials/gcp.ts";
import type { Env } from "./credentials/http.ts";
import { assertEndpointAllowed, type GuardedClientOptions } from "./endpoint-guard.ts";
import { GcsTransport } from "./gcs-request.ts";
import { signedUrlV4 } from "./gcs-sign.ts";
import { CHUNK_QUANTUM, multipartUpload, parseObjectResource, resumableUpload, type ObjectResource } from "./gcs-upload.ts";
import { contentTypeFor, parseLength, rangeHeader, readBoundedText, type HttpPolicy, streamedObject } from "./http.ts";
import { assertSafeKey } from "./keys.ts";
import { StorageError, type ArtifactStorage, type ByteRange, type GetResult, type ObjectInfo, type PutOptions, type PutResult } from "./types.ts";

export interface GcsStorageOptions extends HttpPolicy, GuardedClientOptions {
  bucket: string;
  /** Custom JSON API endpoint (emulators, the test fake). Signed URLs are then made for that host too. */
  endpoint?: string;
  credentials?: GcpCredentials;
  env?: Env;
  /** Objects up to this size go in one multipart request (default 8 MiB); larger ones in a resumable session. */
  resumableThreshold?: number;
  /** Resumable chunk size, rounded up to a multiple of 256 KiB (default max(threshold, 8 MiB)). */
  chunkSize?: number;
}

const META_SHA256 = "sha256";

export class GcsStorage implements ArtifactStorage {
  readonly description: string;
  readonly transport: GcsTransport;
  private readonly threshold: number;
  private readonly chunkSize: number;

  constructor(options: GcsStorageOptions) {
    const credentials = options.credentials ?? gcpCredentialChain({ env: options.env, fetch: options.fetch });
    this.transport = new GcsTransport({ ...options, credentials });
    this.description = this.transport.description;
    this.threshold = options.resumableThreshold ?? 8 * MiB;
    const wanted = Math.max(options.chunkSize ?? 8 * MiB, this.threshold, CHUNK_QUANTUM);
    this.chunkSize = Math.ceil(wanted / CHUNK_QUANTUM) * CHUNK_QUANTUM;
  }

  async put(key: string, body: ReadableStream<Uint8Array>, options: PutOptions = {}): Promise<PutResult> {
    assertSafeKey(key);
    if (options.sha256 !== undefined && !isBase64Sha256(options.sha256)) throw new StorageError("Invalid", `invalid expected SHA-256 ${JSON.stringify(options.sha256)}`);
    const reader = new PartReader(body);
    const contentType = options.contentType ?? contentTypeFor(key);
    const check = () => {
      const actual = reader.sha256();
      if (options.sha256 && options.sha256 !== actual) throw new StorageError("Invalid", `upload of ${key}: content SHA-256 ${actual} does not match the expected ${options.sha256}`);
      return actual;
    };
    let first: Uint8Array;
    try {
      first = await reader.read(this.chunkSize);
      if (first.byteLength <= this.threshold && (await reader.atEnd())) {
        const sha256 = check();
        const obj = await multipartUpload(this.transport, key, first, contentType, { [META_SHA256]: sha256 });
        return { ...this.info(obj), sha256 };
      }
    } catch (e) {
      reader.cancel(e);
      throw e;
    }
    let sha256 = "";
    const obj = await resumableUpload(this.transport, {
      name: key,
      reader,
      first,
      chunkSize: this.chunkSize,
      contentType,
      metadata: options.sha256 ? { [META_SHA256]: options.sha256 } : {},
      beforeFinal: () => void (sha256 = check()),
    });
    if (!options.sha256) await this.recordSha256(key, obj, sha256);
    return { ...this.info(obj), sha256 };
  }

  /**
   * The SHA-256 of a streamed upload is known only at its end, after the session's metadata was sent: it is added
   * with a metadata patch bound to this generation (the pin does not change; a newer upload is left alone).
   */
  private async recordSha256(key: string, obj: ObjectResource, sha256: string): Promise<void> {
    const res = await this.transport.send(`record SHA-256 of ${key}`, {
      method: "PATCH",
      url: this.transport.objectUrl(key, { ifGenerationMatch: obj.generation }),
      headers: { "content-type": "application/json; charset=UTF-8" },
      body: JSON.stringify({ metadata: { [META_SHA256]: sha256 } }),
      idempotent: true,
      accept: (s) => (s >= 200 && s < 300) || s === 412,
    });
    await readBoundedText(res);
    obj.metadata[META_SHA256] = sha256;
  }

  async get(key: string, range?: ByteRange): Promise<GetResult> {
    assertSafeKey(key);
    const headers: Record<string, string> = range ? { range: rangeHeader(range) } : {};
    const { res, controller } = await this.transport.sendForStream(`get ${key}`, { method: "GET", url: this.transport.objectUrl(key, { alt: "media" }), headers, idempotent: true });
    return streamedObject(res, controller, range, this.transport.policy.idleTimeoutMs, `get ${key} (${this.description})`, () => {
      const generation = res.headers.get("x-goog-generation");
      const size = parseLength(res.headers.get("content-length"));
      if (!generation || !/^\d{1,20}$/.test(generation) || size === undefined) {
        throw new StorageError("Transient", `get ${key} (${this.description}): response lacks X-Goog-Generation or Content-Length`);
      }
      const contentType = res.headers.get("content-type") ?? undefined;
      return { size, pin: generation, ...(contentType ? { contentType } : {}) };
    });
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    assertSafeKey(key);
    const res = await this.transport.send(`head ${key}`, { method: "GET", url: this.transport.objectUrl(key), idempotent: true, accept: (s) => (s >= 200 && s < 300) || s === 404 });
    if (res.status === 404) {
      // Distinguish a missing object from a missing bucket: the latter is a configuration error.
      const err = await this.transport.errorFrom(`head ${key}`, res);
      if (/bucket/i.test(err.message) && !/object/i.test(err.message)) throw err;
      return undefined;
    }
    return this.info(parseObjectResource(`head ${key} (${this.description})`, await readBoundedText(res)));
  }

  async delete(key: string): Promise<void> {
    assertSafeKey(key);
    const res = await this.transport.send(`delete ${key}`, { method: "DELETE", url: this.transport.objectUrl(key), idempotent: true, accept: (s) => (s >= 200 && s < 300) || s === 404 });
    await readBoundedText(res);
  }

  async presign(key: string, ttlSeconds: number): Promise<string> {
    assertSafeKey(key);
    if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > 604_800) {
      throw new StorageError("Invalid", `GCS signed URL lifetime must be 1..604800 s, got ${ttlSeconds}`);
    }
    // A signed URL carries the signer's identity to its host: only hosts this client may reach get one.
    assertEndpointAllowed(this.transport.guard, this.transport.objectUrl(key), `presign ${key} (${this.description})`);
    const signer = await this.transport.options.credentials.signer();
    const endpoint = this.transport.options.endpoint;
    try {
      const signed = await signedUrlV4(
        { bucket: this.transport.options.bucket, object: key, method: "GET", expiration: ttlSeconds, timestamp: new Date(), ...(endpoint ? { clientEndpoint: endpoint.replace(/\/+$/, "") } : {}) },
        signer,
      );
      return signed.url;
    } catch (e) {
      if (e instanceof StorageError) throw e;
      throw new StorageError("Credentials", `sign URL for ${key} (${this.description}) as ${signer.email}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  }

  private info(obj: ObjectResource): ObjectInfo {
    const sha = obj.metadata[META_SHA256];
    return {
      size: obj.size,
      pin: obj.generation,
      ...(isBase64Sha256(sha) ? { sha256: sha } : {}),
      ...(obj.updated ? { lastModified: obj.updated } : {}),
      ...(obj.contentType ? { contentType: obj.contentType } : {}),
    };
  }
}
