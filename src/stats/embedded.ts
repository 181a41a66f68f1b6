// Download counters in a bun:sqlite file in the data directory: standalone's default, one process, no server.
// Writes are batched like Valkey's (one transaction per flush, off the request path); per-day rows older than
// the 90 days that are read back are pruned.
import type { Logger } from "../log.ts";
import { runtime, type SqlDatabase } from "../runtime/index.ts";
import type { Batch } from "./buffer.ts";
import { BufferedStats, type BufferedStatsOptions, type CounterBackend, type WriteOutcome } from "./buffered.ts";
import { DAYS_KEPT, dayOf, StatsSnapshot, type StatsKind } from "./types.ts";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS version_downloads (
  namespace TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL, version TEXT NOT NULL,
  count INTEGER NOT NULL, last_at INTEGER NOT NULL,
  PRIMARY KEY (namespace, kind, name, version)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS daily_downloads (
  day TEXT NOT NULL, namespace TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL, version TEXT NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (day, namespace, kind, name, version)
) WITHOUT ROWID;
`;

interface VersionRow {
  namespace: string;
  kind: StatsKind;
  name: string;
  version: string;
  count: number;
  last_at: number;
}
interface DayRow {
  day: string;
  namespace: string;
  kind: StatsKind;
  name: string;
  count: number;
}

export class EmbeddedCounters implements CounterBackend {
  readonly description: string;
  private readonly db: SqlDatabase;

  constructor(
    readonly path: string,
    log?: Logger,
  ) {
    this.description = `embedded ${path}`;
    this.db = openCounters(path, log);
  }

  async write(batch: Batch): Promise<WriteOutcome> {
    const upsertVersion = this.db.prepare(
      `INSERT INTO version_downloads (namespace, kind, name, version, count, last_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (namespace, kind, name, version) DO UPDATE SET count = count + excluded.count, last_at = max(last_at, excluded.last_at)`,
    );
    const upsertDay = this.db.prepare(
      `INSERT INTO daily_downloads (day, namespace, kind, name, version, count) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (day, namespace, kind, name, version) DO UPDATE SET count = count + excluded.count`,
    );
    this.db.transaction(() => {
      for (const v of batch.versions.values()) upsertVersion.run(v.namespace, v.kind, v.name, v.version, v.count, v.lastAtMs);
      for (const d of batch.days.values()) upsertDay.run(d.day, d.namespace, d.kind, d.name, d.version, d.count);
    });
    return "written";
  }

  /** Everything (one process owns the file): resource totals are the sums of their versions. */
  async load(): Promise<StatsSnapshot> {
    const oldest = dayOf(Date.now() - (DAYS_KEPT - 1) * 86_400_000);
    this.db.prepare("DELETE FROM daily_downloads WHERE day < ?").run(oldest);
    const snapshot = new StatsSnapshot();
    const totals = new Map<string, { ns: string; kind: StatsKind; name: string; count: number; lastAt: number }>();
    for (const r of this.db.prepare("SELECT namespace, kind, name, version, count, last_at FROM version_downloads").all() as VersionRow[]) {
      snapshot.setVersion(r.namespace, r.kind, r.name, r.version, { count: r.count, lastAt: new Date(r.last_at).toISOString() });
      const key = `${r.namespace}/${r.kind}/${r.name}`;
      const t = totals.get(key);
      if (t) {
        t.count += r.count;
        t.lastAt = Math.max(t.lastAt, r.last_at);
      } else totals.set(key, { ns: r.namespace, kind: r.kind, name: r.name, count: r.count, lastAt: r.last_at });
    }
    for (const t of totals.values()) snapshot.setResource(t.ns, t.kind, t.name, { count: t.count, lastAt: new Date(t.lastAt).toISOString() });
    const days = this.db.prepare("SELECT day, namespace, kind, name, sum(count) AS count FROM daily_downloads GROUP BY day, namespace, kind, name").all() as DayRow[];
    for (const d of days) snapshot.setDay(d.namespace, d.kind, d.name, d.day, d.count);
    return snapshot;
  }

  async close(): Promise<void> {
    this.db.close();
  }
}

const PRAGMAS = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;";

/**
 * The counters' database. A full disk must not stop a restart (downloads matter more than their counts): when WAL's
 * shared-memory file cannot be made the file is opened in exclusive locking mode, and when even that cannot hold
 * the schema the counts of this run are kept in memory, said loudly once.
 */
function openCounters(path: string, log?: Logger): SqlDatabase {
  let failure: unknown;
  for (const pragmas of [PRAGMAS, `PRAGMA locking_mode = EXCLUSIVE; ${PRAGMAS}`]) {
    const db = runtime.openDatabase(path);
    try {
      db.exec(pragmas);
      db.exec(SCHEMA);
      return db;
    } catch (e) {
      db.close();
      if (!/disk I\/O error|SQLITE_IOERR|SQLITE_FULL|database or disk is full|ENOSPC/i.test(String((e as Error)?.message ?? e))) throw e;
      failure = e;
    }
  }
  log?.error("download statistics cannot be written to disk; this run counts in memory only", { path, error: String((failure as Error)?.message ?? failure) });
  const memory = runtime.openDatabase(":memory:");
  memory.exec(SCHEMA);
  return memory;
}

export interface EmbeddedStatsOptions extends Omit<BufferedStatsOptions, "log" | "refreshIntervalMs"> {
  log: Logger;
}

/** Statistics in `<path>` (created when missing), loaded before the first request. */
export async function embeddedStats(path: string, options: EmbeddedStatsOptions): Promise<BufferedStats> {
  const stats = new BufferedStats(new EmbeddedCounters(path, options.log), options);
  await stats.refresh();
  return stats;
}
