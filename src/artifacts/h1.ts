// Provider package hashes as Terraform/OpenTofu write them into `.terraform.lock.hcl`:
//   h1: = dirhash "Hash1" of the unpacked package: sha256 of the lines "<hex sha256 of file>  <path>\n", one per
//         regular file, sorted by path (bytewise, like Go's sort.Strings), base64 std encoded.
//   zh: = the hex sha256 of the zip itself (what the registry's SHA256SUMS lists).
//
// The zip is read front to back in one pass (file path or stream; one local header after another) so a 700 MB provider
// is hashed with flat memory. Two deliberate choices:
// - Not fflate's `Unzip`: for entries written with a data descriptor (flag bit 3, which Go's archive/zip and so
//   goreleaser use for every file) it ends an entry at the first bytes that look like a signature; in a few hundred MB
//   of compressed data such bytes turn up by chance often enough to give wrong hashes. Here an entry ends only at a
//   descriptor whose compressed size equals the bytes read and that is followed by a header, and every entry's offset,
//   sizes and CRC are then checked against the central directory (what Go's reader uses), so a zip we would read
//   differently from Terraform gives an error, never a wrong hash.
// - Not fflate's inflater: under Bun it runs at ~40 MB/s; the native `DecompressionStream("deflate-raw")` at ~260 MB/s
//   (measured on the 90 MB terraform binary), with output in bounded 64 KB chunks even for zip bombs.
import { createHash } from "node:crypto";
import { toBase64, toHex } from "../kits/encoding.ts";
import { runtime } from "../runtime/index.ts";

export interface ProviderZipHashes {
  /** `h1:<base64>`: the package hash of the unpacked contents. */
  h1: string;
  /** `zh:<hex>`: the legacy zip hash (sha256 of the archive). */
  zh: string;
  /** Lowercase hex sha256 of the archive (the `shasum` of the provider protocol). */
  shasum: string;
  /** Archive size in bytes. */
  size: number;
}

export type ZipSource = string | ReadableStream<Uint8Array>;

export class ZipHashError extends Error {
  override name = "ZipHashError";
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_DESCRIPTOR = 0x08074b50;
const SIG_END = 0x06054b50;
const SIG_END64 = 0x06064b50;

/** All hashes of a provider zip in one streaming pass. */
export async function hashProviderZip(source: ZipSource): Promise<ProviderZipHashes> {
  const body: ReadableStream<Uint8Array> = typeof source === "string" ? runtime.readStream(source) : source;
  const zipHasher = createHash("sha256");
  const reader = new ByteReader(body.getReader(), (chunk) => zipHasher.update(chunk));
  try {
    const files = await readEntries(reader);
    await reader.drain();
    const shasum = toHex(new Uint8Array(zipHasher.digest()));
    return { h1: hash1(files), zh: zhHash(shasum), shasum, size: reader.total };
  } finally {
    reader.release();
  }
}

/** Just the `h1:` hash of a provider zip (streaming). */
export async function h1OfZip(source: ZipSource): Promise<string> {
  return (await hashProviderZip(source)).h1;
}

/** `zh:` hash from the lowercase hex sha256 of a zip. */
export function zhHash(hexShasum: string): string {
  if (!/^[0-9a-f]{64}$/.test(hexShasum)) throw new Error(`invalid SHA-256 hex digest ${JSON.stringify(hexShasum.slice(0, 80))}`);
  return `zh:${hexShasum}`;
}

/** dirhash Hash1 over already-hashed files: `{ name: "a/b.txt", hex: "<sha256 hex>" }` (names are UTF-8). */
export function dirhash1(files: Iterable<{ name: string; hex: string }>): string {
  const byName = new Map<string, string>();
  for (const f of files) {
    if (!/^[0-9a-f]{64}$/.test(f.hex)) throw new Error(`invalid SHA-256 hex digest for ${JSON.stringify(f.name)}`);
    byName.set(Buffer.from(f.name, "utf8").toString("latin1"), f.hex);
  }
  return hash1(byName);
}

// Names are kept as latin1 strings of their raw bytes: Go compares and prints file names as bytes, and JS string
// comparison on such strings is exactly bytewise order (UTF-16 order differs for characters above U+FFFF).
function hash1(files: Map<string, string>): string {
  const h = createHash("sha256");
  for (const name of [...files.keys()].sort()) {
    if (name.includes("\n")) throw new ZipHashError(`dirhash: file names with newlines are not supported: ${JSON.stringify(name)}`);
    h.update(Buffer.from(`${files.get(name)}  ${name}\n`, "latin1"));
  }
  return `h1:${toBase64(new Uint8Array(h.digest()))}`;
}

interface LocalEntry {
  /** Raw name bytes as latin1, normalised like filepath.Join on extraction. */
  path: string;
  hex: string;
  isDir: boolean;
  offset: number;
  csize: number;
  usize: number;
  crc: number;
}

async function readEntries(r: ByteReader): Promise<Map<string, string>> {
  const entries = new Map<string, LocalEntry>(); // keyed by raw name
  for (;;) {
    if (!(await r.ensure(4))) throw new ZipHashError("not a zip archive: no central directory");
    const sig = r.u32(0);
    if (sig === SIG_LOCAL) {
      const { rawName, entry } = await readLocalEntry(r);
      if (entries.has(rawName)) throw new ZipHashError(`duplicate zip entry ${JSON.stringify(rawName)}`);
      entries.set(rawName, entry);
    } else if (sig === SIG_CENTRAL || sig === SIG_END || sig === SIG_END64) {
      break;
    } else {
      throw new ZipHashError(`unsupported zip layout: unexpected signature 0x${sig.toString(16)} at offset ${r.offset}`);
    }
  }
  await checkCentralDirectory(r, entries);
  const files = new Map<string, string>();
  for (const e of entries.values()) {
    if (e.isDir) continue;
    if (files.has(e.path)) throw new ZipHashError(`zip entries collide on extraction at ${JSON.stringify(e.path)}`);
    files.set(e.path, e.hex);
  }
  return files;
}

async function readLocalEntry(r: ByteReader): Promise<{ rawName: string; entry: LocalEntry }> {
  const offset = r.offset;
  const head = await r.take(30, "local file header");
  const flags = u16(head, 6);
  const method = u16(head, 8);
  let crc = u32(head, 14);
  let csize = u32(head, 18);
  let usize = u32(head, 22);
  const nameLen = u16(head, 26);
  const extraLen = u16(head, 28);
  const rawName = Buffer.from(await r.take(nameLen, "file name")).toString("latin1");
  const extra = (await r.take(extraLen, "extra field")).slice();
  if (flags & 1) throw new ZipHashError(`encrypted zip entry ${JSON.stringify(rawName)} is not supported`);
  if (method !== 0 && method !== 8) throw new ZipHashError(`zip entry ${JSON.stringify(rawName)} uses unsupported compression method ${method}`);
  const sink = new EntrySink(method, rawName);
  if (flags & 8) {
    ({ crc, csize, usize } = await readUntilDescriptor(r, sink));
  } else {
    if (csize === 0xffffffff || usize === 0xffffffff) [usize, csize] = zip64Fields(extra, [usize, csize], rawName) as [number, number];
    for (let left = csize; left > 0; ) {
      if (!(await r.ensure(1))) throw new ZipHashError(`truncated zip entry ${JSON.stringify(rawName)}`);
      const part = r.takeAvailable(left);
      await sink.push(part);
      left -= part.length;
    }
  }
  await sink.finish();
  if (sink.crc !== crc || sink.size !== usize) throw new ZipHashError(`zip entry ${JSON.stringify(rawName)} is corrupt (CRC or size mismatch)`);
  const entry = { path: extractedPath(rawName), hex: sink.hex(), isDir: rawName.endsWith("/"), offset, csize, usize, crc };
  return { rawName, entry };
}

// Scans for the data descriptor that ends this entry: `PK\x07\x08 crc csize usize` with 4- or 8-byte sizes, where
// csize must equal the bytes read and a local or central header must follow. Bytes before a candidate are entry data
// whichever way the candidate turns out, so they go to the sink at once; only a few bytes are ever held back.
async function readUntilDescriptor(r: ByteReader, sink: EntrySink): Promise<{ crc: number; csize: number; usize: number }> {
  const truncated = () => new ZipHashError(`truncated zip entry ${JSON.stringify(sink.name)} (no data descriptor matching its size; descriptors without a signature are not supported)`);
  let compressed = 0;
  for (;;) {
    const buf = r.view();
    let end = buf.length;
    for (let j = buf.indexOf(0x50); j !== -1; j = buf.indexOf(0x50, j + 1)) {
      if (j + 4 > buf.length || u32(buf, j) === SIG_DESCRIPTOR) {
        end = j;
        break;
      }
    }
    await sink.push(buf.subarray(0, end));
    compressed += end;
    r.skip(end);
    if (end === buf.length) {
      if (!(await r.more())) throw truncated();
      continue;
    }
    if (!(await r.ensure(4))) throw truncated();
    if (r.u32(0) !== SIG_DESCRIPTOR) continue; // the partial 'P' turned out to be data; the next scan passes it
    await r.ensure(28); // the longest form plus the next signature; the central directory always follows
    const d = r.view();
    if (d.length >= 20 && u32(d, 8) === compressed && isHeader(u32(d, 16))) {
      r.skip(16);
      return { crc: u32(d, 4), csize: compressed, usize: u32(d, 12) };
    }
    if (d.length >= 28 && u64(d, 8) === compressed && isHeader(u32(d, 24))) {
      r.skip(24);
      return { crc: u32(d, 4), csize: compressed, usize: u64(d, 16) };
    }
    await sink.push(d.subarray(0, 1)); // not the end: this 'P' is entry data
    compressed += 1;
    r.skip(1);
  }
}

const isHeader = (sig: number) => sig === SIG_LOCAL || sig === SIG_CENTRAL;

// Checks the central directory against what was read (same entries at the same offsets with the same sizes and CRCs,
// so we hashed exactly what Go's reader would extract) and learns which entries are directories (only the central
// directory carries the file mode).
async function checkCentralDirectory(r: ByteReader, entries: Map<string, LocalEntry>): Promise<void> {
  let seen = 0;
  while ((await r.ensure(4)) && r.u32(0) === SIG_CENTRAL) {
    const head = await r.take(46, "central directory header");
    const madeBy = u16(head, 4) >> 8;
    const external = u32(head, 38);
    const nameLen = u16(head, 28);
    const rawName = Buffer.from(await r.take(nameLen, "central directory name")).toString("latin1");
    const extra = (await r.take(u16(head, 30), "central directory extra")).slice();
    await r.take(u16(head, 32), "central directory comment");
    const entry = entries.get(rawName);
    if (!entry) throw new ZipHashError(`zip central directory lists ${JSON.stringify(rawName)}, which has no local entry`);
    seen++;
    const [usize, csize, offset] = zip64Fields(extra, [u32(head, 24), u32(head, 20), u32(head, 42)], rawName);
    if (offset !== entry.offset || csize !== entry.csize || usize !== entry.usize || u32(head, 16) !== entry.crc) {
      throw new ZipHashError(`zip entry ${JSON.stringify(rawName)}: local header and central directory disagree`);
    }
    // Symlink entries need nothing special: Terraform's unzip writes them as regular files holding the link target,
    // which is their stored content (checked against terraform in h1.test.ts).
    if (madeBy === 3) {
      if (((external >>> 16) & 0o170000) === 0o040000) entry.isDir = true;
    } else if ((madeBy === 0 || madeBy === 11 || madeBy === 14) && external & 0x10) {
      entry.isDir = true; // MS-DOS/NTFS/VFAT directory attribute, as Go's archive/zip reads it
    }
  }
  if (seen !== entries.size) throw new ZipHashError(`zip central directory lists ${seen} entries but the archive holds ${entries.size}`);
}

// Terraform hashes the extracted directory: names go through filepath.Join, so "./a", "a//b" and "/a" become "a"
// and "a/b"; go-getter refuses names that climb out with "..".
function extractedPath(rawName: string): string {
  const parts: string[] = [];
  for (const s of rawName.split("/")) {
    if (s === "" || s === ".") continue;
    if (s === "..") throw new ZipHashError(`zip entry ${JSON.stringify(rawName)} escapes the package directory`);
    parts.push(s);
  }
  if (!parts.length && !rawName.endsWith("/")) throw new ZipHashError(`zip entry has an empty name`);
  return parts.join("/");
}

// Values saturated at 0xFFFFFFFF live, in this order, in the zip64 extra field (id 1).
function zip64Fields(extra: Uint8Array, values: number[], name: string): number[] {
  if (!values.some((v) => v === 0xffffffff)) return values;
  for (let i = 0; i + 4 <= extra.length; i += 4 + u16(extra, i + 2)) {
    if (u16(extra, i) !== 0x0001) continue;
    let at = i + 4;
    return values.map((v) => {
      if (v !== 0xffffffff || at + 8 > extra.length) return v;
      at += 8;
      return u64(extra, at - 8);
    });
  }
  throw new ZipHashError(`zip entry ${JSON.stringify(name)} has zip64 size markers but no zip64 extra field`);
}

/** Receives an entry's stored bytes: inflates if needed, then hashes, CRCs and counts the uncompressed content. */
class EntrySink {
  private readonly hasher = createHash("sha256");
  private readonly writer: ReturnType<DecompressionStream["writable"]["getWriter"]> | undefined;
  private readonly drained: Promise<void> | undefined;
  crc = 0;
  size = 0;

  constructor(method: number, readonly name: string) {
    if (method !== 8) return;
    const inflate = new DecompressionStream("deflate-raw");
    this.writer = inflate.writable.getWriter();
    this.drained = (async () => {
      for await (const chunk of inflate.readable as ReadableStream<Uint8Array>) this.consume(chunk);
    })();
    // Errors surface through push()/finish(); keep an early failure from being reported as unhandled meanwhile.
    this.drained.catch(() => {});
  }

  private consume(data: Uint8Array): void {
    this.hasher.update(data);
    this.crc = runtime.crc32(data, this.crc);
    this.size += data.length;
  }

  async push(data: Uint8Array): Promise<void> {
    if (!data.length) return;
    if (!this.writer) return this.consume(data);
    try {
      await this.writer.ready; // backpressure: at most one chunk queued ahead of the inflater
      this.writer.write(data as Uint8Array<ArrayBuffer>).catch(() => {});
    } catch (e) {
      throw this.invalid(e);
    }
  }

  async finish(): Promise<void> {
    try {
      await this.writer?.close();
      await this.drained;
    } catch (e) {
      throw this.invalid(e);
    }
    this.crc >>>= 0;
  }

  hex(): string {
    return toHex(new Uint8Array(this.hasher.digest()));
  }

  private invalid(e: unknown): ZipHashError {
    return new ZipHashError(`zip entry ${JSON.stringify(this.name)} has invalid deflate data: ${(e as Error)?.message ?? e}`, { cause: e });
  }
}

interface ChunkReader {
  read(): Promise<{ done: boolean; value?: Uint8Array | undefined }>;
  cancel(reason?: unknown): Promise<void>;
  releaseLock(): void;
}

/** A pull reader with a small look-ahead buffer over a byte stream. */
class ByteReader {
  private buf: Uint8Array = new Uint8Array(0);
  private pos = 0;
  private eof = false;
  total = 0;
  /** Offset in the archive of the next unread byte (for error messages). */
  get offset(): number {
    return this.total - this.available();
  }

  constructor(
    private readonly reader: ChunkReader,
    private readonly onChunk: (chunk: Uint8Array) => void,
  ) {}

  available = (): number => this.buf.length - this.pos;
  view = (): Uint8Array => this.buf.subarray(this.pos);
  u32 = (at: number): number => u32(this.buf, this.pos + at);
  skip(n: number): void {
    this.pos += n;
  }

  async more(): Promise<boolean> {
    if (this.eof) return false;
    const { done, value } = await this.reader.read();
    if (done || !value) return !(this.eof = true);
    this.onChunk(value);
    this.total += value.length;
    const rest = this.view();
    if (!rest.length) this.buf = value;
    else {
      const joined = new Uint8Array(rest.length + value.length);
      joined.set(rest);
      joined.set(value, rest.length);
      this.buf = joined;
    }
    this.pos = 0;
    return true;
  }

  async ensure(n: number): Promise<boolean> {
    while (this.available() < n) if (!(await this.more())) return false;
    return true;
  }

  async take(n: number, what: string): Promise<Uint8Array> {
    if (!(await this.ensure(n))) throw new ZipHashError(`truncated zip archive (in ${what})`);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  takeAvailable(max: number): Uint8Array {
    const n = Math.min(max, this.available());
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** Reads the rest (end of central directory, comment) so the whole-archive hash covers every byte. */
  async drain(): Promise<void> {
    this.pos = this.buf.length;
    while (await this.more()) this.pos = this.buf.length;
  }

  release(): void {
    if (!this.eof) this.reader.cancel().catch(() => {});
    this.reader.releaseLock();
  }
}

const u16 = (b: Uint8Array, at: number): number => b[at]! | (b[at + 1]! << 8);
const u32 = (b: Uint8Array, at: number): number => (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
const u64 = (b: Uint8Array, at: number): number => u32(b, at) + u32(b, at + 4) * 2 ** 32;
