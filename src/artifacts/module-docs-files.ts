// Which files of a module archive the docs extractor reads, and reading them within bounds. Terraform reads the
// `.tf` / `.tf.json` files directly inside one directory, so only those of the root, of `modules/<name>/` and of
// `examples/<name>/` are candidates; everything else in the archive is never opened.
import type { ModuleDocsProblem } from "../api/module-docs.ts";

/** A file of the repackaged archive, path relative to the module root (as the repackager sees it). */
export interface ArchiveFileEntry {
  path: string;
  size: number;
  read(): AsyncIterable<Uint8Array>;
}

/** A configuration file picked for the extractor, its bytes read. */
export interface ModuleSourceFile {
  path: string;
  content: Uint8Array;
}

export interface ModuleDocsLimits {
  /** Files read at most (default 1,000). */
  maxFiles: number;
  /** Larger files are skipped (default 256 KiB). */
  maxFileBytes: number;
  /** Bytes read in all (default 2 MiB: HashiCorp's parser in wasm reads roughly 0.25–1 MB/s). */
  maxTotalBytes: number;
  /** Submodule + example directories at most (default 200). */
  maxDirectories: number;
  /** Size of the resulting JSON (default 512 KiB); over it, the result is trimmed and flagged `truncated`. */
  maxOutputBytes: number;
}

export const DEFAULT_MODULE_DOCS_LIMITS: ModuleDocsLimits = {
  maxFiles: 1_000,
  maxFileBytes: 256 * 1024,
  maxTotalBytes: 2 * 1024 * 1024,
  maxDirectories: 200,
  maxOutputBytes: 512 * 1024,
};

export type DirectoryKind = "root" | "submodule" | "example";

/** The module directory a configuration file belongs to, or undefined when the extractor ignores it. */
export function configDirectory(path: string): { dir: string; kind: DirectoryKind } | undefined {
  const segments = path.split("/");
  const file = segments[segments.length - 1]!;
  if (!isConfigFileName(file)) return undefined;
  if (segments.length === 1) return { dir: "", kind: "root" };
  if (segments.length === 3 && (segments[0] === "modules" || segments[0] === "examples") && segments[1] !== "" && !segments[1]!.startsWith(".")) {
    return { dir: `${segments[0]}/${segments[1]}`, kind: segments[0] === "modules" ? "submodule" : "example" };
  }
  return undefined;
}

const isConfigFileName = (name: string) => !name.startsWith(".") && (name.endsWith(".tf") || name.endsWith(".tf.json")) && name !== ".tf" && name !== ".tf.json";

/** Override files change declarations made elsewhere; Terraform merges them, this extractor does not. */
export const isOverrideFile = (path: string) => /(^|\/|_)override\.tf(\.json)?$/.test(path);

/**
 * Reads the candidate files, in path order, within the limits. Files over a limit are listed in `skipped` (and
 * the result is truncated); the rest are read, never more than `maxFileBytes` each even if an entry lies about
 * its size.
 */
/** What the extractor reads: the files, and the candidates it left out (with why). */
export interface ModuleSources {
  files: ModuleSourceFile[];
  skipped: ModuleDocsProblem[];
}

export async function readModuleSources(entries: Iterable<ArchiveFileEntry>, limits: Partial<ModuleDocsLimits> = {}): Promise<ModuleSources> {
  const l = { ...DEFAULT_MODULE_DOCS_LIMITS, ...limits };
  const candidates = [...entries].filter((e) => configDirectory(e.path)).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const files: ModuleSourceFile[] = [];
  const skipped: ModuleDocsProblem[] = [];
  const directories = new Set<string>();
  let total = 0;
  for (const entry of candidates) {
    const { dir, kind } = configDirectory(entry.path)!;
    if (isOverrideFile(entry.path)) {
      skipped.push({ file: entry.path, message: "override file: its changes are not merged into the documentation" });
      continue;
    }
    if (kind !== "root" && !directories.has(dir)) {
      if (directories.size >= l.maxDirectories) {
        skipped.push({ file: entry.path, message: `more than ${l.maxDirectories} submodule and example directories` });
        continue;
      }
      directories.add(dir);
    }
    if (files.length >= l.maxFiles) {
      skipped.push({ file: entry.path, message: `more than ${l.maxFiles} configuration files` });
      continue;
    }
    if (entry.size > l.maxFileBytes) {
      skipped.push({ file: entry.path, message: `${entry.size} bytes, over the ${l.maxFileBytes}-byte limit per file` });
      continue;
    }
    if (total + entry.size > l.maxTotalBytes) {
      skipped.push({ file: entry.path, message: `over the ${l.maxTotalBytes}-byte limit for all configuration files` });
      continue;
    }
    let content: Uint8Array | undefined;
    try {
      content = await readAtMost(entry, l.maxFileBytes);
    } catch (e) {
      skipped.push({ file: entry.path, message: `could not be read: ${(e as Error).message}` });
      continue;
    }
    if (!content) {
      skipped.push({ file: entry.path, message: `larger than its declared size and the ${l.maxFileBytes}-byte limit per file` });
      continue;
    }
    total += content.byteLength;
    files.push({ path: entry.path, content });
  }
  return { files, skipped };
}

async function readAtMost(entry: ArchiveFileEntry, limit: number): Promise<Uint8Array | undefined> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of entry.read()) {
    size += chunk.byteLength;
    if (size > limit) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
