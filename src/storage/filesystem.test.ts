import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sha256OfStream } from "../artifacts/hash.ts";
import { toBase64 } from "../kits/encoding.ts";
import { FilesystemStorage } from "./filesystem.ts";
import { StorageError } from "./types.ts";
import { createHash } from "node:crypto";
import { runtime } from "../runtime/index.ts";
import { retainedBytes } from "../../test/support/retained-memory.ts";
import { sleep } from "../kits/sleep.ts";

const enc = new TextEncoder();
const base = await mkdtemp(join(tmpdir(), "opendepot-fs-"));
afterAll(() => rm(base, { recursive: true, force: true }));

let root: string;
let outside: string;
let storage: FilesystemStorage;
let n = 0;
beforeEach(async () => {
  root = join(base, `root${++n}`);
  outside = join(base, `outside${n}`);
  await mkdir(outside);
  storage = new FilesystemStorage(root);
});

const KEY = "default/providers/aws/0190a8c4-1b2c-7d3e-8f40-123456789abc.zip";
const streamOf = (...chunks: string[]) =>
  new ReadableStream<Uint8Array>({
    start(c) {
      for (const chunk of chunks) c.enqueue(enc.encode(chunk));
      c.close();
    },
  });
const text = (s: ReadableStream<Uint8Array>) => new Response(s).text();
const sha256 = (s: string) => toBase64(new Uint8Array(createHash("sha256").update(s).digest()));

async function errorOf(p: Promise<unknown>): Promise<StorageError> {
  const e = await p.then(() => undefined, (err) => err);
  expect(e).toBeInstanceOf(StorageError);
  return e as StorageError;
}

async function allFiles(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).map(String).sort();
}

describe("FilesystemStorage", () => {
  test("round trip: put, head, get, delete", async () => {
    expect(storage.description).toBe(`filesystem:${root}`);
    const put = await storage.put(KEY, streamOf("hello ", "world"));
    expect(put.size).toBe(11);
    expect(put.sha256).toBe(sha256("hello world"));
    const head = await storage.head(KEY);
    expect(head?.size).toBe(11);
    expect(head?.pin).toBe(put.pin);
    const got = await storage.get(KEY);
    expect(got.size).toBe(11);
    expect(got.pin).toBe(put.pin);
    expect(got.range).toBeUndefined();
    expect(await text(got.body)).toBe("hello world");
    expect(await readFile(join(root, KEY), "utf8")).toBe("hello world");
    await storage.delete(KEY);
    expect(await storage.head(KEY)).toBeUndefined();
    expect((await errorOf(storage.get(KEY))).kind).toBe("NotFound");
    await storage.delete(KEY); // idempotent
  });

  test("files 0644 and directories 0755 whatever the umask", async () => {
    const old = process.umask(0o077);
    try {
      await storage.put(KEY, streamOf("x"));
    } finally {
      process.umask(old);
    }
    expect((await stat(join(root, KEY))).mode & 0o777).toBe(0o644);
    expect((await stat(join(root, "default/providers/aws"))).mode & 0o777).toBe(0o755);
    expect((await stat(join(root, "default"))).mode & 0o777).toBe(0o755);
  });

  test("ranges: inclusive, open-ended, clamped; unsatisfiable ones are Invalid", async () => {
    await storage.put(KEY, streamOf("0123456789"));
    const mid = await storage.get(KEY, { start: 2, end: 5 });
    expect(mid.range).toEqual({ start: 2, end: 5 });
    expect(mid.size).toBe(10); // size of the object, not of the range
    expect(await text(mid.body)).toBe("2345");
    expect(await text((await storage.get(KEY, { start: 7 })).body)).toBe("789");
    const clamped = await storage.get(KEY, { start: 8, end: 1000 });
    expect(clamped.range).toEqual({ start: 8, end: 9 });
    expect(await text(clamped.body)).toBe("89");
    for (const bad of [{ start: 10 }, { start: 99 }, { start: 5, end: 4 }, { start: -1 }, { start: 1.5 }]) {
      expect((await errorOf(storage.get(KEY, bad))).kind).toBe("Invalid");
    }
  });

  test("put checks the expected size and sha256 and keeps nothing on mismatch", async () => {
    expect((await errorOf(storage.put(KEY, streamOf("abc"), { size: 4 }))).kind).toBe("Invalid");
    expect((await errorOf(storage.put(KEY, streamOf("abc"), { sha256: sha256("abd") }))).kind).toBe("Invalid");
    expect(await storage.head(KEY)).toBeUndefined();
    expect((await storage.put(KEY, streamOf("abc"), { size: 3, sha256: sha256("abc") })).size).toBe(3);
    expect((await allFiles(root)).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  test("a failing put leaves the old object intact and no temp files", async () => {
    await storage.put(KEY, streamOf("old content"));
    const before = await storage.head(KEY);
    const failing = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(enc.encode("new partial "));
      },
      pull(c) {
        c.error(new Error("upstream connection reset"));
      },
    });
    await expect(storage.put(KEY, failing)).rejects.toThrow("upstream connection reset");
    expect(await text((await storage.get(KEY)).body)).toBe("old content");
    expect((await storage.head(KEY))?.pin).toBe(before!.pin);
    expect((await allFiles(root)).filter((f) => f.includes(".tmp"))).toEqual([]);
  });

  test("a read in progress keeps streaming the bytes it described when the object is replaced", async () => {
    await storage.put(KEY, streamOf("version one"));
    const reading = await storage.get(KEY);
    const replaced = await storage.put(KEY, streamOf("version two, longer"));
    expect(replaced.pin).not.toBe(reading.pin);
    expect(await text(reading.body)).toBe("version one");
    expect(reading.size).toBe("version one".length);
  });

  test("bodies dropped unread release their descriptors without crashing the process", async () => {
    await storage.put(KEY, streamOf("unread"));
    const openFds = async () => (await readdir("/proc/self/fd")).length;
    const before = await openFds();
    await (async () => {
      for (let i = 0; i < 50; i++) await storage.get(KEY); // results dropped on the floor
    })();
    for (let i = 0; i < 20 && (await openFds()) > before; i++) {
      runtime.gc();
      await sleep(10);
    }
    expect(await openFds()).toBeLessThanOrEqual(before);
  });

  test("pin changes when the object is rewritten, even with identical bytes", async () => {
    const a = await storage.put(KEY, streamOf("same"));
    const b = await storage.put(KEY, streamOf("same"));
    expect(b.pin).not.toBe(a.pin);
    expect((await storage.head(KEY))?.pin).toBe(b.pin);
  });

  test.each([["../x"], ["/etc/passwd"], ["a/../../b"], ["a/\0b"], ["a\\..\\b"], ["a//b"], ["./a"], ["a/."], [""]])(
    "rejects unsafe key %p everywhere",
    async (key) => {
      for (const op of [() => storage.put(key, streamOf("x")), () => storage.get(key), () => storage.head(key), () => storage.delete(key)]) {
        expect((await errorOf(op())).kind).toBe("Invalid");
      }
      expect(await allFiles(outside)).toEqual([]);
    },
  );

  test("a symlinked directory cannot lead outside the root", async () => {
    await mkdir(root, { recursive: true });
    await symlink(outside, join(root, "default"));
    await writeFile(join(outside, "secret"), "secret");
    expect((await errorOf(storage.put("default/providers/x.zip", streamOf("x")))).kind).toBe("Denied");
    expect((await errorOf(storage.get("default/secret"))).kind).toBe("Denied");
    expect((await errorOf(storage.head("default/secret"))).kind).toBe("Denied");
    expect((await errorOf(storage.delete("default/secret"))).kind).toBe("Denied");
    expect(await allFiles(outside)).toEqual(["secret"]);
  });

  test("a symlink at the key is never followed", async () => {
    await storage.put(KEY, streamOf("x"));
    const target = join(outside, "target");
    await writeFile(target, "outside data");
    await rm(join(root, KEY));
    await symlink(target, join(root, KEY));
    expect((await errorOf(storage.get(KEY))).kind).toBe("Denied");
    expect((await errorOf(storage.head(KEY))).kind).toBe("Denied");
    // put replaces the link itself; the file it pointed to is untouched
    await storage.put(KEY, streamOf("inside"));
    expect((await lstat(join(root, KEY))).isSymbolicLink()).toBe(false);
    expect(await readFile(target, "utf8")).toBe("outside data");
    await storage.delete(KEY);
    expect(await readFile(target, "utf8")).toBe("outside data");
  });

  test("delete removes emptied parent directories, never the root or non-empty ones", async () => {
    const sibling = "default/providers/aws/0190a8c4-1b2c-7d3e-8f40-000000000000.zip";
    const other = "team/modules/vpc/0190a8c4-1b2c-7d3e-8f40-111111111111.tar.gz";
    await storage.put(KEY, streamOf("a"));
    await storage.put(sibling, streamOf("b"));
    await storage.put(other, streamOf("c"));
    await storage.delete(KEY);
    expect(await allFiles(root)).toContain(sibling);
    await storage.delete(sibling);
    await storage.delete(other);
    expect(await allFiles(root)).toEqual([]);
    expect((await stat(root)).isDirectory()).toBe(true);
  });

  test("a path component that is a file means absent for reads and Invalid for writes", async () => {
    await storage.put("a/b.zip", streamOf("x"));
    expect(await storage.head("a/b.zip/c")).toBeUndefined();
    expect((await errorOf(storage.get("a/b.zip/c"))).kind).toBe("NotFound");
    expect((await errorOf(storage.put("a/b.zip/c", streamOf("y")))).kind).toBe("Invalid");
  });

  test("presign is unsupported", async () => {
    const e = await errorOf(storage.presign(KEY, 60));
    expect(e.kind).toBe("Unsupported");
    expect(e.message).toBe("pre-signed URLs are not supported for filesystem storage");
  });

  test("a ~200 MB object streams in and out with flat memory", async () => {
    const chunk = 1 << 20;
    const chunks = 200;
    const expected = createHash("sha256");
    let i = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (i === chunks) return c.close();
        const data = new Uint8Array(chunk).fill(i & 0xff); // a fresh buffer each time, as a network body would give
        data[0] = i++ >> 8;
        expected.update(data);
        c.enqueue(data);
      },
    });
    const before = retainedBytes();
    const put = await storage.put(KEY, body);
    expect(retainedBytes() - before).toBeLessThan(64 * 1024 * 1024);
    expect(put.size).toBe(chunk * chunks);
    expect(put.sha256).toBe(toBase64(new Uint8Array(expected.digest())));

    const got = await storage.get(KEY);
    const { bytes, size } = await sha256OfStream(got.body);
    expect(retainedBytes() - before).toBeLessThan(64 * 1024 * 1024);
    expect(size).toBe(chunk * chunks);
    expect(toBase64(bytes)).toBe(put.sha256);
  }, 60_000);
});
