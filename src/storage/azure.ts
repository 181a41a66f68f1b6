// Azure Blob Storage behind ArtifactStorage: one container per storage config (created on first write), blob name =
// object key. Small objects are one Put Blob; larger ones are streamed as blocks (one buffered at a time) and
// committed with Put Block List, which is atomic: readers see the old blob or the new one, never a partial one.
import { createHash } from "node:crypto";
import { AZURE_API_VERSION, serviceSas, userDelegationSas, type UserDelegationKey } from "./azure-sign.ts";
import { AzureTransport } from "./azure-request.ts";
import { assertEndpointAllowed, type GuardedClientOptions } from "./endpoint-guard.ts";
import { MiB, PartReader, isBase64Sha256 } from "./chunks.ts";
import { azureCredentialFromEnv, type AzureCredential } from "./credentials/azure.ts";
import type { Env } from "./credentials/http.ts";
import { bareEtag, contentTypeFor, discardBody, parseDate, parseLength, readBoundedText, type HttpPolicy, streamedObject } from "./http.ts";
import { assertSafeKey } from "./keys.ts";
import { StorageError, type ArtifactStorage, type ByteRange, type GetResult, type ObjectInfo, type PutOptions, type PutResult } from "./types.ts";
import { xmlText } from "./xml.ts";

export interface AzureBlobOptions extends HttpPolicy, GuardedClientOptions {
  accountUrl: string;
  accountName: string;
  /** Container holding this config's artifacts (default "opendepot"); created if missing. */
  container?: string;
  /** Explicit credential; otherwise AZURE_STORAGE_KEY / connection string / workload identity from env. */
  credential?: AzureCredential;
  env?: Env;
  /** Objects up to this size go in one Put Blob (default 8 MiB); larger ones as blocks of `blockSize`. */
  singlePutThreshold?: number;
  /** Block size (default max(threshold, 4 MiB)); Azure allows up to 4000 MiB per block and 50,000 blocks. */
  blockSize?: number;
}

const META_SHA256 = "x-ms-meta-sha256";

export class AzureBlobStorage implements ArtifactStorage {
  readonly description: string;
  readonly transport: AzureTransport;
  private readonly threshold: number;
  private readonly blockSize: number;
  private containerReady: Promise<void> | undefined;
  private delegationKey: { key: UserDelegationKey; expiresAt: number } | undefined;

  constructor(options: AzureBlobOptions) {
    const credential = options.credential ?? azureCredentialFromEnv(options.accountName, { env: options.env, fetch: options.fetch });
    this.transport = new AzureTransport({ ...options, container: options.container ?? "opendepot", credential });
    this.description = this.transport.description;
    this.threshold = options.singlePutThreshold ?? 8 * MiB;
    this.blockSize = Math.max(options.blockSize ?? 4 * MiB, this.threshold, 1);
    if (this.blockSize > 4000 * MiB) throw new StorageError("Invalid", `Azure block size ${this.blockSize} exceeds 4000 MiB`);
  }

  /** Creates the container once per instance; 409 (already exists) is the normal case. */
  private ensureContainer(): Promise<void> {
    this.containerReady ??= (async () => {
      const res = await this.transport.send("create container", {
        method: "PUT",
        query: { restype: "container" },
        idempotent: true,
        accept: (s) => s === 201 || s === 409,
      });
      await discardBody(res);
    })().catch((e) => {
      this.containerReady = undefined;
      throw e;
    });
    return this.containerReady;
  }

  async put(key: string, body: ReadableStream<Uint8Array>, options: PutOptions = {}): Promise<PutResult> {
    assertSafeKey(key);
    if (options.sha256 !== undefined && !isBase64Sha256(options.sha256)) throw new StorageError("Invalid", `invalid expected SHA-256 ${JSON.stringify(options.sha256)}`);
    const reader = new PartReader(body);
    const contentType = options.contentType ?? contentTypeFor(key);
    try {
      await this.ensureContainer();
      // Keep under Azure's 50,000-block limit when the size is known.
      const blockSize = options.size && options.size / this.blockSize > 45_000 ? Math.ceil(options.size / 45_000 / MiB) * MiB : this.blockSize;
      const first = await reader.read(blockSize);
      const single = first.byteLength <= this.threshold && (await reader.atEnd());
      if (single) {
        const sha256 = this.checkSha(key, reader.sha256(), options.sha256);
        const res = await this.transport.send(`put ${key}`, {
          method: "PUT",
          blob: key,
          headers: { "x-ms-blob-type": "BlockBlob", "content-type": contentType, "content-md5": md5(first), [META_SHA256]: sha256 },
          body: first,
          idempotent: true,
          timeoutMs: this.transport.policy.uploadTimeoutMs,
        });
        await discardBody(res);
        return { ...this.written(key, res, first.byteLength), sha256, contentType };
      }
      // Block ids are unique per upload so that a concurrent or retried upload never commits another's blocks.
      const uploadId = crypto.randomUUID().replaceAll("-", "");
      const ids: string[] = [];
      for (let block = first; block.byteLength > 0; block = await reader.read(blockSize)) {
        const id = Buffer.from(`${uploadId}-${String(ids.length).padStart(6, "0")}`).toString("base64");
        const res = await this.transport.send(`put block ${ids.length} of ${key}`, {
          method: "PUT",
          blob: key,
          query: { comp: "block", blockid: id },
          headers: { "content-md5": md5(block) },
          body: block,
          idempotent: true,
          timeoutMs: this.transport.policy.uploadTimeoutMs,
        });
        await discardBody(res);
        ids.push(id);
        if (block.byteLength < blockSize) break;
      }
      const sha256 = this.checkSha(key, reader.sha256(), options.sha256);
      const list = `<?xml version="1.0" encoding="utf-8"?><BlockList>${ids.map((id) => `<Latest>${id}</Latest>`).join("")}</BlockList>`;
      const res = await this.transport.send(`put block list of ${key}`, {
        method: "PUT",
        blob: key,
        query: { comp: "blocklist" },
        headers: { "content-type": "application/xml", "x-ms-blob-content-type": contentType, [META_SHA256]: sha256 },
        body: list,
        idempotent: true,
        timeoutMs: this.transport.policy.uploadTimeoutMs,
      });
      await discardBody(res);
      return { ...this.written(key, res, reader.bytesRead), sha256, contentType };
    } catch (e) {
      // Uncommitted blocks are invisible to readers and discarded by the service (after 7 days at the latest);
      // Azure has no call to drop them for a blob that was never committed.
      reader.cancel(e);
      throw e;
    }
  }

  private checkSha(key: string, actual: string, expected: string | undefined): string {
    if (expected && expected !== actual) throw new StorageError("Invalid", `upload of ${key}: content SHA-256 ${actual} does not match the expected ${expected}`);
    return actual;
  }

  private written(key: string, res: Response, size: number): ObjectInfo {
    const pin = bareEtag(res.headers.get("etag"));
    if (!pin) throw new StorageError("Transient", `put ${key} (${this.description}): response has no ETag`);
    const lastModified = parseDate(res.headers.get("last-modified"));
    return { size, pin, ...(lastModified ? { lastModified } : {}) };
  }

  async get(key: string, range?: ByteRange): Promise<GetResult> {
    assertSafeKey(key);
    const headers: Record<string, string> = {};
    if (range) {
      const { start, end } = range;
      if (!Number.isSafeInteger(start) || start < 0 || (end !== undefined && (!Number.isSafeInteger(end) || end < start))) {
        throw new StorageError("Invalid", `invalid byte range ${JSON.stringify(range)}`);
      }
      headers["x-ms-range"] = `bytes=${start}-${end ?? ""}`;
    }
    const { res, controller } = await this.transport.sendForStream(`get ${key}`, { method: "GET", blob: key, headers, idempotent: true });
    return streamedObject(res, controller, range, this.transport.policy.idleTimeoutMs, `get ${key} (${this.description})`, () => this.infoFrom(key, res));
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    assertSafeKey(key);
    const res = await this.transport.send(`head ${key}`, { method: "HEAD", blob: key, idempotent: true, accept: (s) => (s >= 200 && s < 300) || s === 404 });
    if (res.status === 404) return undefined;
    return this.infoFrom(key, res);
  }

  async delete(key: string): Promise<void> {
    assertSafeKey(key);
    // 404 (blob or container absent) = already deleted.
    const res = await this.transport.send(`delete ${key}`, { method: "DELETE", blob: key, idempotent: true, accept: (s) => (s >= 200 && s < 300) || s === 404 });
    await discardBody(res);
  }

  /** A read-only SAS URL: service SAS with an account key, user-delegation SAS with an Entra token. */
  async presign(key: string, ttlSeconds: number): Promise<string> {
    assertSafeKey(key);
    if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > 7 * 86400) {
      throw new StorageError("Invalid", `Azure SAS lifetime must be 1..604800 s, got ${ttlSeconds}`);
    }
    assertEndpointAllowed(this.transport.guard, this.transport.url({ blob: key }), `presign ${key} (${this.description})`);
    const now = Date.now();
    const o = this.transport.options;
    const input = {
      accountName: o.accountName,
      container: o.container,
      blob: key,
      permissions: "r",
      // Start a little in the past: clocks of client and service are never quite equal.
      start: new Date(now - 5 * 60_000),
      expiry: new Date(now + ttlSeconds * 1000),
      protocol: o.accountUrl.startsWith("https:") ? "https" : "https,http",
    };
    const sas = o.credential.kind === "sharedKey" ? serviceSas(input, o.credential.key.accountKey) : userDelegationSas(input, await this.userDelegationKey(now + ttlSeconds * 1000));
    return `${this.transport.url({ blob: key })}?${sas}`;
  }

  /** A user delegation key valid at least until `until` (cached; Azure allows up to 7 days). */
  private async userDelegationKey(until: number): Promise<UserDelegationKey> {
    if (this.delegationKey && this.delegationKey.expiresAt >= until) return this.delegationKey.key;
    const start = new Date(Date.now() - 5 * 60_000);
    const expiry = new Date(Math.min(Date.now() + 7 * 86400_000 - 60_000, Math.max(until, Date.now() + 3600_000)));
    const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, "Z");
    const res = await this.transport.send("get user delegation key", {
      method: "POST",
      blob: null,
      query: { restype: "service", comp: "userdelegationkey" },
      headers: { "content-type": "application/xml" },
      body: `<?xml version="1.0" encoding="utf-8"?><KeyInfo><Start>${iso(start)}</Start><Expiry>${iso(expiry)}</Expiry></KeyInfo>`,
      idempotent: true,
    });
    const xml = await readBoundedText(res);
    const field = (name: string) => {
      const v = xmlText(xml, name);
      if (!v || v.length > 256) throw new StorageError("Transient", `get user delegation key (${this.description}): response lacks ${name}`);
      return v;
    };
    const key: UserDelegationKey = {
      signedOid: field("SignedOid"),
      signedTid: field("SignedTid"),
      signedStart: field("SignedStart"),
      signedExpiry: field("SignedExpiry"),
      signedService: field("SignedService"),
      signedVersion: xmlText(xml, "SignedVersion") ?? AZURE_API_VERSION,
      value: field("Value"),
    };
    this.delegationKey = { key, expiresAt: new Date(key.signedExpiry).getTime() || expiry.getTime() };
    return key;
  }

  private infoFrom(key: string, res: Response): ObjectInfo {
    const pin = bareEtag(res.headers.get("etag"));
    const size = parseLength(res.headers.get("content-length"));
    if (!pin || size === undefined) throw new StorageError("Transient", `${key} (${this.description}): response lacks ETag or Content-Length`);
    const sha = res.headers.get(META_SHA256);
    const lastModified = parseDate(res.headers.get("last-modified"));
    const contentType = res.headers.get("content-type") ?? undefined;
    return { size, pin, ...(isBase64Sha256(sha) ? { sha256: sha } : {}), ...(lastModified ? { lastModified } : {}), ...(contentType ? { contentType } : {}) };
  }
}

function md5(data: Uint8Array): string {
  return createHash("md5").update(data).digest("base64");
}
