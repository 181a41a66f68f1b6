import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Zip, ZipDeflate, ZipPassThrough, zipSync } from "fflate";
import { dirhash1, h1OfZip, hashProviderZip, zhHash, ZipHashError } from "./h1.ts";
import { sha256Bytes } from "./hash.ts";
import { toBase64, toHex } from "../kits/encoding.ts";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { runtime } from "../runtime/index.ts";
import { runSync } from "../../test/support/processes.ts";
import { retainedBytes } from "../../test/support/retained-memory.ts";

const enc = new TextEncoder();
const TERRAFORM = "/usr/local/bin/terraform";
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "opendepot-h1-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** A zip written the way Go's archive/zip (goreleaser) writes it: every entry followed by a data descriptor. */
function streamingZip(files: [name: string, data: Uint8Array, stored?: boolean][], level: 0 | 1 | 6 = 6): Uint8Array {
  const parts: Uint8Array[] = [];
  const zip = new Zip((err, chunk) => {
    if (err) throw err;
    parts.push(chunk);
  });
  for (const [name, data, stored] of files) {
    const entry = stored ? new ZipPassThrough(name) : new ZipDeflate(name, { level });
    zip.add(entry);
    entry.push(data, true);
  }
  zip.end();
  return concat(parts);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) out.set(p, at), (at += p.length);
  return out;
}

function pseudoRandom(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Replaces every occurrence of marker (same length) in the archive bytes: lets a test write raw, non-UTF-8 names. */
function patchBytes(zip: Uint8Array, marker: string, replacement: number[]): Uint8Array {
  const m = enc.encode(marker);
  const out = zip.slice();
  for (let i = 0; i <= out.length - m.length; i++) if (m.every((b, j) => out[i + j] === b)) out.set(replacement, i);
  return out;
}

function chunked(data: Uint8Array, size: number): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(c) {
      if (at >= data.length) return c.close();
      c.enqueue(data.slice(at, at + size));
      at += size;
    },
  });
}

const fakeSignatures = enc.encode("PK\x07\x08 a fake data descriptor, PK\x03\x04 a fake local header, PK\x01\x02 a fake central one");

// Each fixture is a provider `example.com/test/<type>`; Terraform only needs an executable named
// terraform-provider-<type>* in it, and it does not run or inspect it.
let built: Promise<Record<string, Uint8Array>> | undefined;
const fixtures = () => (built ??= buildFixtures());

async function buildFixtures(): Promise<Record<string, Uint8Array>> {
  const bin = (type: string) => `terraform-provider-${type}_v1.0.0`;
  const script = enc.encode("#!/bin/sh\necho 'not a real provider'\n");
  const infoZipDir = join(dir, "infozip-src");
  await mkdir(join(infoZipDir, "docs", "nested"), { recursive: true });
  await writeFile(join(infoZipDir, bin("infozip")), script);
  await writeFile(join(infoZipDir, "docs", "nested", "guide.md"), "# guide\n");
  await writeFile(join(infoZipDir, "empty"), "");
  await symlink("docs/nested/guide.md", join(infoZipDir, "link"));
  const infoZip = join(dir, "infozip.zip");
  // -y stores the symlink as a link entry; the second call appends an entry read from stdin (data descriptor).
  run(["zip", "-qry", infoZip, "."], infoZipDir);
  run(["sh", "-c", `printf 'from stdin PK\\007\\010' | zip -q ${infoZip} -`], infoZipDir);
  return {
    plain: zipSync({ [bin("plain")]: script, "README.md": enc.encode("hello\n"), "docs/": new Uint8Array(0), "docs/x.txt": enc.encode("x") }),
    descriptors: streamingZip([
      [bin("descriptors"), pseudoRandom(3_000_000, 7).map((b, i) => (i % 3 ? b & 0x0f : b))],
      ["stored-with-fake-signatures.bin", fakeSignatures, true],
      ["empty.txt", new Uint8Array(0)],
    ]),
    // Deflate level 0 emits stored blocks, so the fake signatures appear verbatim inside the compressed data.
    storedblocks: streamingZip([[bin("storedblocks"), concat([fakeSignatures, pseudoRandom(100_000, 3), fakeSignatures])]], 0),
    rawname: patchBytes(zipSync({ [bin("rawname")]: script, "cafX.txt": enc.encode("latin1 name") }), "cafX.txt", [...enc.encode("caf"), 0xe9, ...enc.encode(".txt")]),
    // Bytewise order (Go) differs from UTF-16 order (JS default) for '\u{1F600}' vs '\uFF21'; '-' < '.' < '/'.
    order: zipSync({ [bin("order")]: script, "a-b": enc.encode("1"), "a.txt": enc.encode("2"), "a/b": enc.encode("3"), "\u{1F600}.txt": enc.encode("4"), "\uFF21.txt": enc.encode("5") }),
    infozip: new Uint8Array(await readFile(infoZip)),
  };
}

function run(cmd: string[], cwd: string, env: Record<string, string> = {}): string {
  const p = runSync(cmd, { cwd, env: { ...process.env, ...env } });
  if (p.exitCode !== 0) throw new Error(`${cmd.join(" ")} failed (${p.exitCode}): ${p.stderr.toString()}${p.stdout.toString()}`);
  return p.stdout.toString();
}

describe("h1 against the real Terraform CLI", () => {
  test("terraform providers lock records the same h1 for every fixture", async () => {
    if (!(existsSync(TERRAFORM))) throw new Error(`${TERRAFORM} is required for this test`);
    const zips = await fixtures();
    const mirror = join(dir, "mirror");
    const work = join(dir, "tf");
    await mkdir(work, { recursive: true });
    const required: string[] = [];
    const ours: Record<string, string> = {};
    for (const [type, zip] of Object.entries(zips)) {
      const path = join(mirror, "example.com", "test", type, `terraform-provider-${type}_1.0.0_linux_amd64.zip`);
      await mkdir(join(path, ".."), { recursive: true });
      await writeFile(path, zip);
      ours[type] = await h1OfZip(path);
      required.push(`    ${type} = { source = "example.com/test/${type}", version = "1.0.0" }`);
    }
    await writeFile(join(work, "main.tf"), `terraform {\n  required_providers {\n${required.join("\n")}\n  }\n}\n`);
    run([TERRAFORM, "providers", "lock", `-fs-mirror=${mirror}`, "-platform=linux_amd64"], work, {
      TF_CLI_CONFIG_FILE: "/dev/null",
      CHECKPOINT_DISABLE: "1",
      TF_IN_AUTOMATION: "1",
    });
    const lock = await readFile(join(work, ".terraform.lock.hcl"), "utf8");
    const theirs: Record<string, string> = {};
    for (const m of lock.matchAll(/provider "example\.com\/test\/(\w+)" \{[^}]*?"(h1:[^"]+)"/g)) theirs[m[1]!] = m[2]!;
    expect(theirs).toEqual(ours);
  }, 60_000);
});

describe("hashProviderZip", () => {
  test("a stream in any chunking gives the same hashes as the file", async () => {
    const zips = await fixtures();
    for (const [type, zip] of Object.entries(zips)) {
      const path = join(dir, `${type}.zip`);
      await writeFile(path, zip);
      const fromFile = await hashProviderZip(path);
      expect(fromFile.shasum).toBe(toHex(sha256Bytes(zip)));
      expect(fromFile.zh).toBe(`zh:${fromFile.shasum}`);
      expect(fromFile.size).toBe(zip.length);
      for (const size of zip.length < 100_000 ? [1, 5, 4096] : [4093, 65536]) {
        expect(await hashProviderZip(chunked(zip, size))).toEqual(fromFile);
      }
    }
  }, 30_000);

  test("hashes a large stored entry and a highly compressed one with flat memory", async () => {
    const path = join(dir, "large.zip");
    const writer = runtime.fileWriter(path);
    const zip = new Zip((err, chunk) => {
      if (err) throw err;
      writer.write(chunk);
    });
    const stored = new ZipPassThrough("stored.bin");
    const zeros = new ZipDeflate("zeros.bin", { level: 1 });
    zip.add(stored);
    const storedHash = createHash("sha256");
    const block = pseudoRandom(1 << 20, 11);
    for (let i = 0; i < 128; i++) {
      block[0] = i; // vary the content so a buffered-too-much bug cannot hide behind identical chunks
      stored.push(block, i === 127);
      storedHash.update(block);
      await writer.flush();
    }
    zip.add(zeros);
    const zeroBlock = new Uint8Array(1 << 20);
    for (let i = 0; i < 32; i++) zeros.push(zeroBlock, i === 31); // 1000:1, the worst deflate ratio
    zip.end();
    await writer.end();
    const zeroHash = createHash("sha256");
    for (let i = 0; i < 32; i++) zeroHash.update(zeroBlock);

    const before = retainedBytes();
    const h1 = await h1OfZip(path);
    const growth = retainedBytes() - before;
    expect(h1).toBe(dirhash1([
      { name: "stored.bin", hex: storedHash.digest("hex") },
      { name: "zeros.bin", hex: zeroHash.digest("hex") },
    ]));
    expect(growth).toBeLessThan(64 * 1024 * 1024);
  }, 60_000);

  const bad: [string, () => Uint8Array | Promise<Uint8Array>, RegExp][] = [
    ["a file name with a newline", () => zipSync({ "a\nb": enc.encode("x") }), /newlines/],
    ["a name escaping the package", () => zipSync({ "../evil": enc.encode("x") }), /escapes/],
    ["a truncated archive", () => streamingZip([["a", pseudoRandom(50_000, 1)]]).slice(0, 20_000), /truncated/],
    ["something that is not a zip", () => pseudoRandom(1000, 5), /not a zip|unsupported zip layout/],
    ["duplicate entries", () => streamingZip([["a", enc.encode("1")], ["a", enc.encode("2")]]), /duplicate/],
    ["names colliding on extraction", () => zipSync({ "a/b": enc.encode("1"), "a//b": enc.encode("2") }), /collide/],
    ["a corrupted entry", () => patchBytes(zipSync({ f: enc.encode("content-MARK") }, { level: 0 }), "MARK", [...enc.encode("MARX")]), /CRC/],
    ["a central directory that disagrees with the local header", () => {
      const zip = zipSync({ f: enc.encode("content") });
      const cd = Buffer.from(zip).indexOf(Buffer.from("PK\x01\x02", "latin1"));
      zip[cd + 16]! ^= 1; // the CRC as the central directory records it
      return zip;
    }, /disagree/],
    ["an encrypted entry", async () => {
      await writeFile(join(dir, "secret.txt"), "s");
      run(["zip", "-q", "-P", "pw", join(dir, "enc.zip"), "secret.txt"], dir);
      return new Uint8Array(await readFile(join(dir, "enc.zip")));
    }, /encrypted/],
  ];
  test.each(bad)("rejects %s", async (_, make, message) => {
    const zip = await make();
    const err = await hashProviderZip(chunked(zip, 4096)).catch((e) => e);
    expect(err).toBeInstanceOf(ZipHashError);
    expect(String(err.message)).toMatch(message);
  });
});

describe("dirhash1 / zhHash", () => {
  test("matches Go dirhash's Hash1 construction", () => {
    // Mirrors golang.org/x/mod/sumdb/dirhash TestHash1: files "xyz" and "abc" containing "data for <name>".
    const hex = (s: string) => toHex(sha256Bytes(s));
    const lines = `${hex("data for abc")}  abc\n${hex("data for xyz")}  xyz\n`;
    const want = `h1:${toBase64(sha256Bytes(lines))}`;
    expect(dirhash1([{ name: "xyz", hex: hex("data for xyz") }, { name: "abc", hex: hex("data for abc") }])).toBe(want);
    expect(dirhash1([])).toBe(`h1:${toBase64(sha256Bytes(""))}`);
  });

  test("zh", () => {
    const hex = "a".repeat(64);
    expect(zhHash(hex)).toBe(`zh:${hex}`);
    expect(() => zhHash("A".repeat(64))).toThrow();
    expect(() => zhHash("abc")).toThrow();
  });
});
