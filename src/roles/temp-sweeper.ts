// Runs the stale-temp sweep of the work dir and the default storage directory at start and every 10 minutes.
import { tmpdir } from "node:os";
import type { Logger } from "../log.ts";
import { STORAGE_TEMP, WORK_DIR_TEMP, sweepStaleTemp } from "../storage/temp-sweep.ts";

export interface TempSweeperOptions {
  workDir?: string;
  storageRoots: (string | undefined)[];
  log: Logger;
  intervalMs?: number;
  /** Entries untouched this long are leftovers (default 1 h: live downloads and uploads keep writing). */
  olderThanMs?: number;
}

export function startTempSweeper(o: TempSweeperOptions): { stop(): void; sweep(): Promise<number> } {
  const olderThan = o.olderThanMs ?? 3_600_000;
  const roots = o.storageRoots.filter((r): r is string => Boolean(r));
  const sweep = async () => {
    const work = await sweepStaleTemp(o.workDir ?? tmpdir(), WORK_DIR_TEMP, olderThan);
    let removed = work.removed;
    let bytes = work.bytes;
    // Artifacts live at <root>/<namespace>/<kind>/<name>/: their temp files are at most four levels down.
    for (const root of roots) {
      const r = await sweepStaleTemp(root, STORAGE_TEMP, olderThan, 4);
      removed += r.removed;
      bytes += r.bytes;
    }
    if (removed) o.log.info("removed stale temporary files", { removed, bytes });
    return removed;
  };
  const run = () => void sweep().catch((e: unknown) => o.log.warn("temporary file sweep failed", { error: e instanceof Error ? e.message : String(e) }));
  run();
  const timer = setInterval(run, o.intervalMs ?? 600_000);
  timer.unref?.();
  return { stop: () => clearInterval(timer), sweep };
}
