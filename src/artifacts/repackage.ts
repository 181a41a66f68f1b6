// Deterministic repackaging of a GitHub source archive into a module archive with the module at the root.
//
// GitHub wraps every archive in one `owner-repo-sha/` directory and regenerates archives on demand, so their bytes
// are not stable (reference §2.4.1, §12.2). We strip exactly that directory, sort entries, fix every timestamp and
// owner, normalise modes (dirs 0755, files 0644 or 0755 if any exec bit), and feed compressors in fixed-size
// blocks, so the same tree always yields the same bytes and therefore the same checksum.
//
// Safety: absolute paths, `..` segments, backslashes and NULs reject the archive; symlinks whose target leaves the
// module are dropped (with a warning); hardlinks/devices are dropped; per-entry, total and entry-count caps are
// enforced on real (inflated) bytes, not on what headers claim. Data is spooled to a temp directory, never held
// in memory: zip input because its directory sits at the end, tar input because sorting needs every entry first.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, posix } from "node:path";
import { Gzip, Zip, ZipDeflate, ZipPassThrough } from "fflate";
import { runtime } from "../runtime/index.ts";
import { ArchiveFormatError, ByteReader, readTar, TAR_END, tarEntryHeader, tarPadding } from "./repackage-tar.ts";
import { readZipDirectory, readZipEntry } from "./repackage-zip.ts";

export type ArchiveFormat = "zip" | "tar.gz";

export interface ModuleReadme {
  /** Path in the repackaged archive (at its root), e.g. `README.md`. */
  path: string;
  content: string;
  truncated: boolean;
}

export interface RepackageOptions {
  /** Cap on the sum of uncompressed file sizes (default 512 MiB). */
  maxTotalBytes?: number;
  /** Cap on one file (default: maxTotalBytes). */
  maxEntryBytes?: number;
  /** Cap on entries, directories included (default 50,000; zip output cannot exceed 65,535). */
  maxEntries?: number;
  /** Cap on the compressed input spooled for zip input (default: maxTotalBytes). */
  maxInputBytes?: number;
  tmpDir?: string;
  readmeMaxBytes?: number;
  /** Called once, before the first output byte, with the root README (README.md preferred). */
  onReadme?: (readme: ModuleReadme) => void | Promise<void>;
  /** Called once, before the first output byte, with the regular files (paths as in the output), e.g. for docs. */
  onFiles?: (files: RepackagedFile[]) => void | Promise<void>;
  onWarning?: (message: string) => void;
  /** Deflate level; part of the output's identity, so changing it changes every checksum. */
  level?: 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;
}

export interface RepackagedFile {
  path: string;
  size: number;
  read(): AsyncIterable<Uint8Array>;
}

export class RepackageError extends Error {
  override readonly name = "RepackageError";
}

/**
 * Zip stores local wall-clock time without a zone and fflate reads the Date's local fields, so a local-time
 * 1980-01-01 00:00 writes the same DOS timestamp (the zip epoch) on every machine.
 */
export const FIXED_ZIP_DATE = (): Date => new Date(1980, 0, 1, 0, 0, 0);
const MiB = 1024 * 1024;
const BLOCK = 64 * 1024;

interface Item {
  path: string;
  /** "skip": hardlinks and special files, which are not module content. */
  kind: "file" | "dir" | "symlink" | "skip";
  mode: number;
  size: number;
  linkTarget?: string;
  read?: () => AsyncIterable<Uint8Array>;
}

interface Limits {
  total: number;
  entry: number;
  entries: number;
  input: number;
}

/** Repackages `input`; errors (unsafe or oversized archives) surface as a RepackageError on the returned stream. */
export function repackageModule(
  input: ReadableStream<Uint8Array>,
  inputFormat: ArchiveFormat,
  outputFormat: ArchiveFormat,
  options: RepackageOptions = {},
): ReadableStream<Uint8Array> {
  const gen = run(input, inputFormat, outputFormat, options);
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await gen.next();
        if (done) controller.close();
        else controller.enqueue(value);
      } catch (err) {
        controller.error(err instanceof ArchiveFormatError ? new RepackageError(err.message) : err);
      }
    },
    async cancel() {
      await gen.return(undefined);
    },
  }, { highWaterMark: 0 });
}

async function* run(input: ReadableStream<Uint8Array>, inputFormat: ArchiveFormat, outputFormat: ArchiveFormat, o: RepackageOptions): AsyncGenerator<Uint8Array> {
  // fflate writes no ZIP64, so a zip output must stay under 4 GiB.
  const total = Math.min(o.maxTotalBytes ?? 512 * MiB, outputFormat === "zip" ? 0xf0000000 : Infinity);
  const limits: Limits = { total, entry: Math.min(o.maxEntryBytes ?? total, total), entries: Math.min(o.maxEntries ?? 50_000, 65_535), input: o.maxInputBytes ?? total };
  const warn = o.onWarning ?? (() => {});
  const dir = await mkdtemp(join(o.tmpDir ?? tmpdir(), "opendepot-repack-"));
  try {
    const raw = inputFormat === "zip" ? await collectZip(input, dir, limits) : await collectTarGz(input, dir, limits);
    const items = plan(raw, limits, warn);
    if (o.onReadme) {
      const readme = await findReadme(items, o.readmeMaxBytes ?? MiB);
      if (readme) await o.onReadme(readme);
    }
    if (o.onFiles) await o.onFiles(items.flatMap((i) => (i.kind === "file" && i.read ? [{ path: i.path, size: i.size, read: i.read }] : [])));
    yield* outputFormat === "zip" ? writeZip(items, o.level ?? 6) : writeTarGz(items, o.level ?? 6);
  } finally {
    await input.cancel().catch(() => {});
    await rm(dir, { recursive: true, force: true });
  }
}

function checkSize(path: string, size: number, running: { total: number }, limits: Limits): void {
  if (size > limits.entry) throw new RepackageError(`archive entry ${path} is ${size} bytes, over the ${limits.entry}-byte limit per file`);
  running.total += size;
  if (running.total > limits.total) throw new RepackageError(`archive expands beyond the ${limits.total}-byte limit`);
}

async function collectTarGz(input: ReadableStream<Uint8Array>, dir: string, limits: Limits): Promise<Item[]> {
  const spool = join(dir, "data");
  const sink = runtime.fileWriter(spool);
  const items: Item[] = [];
  const running = { total: 0 };
  let offset = 0;
  let unflushed = 0;
  const gunzip = input.pipeThrough(new DecompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>);
  // Headers and padding add at most ~1.5 KiB per entry on top of the data.
  const reader = new ByteReader(gunzip.getReader() as ReadableStreamDefaultReader<Uint8Array>, limits.total + limits.entries * 1536 + MiB, () => new RepackageError(`archive expands beyond the ${limits.total}-byte limit`));
  try {
    await readTar(reader, async (h, body) => {
      if (items.length >= limits.entries) throw new RepackageError(`archive has more than ${limits.entries} entries`);
      if (h.kind === "file") {
        checkSize(h.path, h.size, running, limits);
        const start = offset;
        for await (const piece of body) {
          sink.write(piece);
          offset += piece.byteLength;
          unflushed += piece.byteLength;
          if (unflushed > 8 * MiB) (await sink.flush(), (unflushed = 0));
        }
        items.push({ path: h.path, kind: "file", mode: h.mode, size: h.size, read: () => runtime.readStream(spool, start, start + h.size) });
      } else if (h.kind === "dir" || h.kind === "symlink") {
        items.push({ path: h.path, kind: h.kind, mode: h.mode, size: 0, linkTarget: h.linkTarget });
      } else {
        checkSize(h.path, h.size, running, limits);
        for await (const _ of body) {
          // hardlinks and special files are not module content; their bytes are skipped.
        }
        items.push({ path: h.path, kind: "skip", mode: 0, size: 0 });
      }
    });
  } catch (err) {
    if (err instanceof RepackageError || err instanceof ArchiveFormatError) throw err;
    throw new RepackageError(`input is not a valid gzip-compressed tar archive: ${(err as Error).message}`);
  } finally {
    await reader.cancel();
    await sink.end();
  }
  return items;
}

async function collectZip(input: ReadableStream<Uint8Array>, dir: string, limits: Limits): Promise<Item[]> {
  const spool = join(dir, "input.zip");
  const sink = runtime.fileWriter(spool);
  let size = 0;
  try {
    for await (const chunk of input) {
      size += chunk.byteLength;
      if (size > limits.input) throw new RepackageError(`zip input exceeds the ${limits.input}-byte limit`);
      sink.write(chunk);
      if (size % (8 * MiB) < chunk.byteLength) await sink.flush();
    }
  } finally {
    await sink.end();
  }
  const entries = await readZipDirectory(spool, size, limits.entries);
  const running = { total: 0 };
  const items: Item[] = [];
  for (const e of entries) {
    checkSize(e.path, e.size, running, limits);
    if (e.kind === "symlink") {
      if (e.size > 4096) throw new RepackageError(`zip symlink ${e.path} has an oversized target`);
      let target = "";
      for await (const piece of readZipEntry(spool, e)) target += new TextDecoder().decode(piece, { stream: true });
      items.push({ path: e.path, kind: "symlink", mode: 0o777, size: 0, linkTarget: target });
    } else {
      items.push({ path: e.path, kind: e.kind, mode: e.mode, size: e.kind === "file" ? e.size : 0, read: () => readZipEntry(spool, e) });
    }
  }
  return items;
}

/** Strips the single top directory, validates paths, adds missing parent dirs, sorts. */
function plan(raw: Item[], limits: Limits, warn: (m: string) => void): Item[] {
  let top: string | undefined;
  const byPath = new Map<string, Item>();
  for (const item of raw) {
    if (/[\\\0]/.test(item.path)) throw new RepackageError(`unsafe archive entry name ${JSON.stringify(item.path)}`);
    if (item.path.startsWith("/") || /^[A-Za-z]:/.test(item.path)) throw new RepackageError(`archive entry ${JSON.stringify(item.path)} has an absolute path`);
    const segs = item.path.split("/").filter((s) => s !== "" && s !== ".");
    if (segs.includes("..")) throw new RepackageError(`archive entry ${JSON.stringify(item.path)} escapes the archive (path traversal)`);
    if (segs.length === 0) continue;
    top ??= segs[0];
    if (segs[0] !== top) throw new RepackageError(`archive must hold exactly one top-level directory, found "${top}" and "${segs[0]}"`);
    const rel = segs.slice(1).join("/");
    if (rel === "") {
      if (item.kind !== "dir") throw new RepackageError(`archive top-level entry "${top}" is not a directory`);
      continue;
    }
    if (item.kind === "skip") {
      warn(`dropped ${rel}: hardlinks and special files are not kept`);
      continue;
    }
    if (item.kind === "symlink") {
      const target = item.linkTarget ?? "";
      const resolved = posix.normalize(posix.join(posix.dirname(rel), target));
      if (target === "" || target.startsWith("/") || resolved === ".." || resolved.startsWith("../")) {
        warn(`dropped symlink ${rel} -> ${target}: target is outside the module`);
        continue;
      }
    }
    const existing = byPath.get(rel);
    if (existing && !(existing.kind === "dir" && item.kind === "dir")) throw new RepackageError(`archive holds ${rel} more than once`);
    const mode = item.kind === "dir" ? 0o755 : item.kind === "symlink" ? 0o777 : item.mode & 0o111 ? 0o755 : 0o644;
    byPath.set(rel, { ...item, path: rel, mode });
  }
  if (top === undefined) throw new RepackageError("archive is empty");
  for (const path of [...byPath.keys()]) {
    for (let p = posix.dirname(path); p !== "."; p = posix.dirname(p)) {
      const parent = byPath.get(p);
      if (parent && parent.kind !== "dir") throw new RepackageError(`archive entry ${path} lies under ${p}, which is not a directory`);
      if (!parent) byPath.set(p, { path: p, kind: "dir", mode: 0o755, size: 0 });
    }
  }
  if (byPath.size > limits.entries) throw new RepackageError(`archive has more than ${limits.entries} entries`);
  const key = (i: Item) => (i.kind === "dir" ? `${i.path}/` : i.path);
  return [...byPath.values()].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

async function findReadme(items: Item[], limit: number): Promise<ModuleReadme | undefined> {
  const candidates = items.filter((i) => i.kind === "file" && !i.path.includes("/") && i.path.replace(/\.[^.]*$/, "").toLowerCase() === "readme");
  const pick = candidates.find((i) => i.path.toLowerCase() === "readme.md") ?? candidates[0];
  if (!pick?.read) return undefined;
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of pick.read()) {
    chunks.push(chunk.subarray(0, limit - size));
    size += Math.min(chunk.byteLength, limit - size);
    if (size >= limit) break;
  }
  const bytes = Buffer.concat(chunks);
  return { path: pick.path, content: new TextDecoder().decode(bytes), truncated: pick.size > limit };
}

/** Regroups a byte stream into fixed-size blocks so compressor output never depends on input chunking. */
class Blocker {
  private buf = new Uint8Array(BLOCK);
  private used = 0;
  constructor(private readonly emit: (block: Uint8Array) => void) {}
  push(data: Uint8Array): void {
    let at = 0;
    while (at < data.byteLength) {
      const n = Math.min(BLOCK - this.used, data.byteLength - at);
      this.buf.set(data.subarray(at, at + n), this.used);
      this.used += n;
      at += n;
      if (this.used === BLOCK) {
        this.emit(this.buf);
        this.buf = new Uint8Array(BLOCK);
        this.used = 0;
      }
    }
  }
  /** The remainder (possibly empty). */
  rest(): Uint8Array {
    return this.buf.subarray(0, this.used);
  }
}

async function* writeZip(items: Item[], level: RepackageOptions["level"] & number): AsyncGenerator<Uint8Array> {
  const out: Uint8Array[] = [];
  let failure: Error | null = null;
  let finished = false;
  const zip = new Zip((err, data, final) => {
    if (err) failure = err;
    else {
      out.push(data);
      if (final) finished = true;
    }
  });
  const drain = function* () {
    if (failure) throw new RepackageError(`zip writer failed: ${(failure as Error).message}`);
    while (out.length) yield out.shift()!;
  };
  for (const item of items) {
    const name = item.kind === "dir" ? `${item.path}/` : item.path;
    const type = item.kind === "dir" ? 0o040000 : item.kind === "symlink" ? 0o120000 : 0o100000;
    const file = item.kind === "file" ? new ZipDeflate(name, { level }) : new ZipPassThrough(name);
    file.mtime = FIXED_ZIP_DATE();
    file.os = 3; // Unix, so external attributes carry the mode (the exec bit survives unzip)
    file.attrs = (type | item.mode) * 65536 + (item.kind === "dir" ? 0x10 : 0);
    zip.add(file);
    if (item.kind === "symlink") file.push(new TextEncoder().encode(item.linkTarget ?? ""), true);
    else if (item.kind === "dir" || !item.read) file.push(new Uint8Array(0), true);
    else {
      const blocks = new Blocker((b) => file.push(b, false));
      for await (const chunk of item.read()) {
        blocks.push(chunk);
        yield* drain();
      }
      file.push(blocks.rest(), true);
    }
    yield* drain();
  }
  zip.end();
  yield* drain();
  if (!finished) throw new RepackageError("zip writer did not finish");
}

async function* writeTarGz(items: Item[], level: RepackageOptions["level"] & number): AsyncGenerator<Uint8Array> {
  const out: Uint8Array[] = [];
  // mtime 0 means "no timestamp" in gzip and no file name is written: the header is constant.
  const gzip = new Gzip({ level, mtime: 0 }, (data) => out.push(data));
  const blocks = new Blocker((b) => gzip.push(b, false));
  for (const item of items) {
    const type = item.kind === "dir" ? "5" : item.kind === "symlink" ? "2" : "0";
    const path = item.kind === "dir" ? `${item.path}/` : item.path;
    for (const h of tarEntryHeader({ path, type, mode: item.mode, size: item.kind === "file" ? item.size : 0, linkTarget: item.linkTarget })) blocks.push(h);
    if (item.kind === "file" && item.read) {
      let written = 0;
      for await (const chunk of item.read()) {
        written += chunk.byteLength;
        blocks.push(chunk);
        while (out.length) yield out.shift()!;
      }
      if (written !== item.size) throw new RepackageError(`archive entry ${item.path} changed size while repackaging`);
      blocks.push(tarPadding(item.size));
    }
    while (out.length) yield out.shift()!;
  }
  blocks.push(TAR_END);
  gzip.push(blocks.rest(), true);
  while (out.length) yield out.shift()!;
}
