// Bucket downloads (Azure Blob on Azurite, a real peer that checks SharedKey signatures) through the registry's real
// listener: a body that fits the memory budget carries its Content-Length (Bun sends every stream chunked), ranges
// stay exact, and a storage connection that dies mid-body never reaches the client as a complete short file: a
// buffered body becomes a 503, a streamed one a cut connection. A relay in front of Azurite cuts the answer to a GET.
// Bounded by byte and response counts, never by time.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startAzurite, type AzuritePeer } from "../../test/peers/azurite.ts";
import { startCuttingProxy, type CuttingProxy } from "../../test/support/cutting-proxy.ts";
import { settle, startDownloadServer, type DownloadServer } from "../../test/support/download-server.ts";
import { RawDownload, type RawResult } from "../../test/support/raw-download.ts";
import { AzureBlobStorage } from "../storage/azure.ts";
import { DEFAULT_BUFFER_BUDGET } from "./framed-download.ts";

const MIB = 1024 * 1024;
let azurite: AzuritePeer;
let proxy: CuttingProxy;
let server: DownloadServer;

beforeAll(async () => {
  azurite = await startAzurite();
  proxy = await startCuttingProxy(azurite.accountUrl);
  const backing = new AzureBlobStorage({
    accountUrl: proxy.url,
    accountName: azurite.accountName,
    container: "opendepot-framing",
    credential: { kind: "sharedKey", key: { accountName: azurite.accountName, accountKey: azurite.accountKey }, source: "azurite key" },
    retries: 0,
  });
  server = await startDownloadServer({ backing });
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await proxy?.stop();
  await azurite?.stop();
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

test("buffered bodies are bounded in total: clients that stop reading hold at most the budget; the rest stream", { timeout: 60_000 }, async () => {
  const size = DEFAULT_BUFFER_BUDGET.maxBody;
  const a = await published("3.0.0", size, 45);
  Bun.gc(true);
  const fits = DEFAULT_BUFFER_BUDGET.total / size;
  const clients = Array.from({ length: fits + 3 }, () => new RawDownload(a.url));
  for (const c of clients) {
    await c.untilReceived(1);
    c.pause();
  }
  // While they all stall, each answer is already framed one way or the other.
  const framed = clients.map((c) => (c.header("content-length") !== undefined ? "length" : c.header("transfer-encoding")));
  const buffered = framed.filter((f) => f === "length").length;
  expect(buffered).toBeLessThanOrEqual(fits);
  expect(buffered).toBeGreaterThan(0);
  expect(framed.filter((f) => f === "chunked").length).toBe(clients.length - buffered);
  for (const c of clients) c.resume();
  for (const r of await Promise.all(clients.map((c) => c.done))) expect(r).toMatchObject({ status: 200, bytes: size, sha256: a.sha256, cut: false });
});
