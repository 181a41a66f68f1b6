// The vulnerability DB's identity: `db/metadata.json` `UpdatedAt` in Trivy's cache dir. When the DB-refresh job
// replaces the DB, UpdatedAt moves, and vulnerability verdicts reached under the old DB are due for a rescan.
import { join } from "node:path";

export async function vulnDbUpdatedAt(cacheDir: string): Promise<string | undefined> {
  try {
    const file = Bun.file(join(cacheDir, "db", "metadata.json"));
    if (file.size > 64 * 1024) return undefined;
    const meta = JSON.parse(await file.text()) as { UpdatedAt?: unknown };
    return typeof meta.UpdatedAt === "string" && meta.UpdatedAt.length <= 64 ? meta.UpdatedAt : undefined;
  } catch {
    return undefined; // absent or unreadable: the scan itself reports why
  }
}
