// Filesystem downloads over the registry's TLS listener, where Bun cannot sendfile: a body within the buffer budget
// goes out whole with its Content-Length (Bun would send a stream chunked), a larger one streams chunked and
// length-guarded; ranges stay exact either way. A self-signed leaf from openssl; a TLS client over a raw socket, so
// the framing on the wire is what is checked. Bounded by byte counts.
import { afterAll, beforeAll, beforeEach, expect, test } from "bun:test";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { settle, startDownloadServer, type DownloadServer } from "../../test/support/download-server.ts";
import { RawDownload, type RawResult } from "../../test/support/raw-download.ts";
import { DEFAULT_BUFFER_BUDGET, processBufferBudget } from "./framed-download.ts";

const MIB = 1024 * 1024;
let server: DownloadServer;
let tlsBase: string;
let ca: string;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "opendepot-dl-tls-"));
  const proc = Bun.spawn(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-addext", "basicConstraints=critical,CA:FALSE", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")], { stdout: "ignore", stderr: "pipe" });
  if ((await proc.exited) !== 0) throw new Error(`openssl failed: ${await new Response(proc.stderr).text()}`);
  ca = await readFile(join(dir, "cert.pem"), "utf8");
  server = await startDownloadServer();
  tlsBase = server.listenTls({ cert: join(dir, "cert.pem"), key: join(dir, "key.pem") }); // paths, as the flags give them
}, 60_000);

// The budget is the process's: what other files' answers reserved comes back once they are collected.
beforeEach(async () => {
  expect(await settle(async () => (Bun.gc(true), processBufferBudget.inUse), (n) => n === 0)).toBe(0);
});

afterAll(async () => {
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

const overTls = (url: string) => `${tlsBase}${new URL(url).pathname}${new URL(url).search}`;
const headers = (r: RawResult, name: string) => r.headerLines.filter((l) => l.toLowerCase().startsWith(`${name}:`)).map((l) => l.slice(name.length + 1).trim());
const hex = (b: Uint8Array) => new Bun.CryptoHasher("sha256").update(b).digest("hex");

test("over TLS, a download within the budget carries one Content-Length and is not chunked; ranges are exact", async () => {
  const a = await server.publish("1.0.0", 2 * MIB + 3, 51);
  const url = overTls(a.url);
  const whole = await new RawDownload(url, {}, { ca }).done;
  expect(whole).toMatchObject({ status: 200, bytes: a.size, sha256: a.sha256, cut: false });
  expect(headers(whole, "content-length")).toEqual([String(a.size)]);
  expect(headers(whole, "transfer-encoding")).toEqual([]);
  const bytes = new Uint8Array(await Bun.file(a.file).arrayBuffer());
  const mid = await new RawDownload(url, { range: "bytes=10-1048585" }, { ca }).done;
  expect(mid).toMatchObject({ status: 206, bytes: MIB, sha256: hex(bytes.subarray(10, 10 + MIB)), cut: false });
  expect(headers(mid, "content-length")).toEqual([String(MIB)]);
  expect(headers(mid, "content-range")).toEqual([`bytes 10-1048585/${a.size}`]);
});

test("over TLS, a download larger than one buffered body streams chunked and arrives whole", async () => {
  const size = DEFAULT_BUFFER_BUDGET.maxBody + 2 * MIB;
  const a = await server.publish("1.1.0", size, 52);
  const r = await new RawDownload(overTls(a.url), {}, { ca }).done;
  expect(r).toMatchObject({ status: 200, bytes: size, sha256: a.sha256, cut: false });
  expect(headers(r, "transfer-encoding")).toEqual(["chunked"]);
});
