// Leftovers of interrupted work: a `kill -9` during a sync leaves provider downloads and repack directories in the
// work dir and `.<name>.<rand>.tmp` files beside artifacts (518 MB after four kills). They are swept at start and
// periodically. Only entries matching our own naming and untouched for `olderThanMs` go: live work keeps writing
// (fresh mtime), and several processes may share the system temp dir.
import { lstat, readdir, rm } from "node:fs/promises";
import { join } from "node:path";

/** Names this project gives its temporary entries. */
export const WORK_DIR_TEMP = /^opendepot-(provider-[0-9a-f-]{36}\.zip|repack-[A-Za-z0-9]{6})$/;
export const STORAGE_TEMP = /^\..+\.[0-9a-f]{12}\.tmp$/;

export interface SweepResult {
  removed: number;
  bytes: number;
}

async function sizeOf(path: string): Promise<number> {
  const st = await lstat(path).catch(() => undefined);
  if (!st) return 0;
  if (!st.isDirectory()) return st.size;
  let total = 0;
  for (const e of await readdir(path).catch(() => [])) total += await sizeOf(join(path, e));
  return total;
}

/**
 * Removes entries of `dir` whose name matches `pattern` and whose mtime is older than `olderThanMs`; with `depth`,
 * looks that many directory levels down (never following symlinks).
 */
export async function sweepStaleTemp(dir: string, pattern: RegExp, olderThanMs: number, depth = 0, now = Date.now()): Promise<SweepResult> {
  const result: SweepResult = { removed: 0, bytes: 0 };
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return result; // absent or unreadable: nothing of ours to sweep
  }
  for (const e of entries) {
    const path = join(dir, e.name);
    if (pattern.test(e.name)) {
      const st = await lstat(path).catch(() => undefined);
      if (!st || st.isSymbolicLink() || now - st.mtimeMs < olderThanMs) continue;
      const bytes = await sizeOf(path);
      await rm(path, { recursive: true, force: true }).catch(() => {});
      result.removed++;
      result.bytes += bytes;
    } else if (depth > 0 && e.isDirectory()) {
      const inner = await sweepStaleTemp(path, pattern, olderThanMs, depth - 1, now);
      result.removed += inner.removed;
      result.bytes += inner.bytes;
    }
  }
  return result;
}
