// Bucket downloads through the registry's real listener, on each bucket backend: Azure Blob on Azurite and S3 on
// OpenStack Swift's s3api (real peers that check SharedKey / SigV4 signatures), GCS on the JSON-API fake. A body that
// fits the memory budget carries its Content-Length (Bun sends every stream chunked), ranges stay exact, a verified
// object costs one GET to the bucket (no HEAD), and a storage connection that dies mid-body never reaches the client
// as a complete short file: a buffered body becomes a 503, a streamed one a cut connection. A TCP relay in front of
// each peer cuts the answer to a GET. Bounded by byte, request and response counts, never by time.
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { generateKeyPairSync } from "node:crypto";
import { startGcsFake, type GcsFake } from "../../fixtures/gcs-fake.ts";
import { startAzurite, type AzuritePeer } from "../../test/peers/azurite.ts";
import { startSwift, type SwiftPeer } from "../../test/peers/swift.ts";
import { startCuttingProxy, type CuttingProxy } from "../../test/support/cutting-proxy.ts";
import { settle, startDownloadServer, type DownloadServer } from "../../test/support/download-server.ts";
import { RawDownload, type RawResult } from "../../test/support/raw-download.ts";
import { AzureBlobStorage } from "../storage/azure.ts";
import { serviceAccountCredentials } from "../storage/credentials/gcp.ts";
import { staticAwsCredentials } from "../storage/credentials/aws.ts";
import { GcsStorage } from "../storage/gcs.ts";
import { S3Storage } from "../storage/s3.ts";
import type { ArtifactStorage } from "../storage/types.ts";
import { DEFAULT_BUFFER_BUDGET, processBufferBudget } from "./framed-download.ts";

const MIB = 1024 * 1024;

interface Backend {
  /** The peer's base URL, which the relay fronts. */
  target: string;
  /** The bucket client, talking to the peer through the relay at `url`. */
  storage(url: string): ArtifactStorage;
  stop(): Promise<void>;
}

const GCS_EMAIL = "framing@opendepot-test.iam.gserviceaccount.com";
const backends: Record<string, () => Promise<Backend>> = {
  "Azure Blob (Azurite)": async () => {
    const azurite: AzuritePeer = await startAzurite();
    return {
      target: azurite.accountUrl,
      storage: (url) =>
        new AzureBlobStorage({
          accountUrl: url,
          accountName: azurite.accountName,
          container: "opendepot-framing",
          credential: { kind: "sharedKey", key: { accountName: azurite.accountName, accountKey: azurite.accountKey }, source: "azurite key" },
          retries: 0,
        }),
      stop: () => azurite.stop(),
    };
  },
  "S3 (Swift s3api)": async () => {
    const swift: SwiftPeer = await startSwift();
    return {
      target: swift.endpoint,
      storage: (url) =>
        new S3Storage({ bucket: swift.bucket, region: swift.region, endpoint: url, forcePathStyle: true, credentials: staticAwsCredentials({ accessKeyId: swift.accessKeyId, secretAccessKey: swift.secretAccessKey }), retries: 0 }),
      stop: () => swift.stop(),
    };
  },
  "GCS (JSON-API fake)": async () => {
    const keys = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const privatePem = keys.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const fake: GcsFake = await startGcsFake({ buckets: ["opendepot-framing"], serviceAccounts: [{ email: GCS_EMAIL, publicKey: keys.publicKey }] });
    return {
      target: fake.url,
      storage: (url) =>
        new GcsStorage({
          bucket: "opendepot-framing",
          endpoint: url,
          credentials: serviceAccountCredentials({ type: "service_account", client_email: GCS_EMAIL, private_key: privatePem, token_uri: fake.tokenUri }),
          retries: 0,
          // One-request uploads: the fake's resumable session URI names its own origin, which the client (rightly)
          // refuses when it came through the relay.
          resumableThreshold: 64 * MIB,
        }),
      stop: () => fake.stop(),
    };
  },
};

for (const [name, start] of Object.entries(backends)) {
  describe(name, () => {
    let backend: Backend;
    let proxy: CuttingProxy;
    let server: DownloadServer;

    beforeAll(async () => {
      backend = await start();
      proxy = await startCuttingProxy(backend.target);
      server = await startDownloadServer({ backing: backend.storage(proxy.url) });
    }, 60_000);

    // The budget is the process's: what an earlier suite's answers reserved comes back once they are collected.
    beforeEach(async () => {
      expect(await settle(async () => (Bun.gc(true), processBufferBudget.inUse), (n) => n === 0)).toBe(0);
    });

    afterAll(async () => {
      await server?.stop();
      await proxy?.stop();
      await backend?.stop();
    }, 30_000);

    const headers = (r: RawResult, name: string) => r.headerLines.filter((l) => l.toLowerCase().startsWith(`${name}:`)).map((l) => l.slice(name.length + 1).trim());

    /** Publishes and verifies (the first HEAD hashes the whole object), so the measured GET is a plain one. */
    async function published(version: string, size: number, seed: number) {
      const a = await server.publish(version, size, seed);
      const head = await fetch(a.url, { method: "HEAD" });
      expect(head.status).toBe(200);
      expect(head.headers.get("content-length")).toBe(String(size));
      return a;
    }

    test("a bucket object within the budget is answered with one Content-Length, not chunked; ranges are exact", async () => {
      const a = await published("1.0.0", 3 * MIB + 17, 41);
      const before = { ...proxy.requests };
      const whole = await new RawDownload(a.url).done;
      // Verified before: the GET's own answer tells the ETag, so no HEAD goes to the bucket.
      expect(proxy.requests).toEqual({ GET: before.GET + 1, HEAD: before.HEAD });
      expect(whole).toMatchObject({ status: 200, bytes: a.size, sha256: a.sha256, cut: false });
      expect(headers(whole, "content-length")).toEqual([String(a.size)]);
      expect(headers(whole, "transfer-encoding")).toEqual([]);

      const bytes = new Uint8Array(await (await fetch(a.url)).arrayBuffer());
      const hex = (b: Uint8Array) => new Bun.CryptoHasher("sha256").update(b).digest("hex");
      const mid = await new RawDownload(a.url, { range: "bytes=1000-99999" }).done;
      expect(mid).toMatchObject({ status: 206, bytes: 99000, sha256: hex(bytes.subarray(1000, 100000)), cut: false });
      expect(headers(mid, "content-length")).toEqual(["99000"]);
      expect(headers(mid, "content-range")).toEqual([`bytes 1000-99999/${a.size}`]);
      const suffix = await new RawDownload(a.url, { range: "bytes=-5" }).done;
      expect(suffix).toMatchObject({ status: 206, bytes: 5, sha256: hex(bytes.subarray(a.size - 5)) });
      expect(headers(suffix, "content-length")).toEqual(["5"]);
      const open = await new RawDownload(a.url, { range: `bytes=${a.size - 1000}-` }).done;
      expect(open).toMatchObject({ status: 206, bytes: 1000, sha256: hex(bytes.subarray(a.size - 1000)) });
      expect(headers(open, "content-range")).toEqual([`bytes ${a.size - 1000}-${a.size - 1}/${a.size}`]);
    });

    test("a bucket object larger than one buffered body streams (chunked) and arrives whole", async () => {
      const size = DEFAULT_BUFFER_BUDGET.maxBody + MIB;
      const a = await published("1.1.0", size, 42);
      const r = await new RawDownload(a.url).done;
      expect(r).toMatchObject({ status: 200, bytes: size, sha256: a.sha256, cut: false });
      expect(headers(r, "transfer-encoding")).toEqual(["chunked"]);
    });

    test("storage dying mid-body under a buffered download: a 503 to retry, never a short 200", async () => {
      const a = await published("2.0.0", 2 * MIB, 43);
      const cutsBefore = proxy.cuts;
      proxy.cutNextGet(MIB);
      const r = await new RawDownload(a.url).done;
      expect(proxy.cuts).toBe(cutsBefore + 1);
      expect(r.status).toBe(503);
      expect(headers(r, "retry-after")).toEqual(["30"]);
      // The storage connection is fine again: the next download is whole.
      expect(await new RawDownload(a.url).done).toMatchObject({ status: 200, bytes: a.size, sha256: a.sha256, cut: false });
    });

    test("storage dying mid-body under a streamed download: the client's transfer is cut, not completed short", async () => {
      const size = DEFAULT_BUFFER_BUDGET.maxBody + 4 * MIB;
      const a = await published("2.1.0", size, 44);
      const cutsBefore = proxy.cuts;
      proxy.cutNextGet(3 * MIB);
      const r = await new RawDownload(a.url).done;
      expect(proxy.cuts).toBe(cutsBefore + 1);
      expect(r.status).toBe(200);
      expect(r.cut).toBe(true);
      expect(r.bytes).toBeLessThan(size);
      // And through fetch, a client sees an error rather than a body.
      proxy.cutNextGet(3 * MIB);
      const res = await fetch(a.url);
      expect(res.status).toBe(200);
      await expect(res.arrayBuffer()).rejects.toThrow();
      expect(await settle(async () => proxy.cuts, (n) => n === cutsBefore + 2)).toBe(cutsBefore + 2);
      expect(await new RawDownload(a.url).done).toMatchObject({ status: 200, bytes: size, sha256: a.sha256, cut: false });
    });

    test("buffered bodies are bounded in total: with the budget taken, downloads stream; clients that stall keep it bounded", { timeout: 60_000 }, async () => {
      const a = await published("3.0.0", 2 * MIB, 45);
      // Someone holds the whole budget: the next download streams (chunked), whole and intact.
      let held = 0;
      for (let n = processBufferBudget.maxBody; n > 0; n = Math.min(processBufferBudget.maxBody, processBufferBudget.total - processBufferBudget.inUse)) {
        if (!processBufferBudget.take(n)) break;
        held += n;
      }
      expect(processBufferBudget.inUse).toBe(processBufferBudget.total);
      try {
        const streamed = await new RawDownload(a.url).done;
        expect(streamed).toMatchObject({ status: 200, bytes: a.size, sha256: a.sha256, cut: false });
        expect(headers(streamed, "transfer-encoding")).toEqual(["chunked"]);
      } finally {
        processBufferBudget.release(held);
      }
      // Freed: buffered again, with its length.
      const whole = await new RawDownload(a.url).done;
      expect(headers(whole, "content-length")).toEqual([String(a.size)]);
      // Many clients that stop reading: never more than the budget in memory; the rest are streamed.
      const big = await published("3.1.0", DEFAULT_BUFFER_BUDGET.maxBody, 46);
      const clients = Array.from({ length: DEFAULT_BUFFER_BUDGET.total / DEFAULT_BUFFER_BUDGET.maxBody + 3 }, () => new RawDownload(big.url));
      for (const c of clients) {
        await c.untilReceived(1);
        c.pause();
        expect(processBufferBudget.inUse).toBeLessThanOrEqual(processBufferBudget.total);
      }
      const framed = clients.map((c) => (c.header("content-length") !== undefined ? "length" : c.header("transfer-encoding")));
      expect(framed.filter((f) => f === "length").length + framed.filter((f) => f === "chunked").length).toBe(clients.length);
      for (const c of clients) c.resume();
      for (const r of await Promise.all(clients.map((c) => c.done))) expect(r).toMatchObject({ status: 200, bytes: big.size, sha256: big.sha256, cut: false });
    });

  });
}
