// The configuration files of an already repackaged module archive (module at the root, as we store it), for
// documenting Versions that were synced before docs existed without fetching them from upstream again. Only the
// candidate files are kept in memory, within the docs limits; everything else streams past (tar) or stays in the
// spooled file (zip).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runtime } from "../runtime/index.ts";
import { configDirectory, DEFAULT_MODULE_DOCS_LIMITS, readModuleSources, type ArchiveFileEntry, type ModuleDocsLimits } from "./module-docs-files.ts";
import type { ModuleSources } from "./module-docs-files.ts";
import { ArchiveFormatError, ByteReader, readTar } from "./repackage-tar.ts";
import { readZipDirectory, readZipEntry } from "./repackage-zip.ts";

export interface StoredArchiveOptions {
  /** Stop reading an archive (compressed for zip, inflated for tar) beyond this (default 512 MiB). */
  maxArchiveBytes?: number;
  tmpDir?: string;
  limits?: Partial<ModuleDocsLimits>;
}

const MiB = 1024 * 1024;

export async function readArchiveModuleSources(stream: ReadableStream<Uint8Array>, format: "zip" | "tar.gz", options: StoredArchiveOptions = {}): Promise<ModuleSources> {
  const limits = { ...DEFAULT_MODULE_DOCS_LIMITS, ...options.limits };
  const maxArchive = options.maxArchiveBytes ?? 512 * MiB;
  return format === "zip" ? fromZip(stream, maxArchive, limits, options.tmpDir) : fromTarGz(stream, maxArchive, limits);
}

async function fromTarGz(stream: ReadableStream<Uint8Array>, maxArchive: number, limits: ModuleDocsLimits): Promise<ModuleSources> {
  const gunzip = stream.pipeThrough(new DecompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>);
  const reader = new ByteReader(gunzip.getReader() as ReadableStreamDefaultReader<Uint8Array>, maxArchive, () => new ArchiveFormatError(`archive expands beyond ${maxArchive} bytes`));
  const entries: ArchiveFileEntry[] = [];
  let buffered = 0;
  try {
    await readTar(reader, async (h, body) => {
      const wanted = h.kind === "file" && configDirectory(h.path) !== undefined && h.size <= limits.maxFileBytes && buffered + h.size <= limits.maxTotalBytes;
      if (!wanted) {
        for await (const _ of body) {
          // not documentation input: skipped
        }
        // Too large for the budget: listed with its size so the limits report it, never read.
        if (h.kind === "file" && configDirectory(h.path)) entries.push({ path: h.path, size: h.size, read: unreadable });
        return;
      }
      const chunks: Uint8Array[] = [];
      for await (const piece of body) chunks.push(piece.slice());
      buffered += h.size;
      const bytes = Buffer.concat(chunks);
      entries.push({ path: h.path, size: h.size, read: async function* () { yield bytes; } });
    });
  } finally {
    await reader.cancel();
  }
  return readModuleSources(entries, limits);
}

async function fromZip(stream: ReadableStream<Uint8Array>, maxArchive: number, limits: ModuleDocsLimits, tmpDir?: string): Promise<ModuleSources> {
  const dir = await mkdtemp(join(tmpDir ?? tmpdir(), "opendepot-docs-"));
  try {
    const spool = join(dir, "module.zip");
    const sink = runtime.fileWriter(spool);
    let size = 0;
    try {
      for await (const chunk of stream) {
        size += chunk.byteLength;
        if (size > maxArchive) throw new ArchiveFormatError(`zip archive exceeds ${maxArchive} bytes`);
        sink.write(chunk);
        if (size % (8 * MiB) < chunk.byteLength) await sink.flush();
      }
    } finally {
      await sink.end();
    }
    const directory = await readZipDirectory(spool, size, 65_535);
    const entries = directory.filter((e) => e.kind === "file").map((e) => ({ path: e.path, size: e.size, read: () => readZipEntry(spool, e) }));
    return await readModuleSources(entries, limits);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function* unreadable(): AsyncGenerator<Uint8Array> {
  throw new Error("not buffered: over the documentation limits");
}
