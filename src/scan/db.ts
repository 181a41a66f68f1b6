// The vulnerability DB's identity: `db/metadata.json` `UpdatedAt` in Trivy's cache dir. When the DB-refresh job
// replaces the DB, UpdatedAt moves, and vulnerability verdicts reached under the old DB are due for a rescan.
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { runtime } from "../runtime/index.ts";

export async function vulnDbUpdatedAt(cacheDir: string): Promise<string | undefined> {
  try {
    const path = join(cacheDir, "db", "metadata.json");
    if ((await stat(path)).size > 64 * 1024) return undefined;
    const meta = JSON.parse(await runtime.readText(path)) as { UpdatedAt?: unknown };
    return typeof meta.UpdatedAt === "string" && meta.UpdatedAt.length <= 64 ? meta.UpdatedAt : undefined;
  } catch {
    return undefined; // absent or unreadable: the scan itself reports why
  }
}
