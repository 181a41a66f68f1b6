// Download statistics: what is recorded (one event per served download) and what is read back (a snapshot of
// counters held in memory, so a browse request never waits on the counter store).
export type StatsKind = "module" | "provider";

export interface DownloadEvent {
  namespace: string;
  kind: StatsKind;
  /** The Module or Provider resource name. */
  name: string;
  /** Protocol version, without a leading `v` (1.2.3). */
  version: string;
  /** When the download was served (epoch milliseconds). */
  at: number;
}

export interface Counter {
  count: number;
  /** RFC 3339 time of the most recent download, when known. */
  lastAt?: string;
}

/** A resource whose counters the snapshot should hold (the counter stores are keyed, not listed). */
export interface StatsTarget {
  namespace: string;
  kind: StatsKind;
  name: string;
  /** Protocol versions (no `v`). */
  versions: readonly TargetVersion[];
}

export interface TargetVersion {
  /** Protocol version (no `v`), the key this registry records under. */
  version: string;
  /** v0.9 recorded the version as written in the URL; a `v`-prefixed spec may have counts under `v1.2.3` too. */
  legacy?: string;
}

/** How many days of per-day counts are kept and can be read back (v0.9's `stats:day:*` expiry). */
export const DAYS_KEPT = 90;

export const resourceKey = (ns: string, kind: StatsKind, name: string) => `${ns}/${kind}/${name}`;
export const versionKey = (ns: string, kind: StatsKind, name: string, version: string) => `${ns}/${kind}/${name}/${version}`;

/** UTC calendar day of an instant, `YYYY-MM-DD`. */
export const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** The `days` calendar days ending today (UTC), oldest first. */
export function lastDays(days: number, nowMs: number): string[] {
  const today = Date.UTC(new Date(nowMs).getUTCFullYear(), new Date(nowMs).getUTCMonth(), new Date(nowMs).getUTCDate());
  const out: string[] = [];
  for (let i = days - 1; i >= 0; i--) out.push(dayOf(today - i * 86_400_000));
  return out;
}

/**
 * Counters as last read from the store, plus what this process wrote since. Readers get it by reference and read
 * it synchronously; the backend replaces it on a reload and adds to it after each successful write.
 */
let nextGeneration = 1;

export class StatsSnapshot {
  private readonly resourceCounters = new Map<string, Counter>();
  private readonly versionCounters = new Map<string, Counter>();
  /** resourceKey → day → count. */
  private readonly dayCounters = new Map<string, Map<string, number>>();
  /** Resources whose per-version counters were read from the store (not only added to locally). */
  private readonly versionsRead = new Set<string>();
  /** Increases whenever the counters change, so read models can memoise on it. */
  generation = nextGeneration++;

  resource(ns: string, kind: StatsKind, name: string): Counter | undefined {
    return this.resourceCounters.get(resourceKey(ns, kind, name));
  }
  version(ns: string, kind: StatsKind, name: string, version: string): Counter | undefined {
    return this.versionCounters.get(versionKey(ns, kind, name, version));
  }
  daily(ns: string, kind: StatsKind, name: string): ReadonlyMap<string, number> | undefined {
    return this.dayCounters.get(resourceKey(ns, kind, name));
  }

  hasVersionsRead(ns: string, kind: StatsKind, name: string): boolean {
    return this.versionsRead.has(resourceKey(ns, kind, name));
  }

  // ---- building (backends only) ----
  markVersionsRead(ns: string, kind: StatsKind, name: string): void {
    this.versionsRead.add(resourceKey(ns, kind, name));
  }
  setResource(ns: string, kind: StatsKind, name: string, c: Counter): void {
    this.resourceCounters.set(resourceKey(ns, kind, name), c);
    this.generation = nextGeneration++;
  }
  setVersion(ns: string, kind: StatsKind, name: string, version: string, c: Counter): void {
    this.versionCounters.set(versionKey(ns, kind, name, version), c);
    this.generation = nextGeneration++;
  }
  setDay(ns: string, kind: StatsKind, name: string, day: string, count: number): void {
    const key = resourceKey(ns, kind, name);
    let days = this.dayCounters.get(key);
    if (!days) this.dayCounters.set(key, (days = new Map()));
    days.set(day, count);
    this.generation = nextGeneration++;
  }
  /** Add increments this process has just written. */
  add(ns: string, kind: StatsKind, name: string, version: string, count: number, lastAtMs: number, day?: string): void {
    const at = new Date(lastAtMs).toISOString();
    for (const [map, key] of [
      [this.versionCounters, versionKey(ns, kind, name, version)],
      [this.resourceCounters, resourceKey(ns, kind, name)],
    ] as const) {
      const c = map.get(key);
      map.set(key, { count: (c?.count ?? 0) + count, lastAt: c?.lastAt && c.lastAt > at ? c.lastAt : at });
    }
    if (day) this.addDay(ns, kind, name, day, count);
    this.generation = nextGeneration++;
  }
  addDay(ns: string, kind: StatsKind, name: string, day: string, count: number): void {
    const key = resourceKey(ns, kind, name);
    let days = this.dayCounters.get(key);
    if (!days) this.dayCounters.set(key, (days = new Map()));
    days.set(day, (days.get(day) ?? 0) + count);
    this.generation = nextGeneration++;
  }
}

export const EMPTY_SNAPSHOT = new StatsSnapshot();

export interface DownloadStats {
  /** "valkey redis://host:port", "embedded /path/stats.db", "off". */
  readonly description: string;
  /** Count one download. Never throws, never waits: events are buffered and flushed in batches. */
  record(event: DownloadEvent): void;
  /** The counters as last loaded; an in-memory read. */
  snapshot(): StatsSnapshot;
  /** Write what is buffered now (tests, shutdown). Resolves even when the store is unreachable. */
  flush(): Promise<void>;
  /** Reload the snapshot now (backends shared by several processes also do this periodically). */
  refresh(): Promise<void>;
  /** Which resources and versions to read back (a store keyed by name cannot be listed cheaply). */
  setTargets(targets: () => StatsTarget[]): void;
  close(): Promise<void>;
}

/** Statistics switched off (`--stats=off`): nothing is recorded, every count reads as zero. */
export const statsOff: DownloadStats = {
  description: "off",
  record() {},
  snapshot: () => EMPTY_SNAPSHOT,
  flush: async () => {},
  refresh: async () => {},
  setTargets() {},
  close: async () => {},
};
