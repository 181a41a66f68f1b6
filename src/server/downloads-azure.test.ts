// Proxied downloads from a bucket stay streamed with flat memory: Azure Blob on Azurite (a real peer that checks
// SharedKey signatures), through the registry's listener. A client that stalls stops the reads from the bucket (the
// server pulls what the socket takes, not the object), and this process's memory does not grow with the object.
// Bound by byte counts, not by time. (S3 and GCS share the same path: storage.get's fetch body, streamed.)
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startAzurite, type AzuritePeer } from "../../test/peers/azurite.ts";
import { Recording, settle, startDownloadServer, type DownloadServer } from "../../test/support/download-server.ts";
import { RawDownload } from "../../test/support/raw-download.ts";
import { AzureBlobStorage } from "../storage/azure.ts";
import { PinnedFileResponse } from "./pinned-file-response.ts";

const MIB = 1024 * 1024;
const SIZE = 128 * MIB;
let azurite: AzuritePeer;
let server: DownloadServer;
let recording: Recording;

beforeAll(async () => {
  azurite = await startAzurite();
  const backing = new AzureBlobStorage({
    accountUrl: azurite.accountUrl,
    accountName: azurite.accountName,
    container: "opendepot-downloads",
    credential: { kind: "sharedKey", key: { accountName: azurite.accountName, accountKey: azurite.accountKey }, source: "azurite key" },
  });
  server = await startDownloadServer({ backing, wrapStorage: (s) => (recording = new Recording(s, true)) });
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await azurite?.stop();
}, 30_000);

const rssMiB = () => process.memoryUsage().rss / MIB;

test("a stalled client stops the reads from Azure Blob and memory does not follow the object; then it completes intact", { timeout: 120_000 }, async () => {
  const a = await server.publish("1.0.0", SIZE, 31);
  const head = await fetch(a.url, { method: "HEAD" }); // verifies the pin: one full read, before measuring
  expect(head.status).toBe(200);
  Bun.gc(true);
  const rssBefore = rssMiB();
  recording.pulled = 0;

  const d = new RawDownload(a.url);
  await d.untilReceived(MIB);
  d.pause();
  let last = -1;
  const stable = await settle(async () => {
    const before = last;
    await Bun.sleep(100);
    last = recording.pulled;
    return before === last;
  }, (same) => same, 100, 0);
  expect(stable).toBe(true);
  // What the server took from the bucket is what the socket and Bun's sink hold, not the object.
  expect(recording.pulled - d.received).toBeLessThanOrEqual(16 * MIB);
  Bun.gc(true);
  expect(rssMiB() - rssBefore).toBeLessThan(48);

  d.resume();
  const r = await d.done;
  expect(r).toMatchObject({ status: 200, bytes: SIZE, sha256: a.sha256, cut: false });
  Bun.gc(true);
  expect(rssMiB() - rssBefore).toBeLessThan(48);
});

test("bucket-backed downloads are never path-backed responses", async () => {
  const a = await server.publish("1.1.0", MIB, 32);
  await (await fetch(a.url, { method: "HEAD" })).arrayBuffer();
  const res = await server.handle(new Request(a.url));
  expect(res.status).toBe(200);
  expect(res).not.toBeInstanceOf(PinnedFileResponse);
  expect(new Uint8Array(await res.arrayBuffer()).length).toBe(MIB);
});
