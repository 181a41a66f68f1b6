// Extracting a stored artifact for a scanner. The archive is ours (repackaged or signature-verified), but it came
// from upstream, so extraction is still guarded: paths that are absolute or climb out (`..`, backslashes, NUL)
// refuse the archive; symlinks, hardlinks and special files are never created; total inflated bytes and the entry
// count are capped on real bytes (zip sizes and CRCs are checked while inflating). Files 0600, dirs 0700.
import { statSync } from "node:fs";
import { chmod, mkdir, open } from "node:fs/promises";
import { dirname, join, posix } from "node:path";
import { runtime } from "../runtime/index.ts";
import { ArchiveFormatError, ByteReader, readTar } from "./repackage-tar.ts";
import { readZipDirectory, readZipEntry } from "./repackage-zip.ts";

export interface ExtractLimits {
  /** Sum of extracted file sizes (default 512 MiB). */
  maxTotalBytes?: number;
  /** Entries, directories included (default 50,000). */
  maxEntries?: number;
}

export class ExtractError extends Error {
  override readonly name = "ExtractError";
}

const MiB = 1024 * 1024;

/** A safe relative path inside the extraction root, or an error. */
export function safeRelativePath(raw: string): string {
  if (raw.includes("\0") || raw.includes("\\")) throw new ExtractError(`archive entry ${JSON.stringify(raw)} has a NUL or backslash in its path`);
  if (raw.startsWith("/") || /^[A-Za-z]:/.test(raw)) throw new ExtractError(`archive entry ${JSON.stringify(raw)} has an absolute path`);
  const parts = raw.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes("..")) throw new ExtractError(`archive entry ${JSON.stringify(raw)} leaves the extraction directory`);
  return posix.join(...(parts.length ? parts : ["."]));
}

async function writeFileFrom(path: string, pieces: AsyncIterable<Uint8Array>, mode: number): Promise<number> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  // wx: never follow or overwrite something already there (a duplicate entry is refused, not merged).
  const handle = await open(path, "wx", 0o600).catch((e: NodeJS.ErrnoException) => {
    throw e.code === "EEXIST" ? new ExtractError(`archive has a duplicate entry for ${path}`) : e;
  });
  let written = 0;
  try {
    for await (const piece of pieces) {
      await handle.write(piece);
      written += piece.byteLength;
    }
  } finally {
    await handle.close();
  }
  if (mode !== 0o600) await chmod(path, mode);
  return written;
}

class Budget {
  private total = 0;
  private entries = 0;
  constructor(private readonly limits: Required<ExtractLimits>) {}
  entry(): void {
    if (++this.entries > this.limits.maxEntries) throw new ExtractError(`archive has more than ${this.limits.maxEntries} entries`);
  }
  bytes(path: string, n: number): void {
    this.total += n;
    if (this.total > this.limits.maxTotalBytes) throw new ExtractError(`archive expands beyond the ${this.limits.maxTotalBytes}-byte limit (at ${path})`);
  }
}

async function* counted(path: string, pieces: AsyncIterable<Uint8Array>, budget: Budget): AsyncGenerator<Uint8Array> {
  for await (const p of pieces) {
    budget.bytes(path, p.byteLength);
    yield p;
  }
}

const limitsOf = (l: ExtractLimits = {}): Required<ExtractLimits> => ({ maxTotalBytes: l.maxTotalBytes ?? 512 * MiB, maxEntries: l.maxEntries ?? 50_000 });

/** Extract a module archive (`.zip` or `.tar.gz`, stored at `archivePath`) into the empty directory `dir`. */
export async function extractModuleArchive(archivePath: string, format: "zip" | "tar.gz", dir: string, limits?: ExtractLimits): Promise<{ files: number; bytes: number }> {
  const l = limitsOf(limits);
  const budget = new Budget(l);
  let files = 0;
  let bytes = 0;
  try {
    if (format === "zip") {
      const entries = await readZipDirectory(archivePath, statSync(archivePath).size, l.maxEntries);
      for (const e of entries) {
        budget.entry();
        const rel = safeRelativePath(e.path);
        if (e.kind === "dir") await mkdir(join(dir, rel), { recursive: true, mode: 0o700 });
        else if (e.kind === "file") {
          budget.bytes(rel, 0);
          bytes += await writeFileFrom(join(dir, rel), counted(rel, readZipEntry(archivePath, e), budget), 0o600);
          files++;
        }
      }
    } else {
      const gunzip = runtime.readStream(archivePath).pipeThrough(new DecompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>);
      const reader = new ByteReader(gunzip.getReader() as ReadableStreamDefaultReader<Uint8Array>, l.maxTotalBytes + l.maxEntries * 1536 + MiB, () => new ExtractError(`archive expands beyond the ${l.maxTotalBytes}-byte limit`));
      try {
        await readTar(reader, async (h, body) => {
          budget.entry();
          const rel = safeRelativePath(h.path);
          if (h.kind === "file") {
            bytes += await writeFileFrom(join(dir, rel), counted(rel, body, budget), 0o600);
            files++;
          } else {
            if (h.kind === "dir") await mkdir(join(dir, rel), { recursive: true, mode: 0o700 });
            for await (const _ of body) {
              // symlinks, hardlinks, devices: not created; their bytes (if any) are skipped
            }
          }
        });
      } finally {
        await reader.cancel();
      }
    }
  } catch (e) {
    if (e instanceof ArchiveFormatError) throw new ExtractError(`stored archive is not readable: ${e.message}`);
    throw e;
  }
  return { files, bytes };
}

export const PROVIDER_BINARY_NAME = "provider-binary";
const NOT_BINARY = /\.(md|txt|json)$/i;

/**
 * The provider executable from a provider zip, written as `<dir>/provider-binary` with mode 0500: Trivy's gobinary
 * analyzer skips files without an execute bit (an empty report, not an error). Undefined when the zip holds none.
 */
export async function extractProviderBinary(zipPath: string, dir: string, limits?: ExtractLimits): Promise<{ path: string; entry: string; size: number } | undefined> {
  const l = limitsOf({ maxTotalBytes: 2048 * MiB, ...limits });
  try {
    const entries = await readZipDirectory(zipPath, statSync(zipPath).size, l.maxEntries);
    const entry = entries.find((e) => e.kind === "file" && (e.mode & 0o111) !== 0 && !NOT_BINARY.test(e.path));
    if (!entry) return undefined;
    safeRelativePath(entry.path);
    const budget = new Budget(l);
    const path = join(dir, PROVIDER_BINARY_NAME);
    const size = await writeFileFrom(path, counted(entry.path, readZipEntry(zipPath, entry), budget), 0o500);
    return { path, entry: entry.path, size };
  } catch (e) {
    if (e instanceof ArchiveFormatError) throw new ExtractError(`stored provider zip is not readable: ${e.message}`);
    throw e;
  }
}
