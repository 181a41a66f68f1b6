// One behavioural suite every ArtifactStorage backend must pass (filesystem, S3 on Swift, Azure on Azurite, GCS on
// the JSON-API fake). Declares bun:test blocks; each backend's test file calls storageConformance() with its setup.
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sleep } from "../kits/sleep.ts";
import { StorageError, type ArtifactStorage, type StorageErrorKind } from "./types.ts";

export interface ConformanceSubject {
  storage: ArtifactStorage;
  cleanup(): Promise<void>;
  /** The peer rejects tampered and expired pre-signed URLs (Swift, Azurite, the GCS fake). */
  checksPresignSignatures: boolean;
  /** false: presign() must fail with StorageError("Unsupported") (filesystem). Default true. */
  supportsPresign?: boolean;
  /** A client of the same store whose credentials are wrong (wrong secret / key / token). */
  denied?: () => ArtifactStorage;
  /** A size above the backend's single-request threshold, so the chunked path (multipart/blocks/resumable) runs. */
  largeSize?: number;
  /** Unfinished uploads left for a key (S3 in-progress multipart uploads, GCS sessions, Azure uncommitted blocks). */
  pendingUploads?: (key: string) => Promise<number>;
}

/** Deterministic bytes (xorshift), different per seed, so a mixed-up part or offset shows. */
export function testBytes(size: number, seed = 1): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** A stream of `data` in chunks of an awkward size (never aligned with parts or blocks). */
export function streamOf(data: Uint8Array, chunk = 64 * 1024 + 7): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(c) {
      if (offset >= data.byteLength) return c.close();
      c.enqueue(data.slice(offset, offset + chunk));
      offset += chunk;
    },
  });
}

/** A stream that yields `good` bytes and then fails, like an upstream connection dropping midway. */
export function failingStream(good: number, chunk = 256 * 1024): ReadableStream<Uint8Array> {
  const data = testBytes(Math.min(good, chunk), 9);
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    pull(c) {
      if (sent >= good) return c.error(new Error("upstream connection reset (test)"));
      const n = Math.min(chunk, good - sent);
      c.enqueue(data.slice(0, n));
      sent += n;
    },
  });
}

export const sha256b64 = (d: Uint8Array) => createHash("sha256").update(d).digest("base64");

async function bytesOf(stream: ReadableStream<Uint8Array>): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

async function expectStorageError(p: Promise<unknown>, kind: StorageErrorKind): Promise<StorageError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(StorageError);
    expect((e as StorageError).kind).toBe(kind);
    return e as StorageError;
  }
  throw new Error(`expected StorageError(${kind}), got success`);
}

export function storageConformance(name: string, setup: () => Promise<ConformanceSubject>): void {
  describe(`ArtifactStorage conformance: ${name}`, () => {
    let s: ConformanceSubject;
    const run = crypto.randomUUID().slice(0, 8);
    const key = (k: string) => `conf-${run}/team/modules/${k}/0190f3c1-7c2a-7b6e-9c1d-3a4b5c6d7e8f.zip`;

    // Hooks get bun's 5 s default otherwise; peers such as Swift take ~10 s to start.
    beforeAll(async () => {
      s = await setup();
    }, 120_000);
    afterAll(async () => {
      await s?.cleanup();
    }, 60_000);

    test("put, head and get round-trip bytes, size, pin and SHA-256", async () => {
      const data = testBytes(300_001, 1);
      const put = await s.storage.put(key("small"), streamOf(data), { contentType: "application/zip" });
      expect(put.size).toBe(data.byteLength);
      expect(put.sha256).toBe(sha256b64(data));
      expect(put.pin).toBeTruthy();
      const head = await s.storage.head(key("small"));
      expect(head?.size).toBe(data.byteLength);
      expect(head?.pin).toBe(put.pin);
      if (head?.sha256 !== undefined) expect(head.sha256).toBe(put.sha256);
      const got = await s.storage.get(key("small"));
      expect(got.size).toBe(data.byteLength);
      expect(got.pin).toBe(put.pin);
      expect(got.range).toBeUndefined();
      expect(sha256b64(await bytesOf(got.body))).toBe(put.sha256);
    });

    test("ranged gets return exactly the requested bytes", async () => {
      const data = testBytes(100_000, 2);
      await s.storage.put(key("range"), streamOf(data));
      const mid = await s.storage.get(key("range"), { start: 10, end: 19 });
      expect(mid.range).toEqual({ start: 10, end: 19 });
      expect(await bytesOf(mid.body)).toEqual(data.slice(10, 20));
      const tail = await s.storage.get(key("range"), { start: 99_990 });
      expect(tail.range).toEqual({ start: 99_990, end: 99_999 });
      expect(await bytesOf(tail.body)).toEqual(data.slice(99_990));
    });

    test("an empty object round-trips", async () => {
      const put = await s.storage.put(key("empty"), streamOf(new Uint8Array(0)));
      expect(put.size).toBe(0);
      expect(put.sha256).toBe(sha256b64(new Uint8Array(0)));
      expect((await s.storage.head(key("empty")))?.size).toBe(0);
      expect((await bytesOf((await s.storage.get(key("empty"))).body)).byteLength).toBe(0);
    });

    test("absent objects: head is undefined, get is NotFound, delete succeeds", async () => {
      expect(await s.storage.head(key("absent"))).toBeUndefined();
      await expectStorageError(s.storage.get(key("absent")), "NotFound");
      await s.storage.delete(key("absent"));
    });

    test("overwrite replaces the object and changes the pin; delete removes it", async () => {
      const first = await s.storage.put(key("overwrite"), streamOf(testBytes(5000, 3)));
      const second = await s.storage.put(key("overwrite"), streamOf(testBytes(6000, 4)));
      expect(second.pin).not.toBe(first.pin);
      const got = await s.storage.get(key("overwrite"));
      expect(await bytesOf(got.body)).toEqual(testBytes(6000, 4));
      await s.storage.delete(key("overwrite"));
      expect(await s.storage.head(key("overwrite"))).toBeUndefined();
      await expectStorageError(s.storage.get(key("overwrite")), "NotFound");
    });

    test("a put above the single-request threshold round-trips (multipart / blocks / chunks)", async () => {
      const size = s.largeSize ?? 12 * 1024 * 1024 + 12_345;
      const data = testBytes(size, 5);
      const put = await s.storage.put(key("large"), streamOf(data));
      expect(put.size).toBe(size);
      expect(put.sha256).toBe(sha256b64(data));
      const head = await s.storage.head(key("large"));
      expect(head?.size).toBe(size);
      expect(head?.pin).toBe(put.pin);
      expect(sha256b64(await bytesOf((await s.storage.get(key("large"))).body))).toBe(put.sha256);
      // Across an internal boundary (5 MiB is S3's minimum part; blocks and chunks align on powers of two).
      const boundary = Math.min(5 * 1024 * 1024, Math.floor(size / 2));
      const r = await s.storage.get(key("large"), { start: boundary - 3, end: boundary + 2 });
      expect(await bytesOf(r.body)).toEqual(data.slice(boundary - 3, boundary + 3));
      if (s.pendingUploads) expect(await s.pendingUploads(key("large"))).toBe(0);
    });

    test("an upload whose body fails midway leaves nothing behind", async () => {
      const large = s.largeSize ?? 12 * 1024 * 1024 + 12_345;
      for (const [k, good] of [["aborted-small", 1000], ["aborted-large", large - 1]] as const) {
        let failed = false;
        await s.storage.put(key(k), failingStream(good)).catch(() => (failed = true));
        expect(failed).toBe(true);
        expect(await s.storage.head(key(k))).toBeUndefined();
        if (s.pendingUploads) expect(await s.pendingUploads(key(k))).toBe(0);
      }
    });

    test("a failed upload does not damage the previous object", async () => {
      const data = testBytes(20_000, 6);
      const put = await s.storage.put(key("keep"), streamOf(data));
      await s.storage.put(key("keep"), failingStream(s.largeSize ?? 12 * 1024 * 1024)).catch(() => {});
      const head = await s.storage.head(key("keep"));
      expect(head?.pin).toBe(put.pin);
      expect(await bytesOf((await s.storage.get(key("keep"))).body)).toEqual(data);
    });

    test("wrong credentials are Denied, not NotFound", async () => {
      if (!s.denied) return void expect(s.denied).toBeUndefined();
      const bad = s.denied();
      await s.storage.put(key("denied"), streamOf(testBytes(100, 7)));
      await expectStorageError(bad.get(key("denied")), "Denied");
      await expectStorageError(bad.head(key("denied")), "Denied");
      await expectStorageError(bad.put(key("denied-put"), streamOf(testBytes(100, 7))), "Denied");
      await expectStorageError(bad.delete(key("denied")), "Denied");
      expect(await s.storage.head(key("denied"))).toBeDefined();
    });

    test("pre-signed URLs work with a plain HTTP client (or are Unsupported)", async () => {
      const data = testBytes(4096, 8);
      await s.storage.put(key("presign"), streamOf(data));
      if (s.supportsPresign === false) {
        await expectStorageError(s.storage.presign(key("presign"), 60), "Unsupported");
        return;
      }
      const url = await s.storage.presign(key("presign"), 60);
      const res = await fetch(url);
      expect(res.status).toBe(200);
      expect(new Uint8Array(await res.arrayBuffer())).toEqual(data);
      if (!s.checksPresignSignatures) return;
      // Tampered: the same signature for another object, and a flipped signature character.
      const other = url.replace("presign", "presigX");
      expect((await fetch(other)).status).toBeOneOf([401, 403]);
      // First plain alphanumeric of the signature (not inside a %XX escape, which would make it invalid UTF-8).
      const flipped = url.replace(/([?&](?:X-Amz-Signature|X-Goog-Signature|sig)=(?:%[0-9A-Fa-f]{2}|[^&%A-Za-z0-9])*)([A-Za-z0-9])/, (_, p: string, c: string) => `${p}${c === "a" ? "b" : "a"}`);
      expect(flipped).not.toBe(url);
      expect((await fetch(flipped)).status).toBeOneOf([401, 403]);
      // Expired (GCS answers 400 ExpiredToken, S3 and Azure 403).
      const short = await s.storage.presign(key("presign"), 1);
      await sleep(2100);
      expect((await fetch(short)).status).toBeOneOf([400, 401, 403]);
    });
  });
}
