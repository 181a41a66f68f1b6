// Proxied downloads from filesystem storage, through the real listener: sent by the kernel from the inode whose pin was
// verified (a path-backed body of /proc/self/fd/N), whatever happens to the key meanwhile; our descriptor closes once
// Bun has its own; stalled and aborted clients release everything; 200 concurrent clients all get intact bytes and
// leave no descriptor behind. Bounded by counts (descriptors, bytes), never by elapsed time.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readdir, readlink, rename, stat, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { descriptorsOn, openDescriptors, Recording, settle, startDownloadServer, type DownloadServer } from "../../test/support/download-server.ts";
import { RawDownload } from "../../test/support/raw-download.ts";
import { PinnedFileResponse } from "./pinned-file-response.ts";

const MIB = 1024 * 1024;
let server: DownloadServer;
let recording: Recording;
/** Sockets and artifact files open once the server is up (its listener), before any download. */

beforeAll(async () => {
  server = await startDownloadServer({ wrapStorage: (fs) => (recording = new Recording(fs)) });
  await server.publish("0.0.1", 1024, 1);
  baselineDownload = (await listDescriptors()).filter((l) => / socket:|\/artifacts\//.test(l));
});
let baselineDownload: string[];
const listDescriptors = async () => Promise.all((await readdir("/proc/self/fd")).map(async (fd) => `${fd} ${await readlink(`/proc/self/fd/${fd}`).catch(() => "?")}`));

afterAll(async () => {
  await server.stop();
});

const onInode = async (inode: { dev: number; ino: number }) => (await descriptorsOn(inode)).length;
const inodeOf = async (file: string) => {
  const st = await stat(file);
  return { dev: st.dev, ino: st.ino };
};

/** Verifies the pin once (a HEAD hashes the object), so the measured download is a plain one. */
async function verified(url: string) {
  const head = await fetch(url, { method: "HEAD" });
  expect(head.status).toBe(200);
}

test("a download is copied by the kernel from the checked inode: ours closes, Bun's lasts until the end", async () => {
  const a = await server.publish("1.0.0", 64 * MIB, 11);
  const inode = await inodeOf(a.file);
  await verified(a.url);
  expect(await onInode(inode)).toBe(0);

  const d = new RawDownload(a.url);
  await d.untilReceived(MIB);
  d.pause();
  // One descriptor on the inode while the client stalls: Bun's (sendfile), not the one storage opened and checked,
  // which was closed once Bun had opened its own (the streamed body would have kept storage's open instead).
  const ours = recording.pinnedFds.at(-1)!;
  const held = await settle(() => descriptorsOn(inode), (fds) => fds.length === 1 && fds[0] !== ours);
  expect(held).toHaveLength(1);
  expect(held[0]).not.toBe(ours);
  d.resume();
  const r = await d.done;
  expect(r).toMatchObject({ status: 200, bytes: a.size, sha256: a.sha256, cut: false });
  expect(await settle(() => onInode(inode), (n) => n === 0)).toBe(0);
});

test("a file renamed over mid-download: the original bytes arrive complete; the new ones are never served unverified", async () => {
  const a = await server.publish("1.1.0", 64 * MIB, 12);
  await verified(a.url);
  const d = new RawDownload(a.url);
  await d.untilReceived(MIB);
  d.pause();
  const replacement = join(a.file, "..", ".replacement.tmp");
  await writeFile(replacement, new Uint8Array(64 * MIB).fill(0x5a));
  await rename(replacement, a.file);
  d.resume();
  expect(await d.done).toMatchObject({ status: 200, bytes: a.size, sha256: a.sha256, cut: false });
  // The key now holds other bytes: its pin changed, they fail verification and are refused.
  const after = await fetch(a.url);
  expect(after.status).toBe(503);
  await after.arrayBuffer();
});

test("a plain GET of a verified object opens it once and asks for no HEAD; a rewritten one is checked again", async () => {
  const a = await server.publish("1.1.5", 2 * MIB, 19);
  await verified(a.url);
  const heads = recording.heads;
  const got = await new RawDownload(a.url).done;
  expect(got).toMatchObject({ status: 200, bytes: a.size, sha256: a.sha256, cut: false });
  expect(recording.heads).toBe(heads);
  // Rewritten in place (same inode, new bytes): the pin moved, so the checked way runs, and refuses them.
  await writeFile(a.file, new Uint8Array(a.size).fill(0x33));
  const after = await fetch(a.url);
  expect(after.status).toBe(503);
  await after.arrayBuffer();
  expect(recording.heads).toBe(heads + 1);
  // Ranged GETs take the checked way (the range is resolved against the HEAD's size).
  const ranged = await fetch(a.url, { headers: { range: "bytes=0-9" } });
  expect(ranged.status).toBe(503);
  await ranged.arrayBuffer();
});

test("a file deleted mid-download: the bytes still arrive complete and intact, and the inode is let go", async () => {
  const a = await server.publish("1.2.0", 64 * MIB, 13);
  const inode = await inodeOf(a.file);
  await verified(a.url);
  const d = new RawDownload(a.url);
  await d.untilReceived(MIB);
  d.pause();
  await unlink(a.file);
  d.resume();
  expect(await d.done).toMatchObject({ status: 200, bytes: a.size, sha256: a.sha256, cut: false });
  expect(await settle(() => onInode(inode), (n) => n === 0)).toBe(0);
});

test("ranges keep working from the kernel path, with one Content-Length, our Content-Range and our file name", async () => {
  const a = await server.publish("1.3.0", 8 * MIB, 14);
  await verified(a.url);
  const bytes = new Uint8Array(await Bun.file(a.file).arrayBuffer());
  const hex = (b: Uint8Array) => new Bun.CryptoHasher("sha256").update(b).digest("hex");
  const fileName = a.url.split("?")[0]!.split("/").at(-1)!;

  const mid = await new RawDownload(a.url, { range: "bytes=1000-2999999" }).done;
  expect(mid.status).toBe(206);
  expect(mid).toMatchObject({ bytes: 2999000, sha256: hex(bytes.subarray(1000, 3000000)), cut: false });
  const headers = (name: string) => mid.headerLines.filter((l) => l.toLowerCase().startsWith(`${name}:`)).map((l) => l.slice(name.length + 1).trim());
  expect(headers("content-length")).toEqual(["2999000"]);
  expect(headers("content-range")).toEqual([`bytes 1000-2999999/${a.size}`]);
  expect(headers("content-disposition")).toEqual([`attachment; filename="${fileName}"`]);

  const suffix = await new RawDownload(a.url, { range: "bytes=-100" }).done;
  expect(suffix).toMatchObject({ status: 206, bytes: 100, sha256: hex(bytes.subarray(a.size - 100)) });
  const whole = await new RawDownload(a.url).done;
  expect(whole.headerLines.filter((l) => /^content-(length|disposition):/i.test(l)).map((l) => l.toLowerCase())).toEqual([`content-disposition: attachment; filename="${fileName.toLowerCase()}"`, `content-length: ${a.size}`].sort());
  expect(whole).toMatchObject({ status: 200, bytes: a.size, sha256: a.sha256 });
});

test("a client that stops reading holds one descriptor (Bun's), releases it when it goes away, and the idle timeout ends it", { timeout: 60_000 }, async () => {
  const a = await server.publish("1.4.0", 64 * MIB, 15);
  const inode = await inodeOf(a.file);
  await verified(a.url);

  const gone = new RawDownload(a.url);
  await gone.untilReceived(MIB);
  gone.pause();
  expect(await settle(() => onInode(inode), (n) => n === 1)).toBe(1);
  gone.destroy();
  expect(await settle(() => onInode(inode), (n) => n === 0)).toBe(0);

  // The same app behind a listener with a 1 s idle timeout (the registry's is 60 s): a stalled client is cut.
  const short = Bun.serve({ hostname: "127.0.0.1", port: 0, idleTimeout: 1, fetch: server.handle });
  try {
    const stalled = new RawDownload(a.url.replace(server.url, `http://127.0.0.1:${short.port}`));
    await stalled.untilReceived(MIB);
    stalled.pause();
    // Bounded polling: the server must close the connection on its own and let go of the inode.
    const idle = await settle(async () => ({ onInode: await onInode(inode), pending: short.pendingRequests }), (v) => v.onInode === 0 && v.pending === 0, 400, 50);
    expect(idle).toEqual({ onInode: 0, pending: 0 });
    stalled.resume(); // a paused socket reports the close only once it reads again
    const r = await stalled.done;
    expect(r.cut).toBe(true);
    expect(r.bytes).toBeLessThan(a.size);
  } finally {
    short.stop(true);
  }
});

test("200 concurrent clients all complete with the right bytes, and no descriptor is left behind", { timeout: 120_000 }, async () => {
  const a = await server.publish("1.5.0", 8 * MIB, 16);
  const inode = await inodeOf(a.file);
  await verified(a.url);
  const before = await openDescriptors();
  // The clients run in their own process, so that their sockets are not counted against the server's descriptors.
  const script = `
    const url = ${JSON.stringify(a.url)};
    const one = async () => {
      const r = await fetch(url);
      const h = new Bun.CryptoHasher("sha256");
      let n = 0;
      for await (const c of r.body) { h.update(c); n += c.byteLength; }
      return r.status + " " + n + " " + h.digest("hex");
    };
    const results = await Promise.all(Array.from({ length: 200 }, one));
    console.log(JSON.stringify(results));`;
  const proc = Bun.spawn(["bun", "-e", script], { stdout: "pipe", stderr: "inherit" });
  const out = await new Response(proc.stdout).text();
  expect(await proc.exited).toBe(0);
  const results = JSON.parse(out) as string[];
  expect(results).toHaveLength(200);
  expect(new Set(results)).toEqual(new Set([`200 ${a.size} ${a.sha256}`]));
  expect(await settle(() => onInode(inode), (n) => n === 0)).toBe(0);
  expect(await settle(openDescriptors, (n) => n <= before)).toBeLessThanOrEqual(before);
});

test("in-process callers read the portable stream (never the path), and an unread response lets go when collected", async () => {
  const a = await server.publish("1.6.0", 4 * MIB, 17);
  const inode = await inodeOf(a.file);
  await verified(a.url);
  const res = await server.handle(new Request(a.url));
  expect(res).toBeInstanceOf(PinnedFileResponse);
  const body = new Uint8Array(await res.arrayBuffer());
  expect(body.length).toBe(a.size);
  expect(new Bun.CryptoHasher("sha256").update(body).digest("hex")).toBe(a.sha256);
  expect(await settle(() => onInode(inode), (n) => n === 0)).toBe(0);

  // Over TLS Bun cannot sendfile (it would read the whole file into memory on its own): a body this small is read
  // whole by us instead, within the buffer budget, so that it carries a Content-Length (framed-download.ts).
  const tls = await server.handle(new Request(a.url.replace(/^http:/, "https:")));
  expect(tls).not.toBeInstanceOf(PinnedFileResponse);
  const tlsBody = new Uint8Array(await tls.arrayBuffer());
  expect(new Bun.CryptoHasher("sha256").update(tlsBody).digest("hex")).toBe(a.sha256);

  void (await server.handle(new Request(a.url)));
  expect(await settle(async () => (Bun.gc(true), onInode(inode)), (n) => n === 0)).toBe(0);
});

test("the streamed body (S3, GCS, Azure have no pinned path) meets backpressure: a stalled client stops the reads", { timeout: 60_000 }, async () => {
  let streamed: Recording | undefined;
  const other = await startDownloadServer({ wrapStorage: (fs) => (streamed = new Recording(fs, true)) });
  try {
    const a = await other.publish("2.0.0", 64 * MIB, 21);
    const inode = await inodeOf(a.file);
    await verified(a.url);
    streamed!.pulled = 0;
    const d = new RawDownload(a.url);
    await d.untilReceived(MIB);
    d.pause();
    // Reads stop once the socket and Bun's sink are full: sample until two readings agree.
    let last = -1;
    const pulled = await settle(async () => {
      const before = last;
      await Bun.sleep(100);
      last = streamed!.pulled;
      return { same: before === last, pulled: last };
    }, (v) => v.same, 100, 0);
    expect(pulled.same).toBe(true);
    expect(pulled.pulled - d.received).toBeLessThanOrEqual(16 * MIB);
    expect(pulled.pulled).toBeLessThan(a.size);
    d.destroy();
    expect(await settle(async () => streamed!.cancelled, (n) => n === 1)).toBe(1);
    expect(await settle(() => onInode(inode), (n) => n === 0)).toBe(0);
  } finally {
    await other.stop();
  }
});

test("every socket and artifact descriptor the downloads opened is closed again", { timeout: 30_000 }, async () => {
  // Sockets and files under the artifacts directories: what serving a download opens. (A stopped store's SQLite
  // files are not a download's, and may wait for their statements to be collected.)
  const downloadDescriptors = async () => (await listDescriptors()).filter((l) => / socket:|\/artifacts\//.test(l));
  const left = await settle(async () => (Bun.gc(true), downloadDescriptors()), (l) => l.length <= baselineDownload.length);
  expect(left).toEqual(baselineDownload);
});
