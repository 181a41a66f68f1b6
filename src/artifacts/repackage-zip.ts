// Zip reading for module repackaging. A zip's truth is its central directory at the end, so the input is read
// from a file (spooled by the caller), never from memory. Entry data is inflated as a stream and checked against
// the declared size and CRC-32, so lying headers (zip bombs) cannot expand past what the caps allowed.
import { Inflate } from "fflate";
import { runtime } from "../runtime/index.ts";
import { ArchiveFormatError } from "./repackage-tar.ts";

export interface ZipEntry {
  path: string;
  kind: "file" | "dir" | "symlink";
  /** Unix permission bits when the archive was made on Unix, else 0o644/0o755 by kind. */
  mode: number;
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

const S_IFMT = 0o170000;
const INFLATE_SLICE = 16 * 1024;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

async function readRange(path: string, start: number, end: number): Promise<DataView> {
  const buf = await runtime.readRange(path, start, end);
  if (buf.byteLength !== end - start) throw new ArchiveFormatError("zip archive is truncated");
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}

function u64(v: DataView, at: number): number {
  const n = v.getUint32(at, true) + v.getUint32(at + 4, true) * 2 ** 32;
  if (!Number.isSafeInteger(n)) throw new ArchiveFormatError("zip64 value out of range");
  return n;
}

/** Lists the central directory, following ZIP64 records when the classic fields overflow. */
export async function readZipDirectory(path: string, fileSize: number, maxEntries: number): Promise<ZipEntry[]> {
  const tailStart = Math.max(0, fileSize - (22 + 0xffff));
  const tail = await readRange(path, tailStart, fileSize);
  let eocd = -1;
  for (let i = tail.byteLength - 22; i >= 0; i--) {
    if (tail.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new ArchiveFormatError("not a zip archive (no end of central directory record)");
  let count = tail.getUint16(eocd + 10, true);
  let cdSize = tail.getUint32(eocd + 12, true);
  let cdOffset = tail.getUint32(eocd + 16, true);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const locAt = tailStart + eocd - 20;
    const loc = locAt >= 0 ? await readRange(path, locAt, locAt + 20) : undefined;
    if (!loc || loc.getUint32(0, true) !== 0x07064b50) throw new ArchiveFormatError("zip64 locator missing");
    const recAt = u64(loc, 8);
    const rec = await readRange(path, recAt, recAt + 56);
    if (rec.getUint32(0, true) !== 0x06064b50) throw new ArchiveFormatError("zip64 end of central directory missing");
    count = u64(rec, 32);
    cdSize = u64(rec, 40);
    cdOffset = u64(rec, 48);
  }
  if (count > maxEntries) throw new ArchiveFormatError(`zip archive has ${count} entries, more than the limit of ${maxEntries}`);
  if (cdOffset + cdSize > fileSize) throw new ArchiveFormatError("zip central directory lies outside the file");
  const cd = await readRange(path, cdOffset, cdOffset + cdSize);
  const decoder = new TextDecoder();
  const entries: ZipEntry[] = [];
  let at = 0;
  for (let n = 0; n < count; n++) {
    if (at + 46 > cd.byteLength || cd.getUint32(at, true) !== 0x02014b50) throw new ArchiveFormatError("corrupt zip central directory");
    const madeBy = cd.getUint16(at + 4, true) >> 8;
    const flags = cd.getUint16(at + 8, true);
    const method = cd.getUint16(at + 10, true);
    const crc = cd.getUint32(at + 16, true);
    let compressedSize = cd.getUint32(at + 20, true);
    let size = cd.getUint32(at + 24, true);
    const nameLen = cd.getUint16(at + 28, true);
    const extraLen = cd.getUint16(at + 30, true);
    const commentLen = cd.getUint16(at + 32, true);
    const external = cd.getUint32(at + 38, true);
    let localHeaderOffset = cd.getUint32(at + 42, true);
    const nameStart = cd.byteOffset + at + 46;
    const name = decoder.decode(new Uint8Array(cd.buffer, nameStart, nameLen));
    // ZIP64 extended information: only the overflowing fields are present, in this order.
    let x = at + 46 + nameLen;
    const xEnd = x + extraLen;
    while (x + 4 <= xEnd) {
      const id = cd.getUint16(x, true);
      const len = cd.getUint16(x + 2, true);
      if (id === 0x0001) {
        let p = x + 4;
        if (size === 0xffffffff) (size = u64(cd, p)), (p += 8);
        if (compressedSize === 0xffffffff) (compressedSize = u64(cd, p)), (p += 8);
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = u64(cd, p);
      }
      x += 4 + len;
    }
    at += 46 + nameLen + extraLen + commentLen;
    if (flags & 0x1) throw new ArchiveFormatError(`zip entry ${name} is encrypted`);
    const unixMode = madeBy === 3 ? external >>> 16 : 0;
    const isDir = name.endsWith("/") || (unixMode & S_IFMT) === S_IFDIR || (external & 0x10) !== 0;
    const kind = isDir ? "dir" : (unixMode & S_IFMT) === S_IFLNK ? "symlink" : "file";
    const mode = unixMode & 0o7777 || (isDir ? 0o755 : 0o644);
    if (method !== 0 && method !== 8) throw new ArchiveFormatError(`zip entry ${name} uses unsupported compression method ${method}`);
    entries.push({ path: name, kind, mode, method, crc, compressedSize, size, localHeaderOffset });
  }
  return entries;
}

/**
 * The uncompressed bytes of one entry, streamed. Errors if the data inflates past the declared size, stops short
 * of it, or fails its CRC-32.
 */
export async function* readZipEntry(path: string, entry: ZipEntry): AsyncGenerator<Uint8Array> {
  const local = await readRange(path, entry.localHeaderOffset, entry.localHeaderOffset + 30);
  if (local.getUint32(0, true) !== 0x04034b50) throw new ArchiveFormatError(`zip entry ${entry.path}: bad local header`);
  const start = entry.localHeaderOffset + 30 + local.getUint16(26, true) + local.getUint16(28, true);
  const stream = runtime.readStream(path, start, start + entry.compressedSize);
  let produced = 0;
  let crc = 0;
  const pending: Uint8Array[] = [];
  const accept = (chunk: Uint8Array) => {
    produced += chunk.byteLength;
    if (produced > entry.size) throw new ArchiveFormatError(`zip entry ${entry.path} inflates beyond its declared size of ${entry.size} bytes`);
    crc = runtime.crc32(chunk, crc);
    pending.push(chunk);
  };
  const inflater = entry.method === 8 ? new Inflate((chunk) => accept(chunk)) : undefined;
  for await (const chunk of stream) {
    // Small slices bound what one push can inflate (deflate peaks near 1:1032) before the size check runs.
    for (let i = 0; i < chunk.byteLength; i += INFLATE_SLICE) {
      const piece = chunk.subarray(i, i + INFLATE_SLICE);
      if (inflater) inflater.push(piece, false);
      else accept(piece);
      while (pending.length) yield pending.shift()!;
    }
  }
  if (inflater) inflater.push(new Uint8Array(0), true);
  while (pending.length) yield pending.shift()!;
  if (produced !== entry.size) throw new ArchiveFormatError(`zip entry ${entry.path} is truncated (${produced} of ${entry.size} bytes)`);
  if (crc >>> 0 !== entry.crc >>> 0) throw new ArchiveFormatError(`zip entry ${entry.path} fails its CRC-32 check`);
}
