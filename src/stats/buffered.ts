// The hot-path side of every counter backend: record() only appends to a bounded in-memory buffer; a timer (or a
// full batch) writes it in one round trip. A store outage costs at most what the buffer cannot hold — counted and
// logged once per outage, never per request — and the downloads themselves never notice.
import type { Logger } from "../log.ts";
import { DownloadBuffer, type Batch } from "./buffer.ts";
import { EMPTY_SNAPSHOT, StatsSnapshot, type DownloadEvent, type DownloadStats, type StatsTarget } from "./types.ts";

export type WriteOutcome = "written" | "unsent";

export interface CounterBackend {
  readonly description: string;
  /**
   * Write a batch atomically. "unsent" means it never reached the store (safe to keep and retry); a throw means
   * the outcome is unknown (the batch is dropped rather than risk counting it twice).
   */
  write(batch: Batch): Promise<WriteOutcome>;
  /** Read the counters of these targets (`previous` lets it skip what cannot have changed); throws when unreachable. */
  load(targets: StatsTarget[], previous: StatsSnapshot): Promise<StatsSnapshot>;
  close(): Promise<void>;
}

export interface BufferedStatsOptions {
  log: Logger;
  /** Write at least this often (default 250 ms). */
  flushIntervalMs?: number;
  /** ... and as soon as this many downloads are waiting (default 500). */
  flushAtEvents?: number;
  /** Downloads held while the store is unreachable (default 100,000); more are dropped and counted. */
  maxBufferedEvents?: number;
  /** Reload the snapshot this often, to see other processes' counts (0 = only at start; default 0). */
  refreshIntervalMs?: number;
  /** A write that takes longer is abandoned (its outcome unknown; default 5 s). */
  writeTimeoutMs?: number;
}

export class BufferedStats implements DownloadStats {
  readonly description: string;
  private readonly buffer: DownloadBuffer;
  private current: StatsSnapshot = EMPTY_SNAPSHOT;
  private targets: () => StatsTarget[] = () => [];
  private flushing: Promise<void> | undefined;
  private refreshing: Promise<void> | undefined;
  private writtenDuringRefresh = false;
  private readonly timers: ReturnType<typeof setInterval>[] = [];
  private outage: { since: number; lostAtStart: number } | undefined;
  private closed = false;
  /** Downloads that were buffered but could not be counted (dropped when full, or a write of unknown outcome). */
  private lostEvents = 0;
  private readonly flushAt: number;
  private readonly writeTimeoutMs: number;

  constructor(
    private readonly backend: CounterBackend,
    private readonly options: BufferedStatsOptions,
  ) {
    this.description = backend.description;
    this.buffer = new DownloadBuffer(options.maxBufferedEvents ?? 100_000);
    this.flushAt = options.flushAtEvents ?? 500;
    this.writeTimeoutMs = options.writeTimeoutMs ?? 5_000;
    const flushEvery = options.flushIntervalMs ?? 250;
    this.timers.push(setInterval(() => void this.flush(), flushEvery));
    if (options.refreshIntervalMs) this.timers.push(setInterval(() => void this.refresh(), options.refreshIntervalMs));
    for (const t of this.timers) (t as { unref?: () => void }).unref?.();
  }

  /** Downloads not counted since start: refused by a full buffer or lost in a write of unknown outcome. */
  get lost(): number {
    return this.lostEvents + this.buffer.dropped;
  }

  get buffered(): number {
    return this.buffer.size;
  }

  record(event: DownloadEvent): void {
    if (this.closed) return;
    this.buffer.add(event);
    if (this.buffer.size >= this.flushAt && !this.flushing) void this.flush();
  }

  snapshot(): StatsSnapshot {
    return this.current;
  }

  setTargets(targets: () => StatsTarget[]): void {
    this.targets = targets;
  }

  /** Write until the buffer is empty (events recorded meanwhile included), or the store is unreachable. */
  async flush(): Promise<void> {
    for (;;) {
      this.flushing ??= this.writeOnce().finally(() => (this.flushing = undefined));
      await this.flushing;
      if (this.buffer.size === 0 || this.outage || this.closed) return;
    }
  }

  refresh(): Promise<void> {
    this.refreshing ??= this.loadOnce().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    for (const t of this.timers) clearInterval(t);
    await this.flushing;
    await this.flush();
    this.closed = true;
    await this.backend.close();
  }

  private async writeOnce(): Promise<void> {
    const batch = this.buffer.take();
    if (!batch) return;
    let outcome: WriteOutcome;
    try {
      outcome = await withTimeout(this.backend.write(batch), this.writeTimeoutMs);
    } catch (e) {
      // The outage starts before this batch is counted lost: the write that found it is part of what it cost.
      this.unreachable(e);
      this.lostEvents += batch.events;
      return;
    }
    if (outcome === "unsent") {
      this.buffer.putBack(batch);
      this.unreachable(new Error("not connected"));
      return;
    }
    this.reachable();
    for (const v of batch.versions.values()) this.current.add(v.namespace, v.kind, v.name, v.version, v.count, v.lastAtMs);
    for (const d of batch.days.values()) this.current.addDay(d.namespace, d.kind, d.name, d.day, d.count);
    if (this.refreshing) this.writtenDuringRefresh = true;
  }

  private async loadOnce(): Promise<void> {
    this.writtenDuringRefresh = false;
    try {
      const loaded = await this.backend.load(this.targets(), this.current);
      this.current = loaded;
      this.reachable();
    } catch (e) {
      this.unreachable(e);
      return;
    }
    // A write that landed while we were reading may be missing from what we read: read again soon.
    if (this.writtenDuringRefresh && !this.closed) setTimeout(() => void this.refresh(), 50);
  }

  private unreachable(e: unknown): void {
    if (this.outage) return;
    this.outage = { since: Date.now(), lostAtStart: this.lost };
    this.options.log.warn("download statistics store is unreachable; downloads are served and counted in memory until it is back", {
      store: this.description,
      error: e instanceof Error ? e.message : String(e),
      maxBufferedEvents: this.buffer.maxEvents,
    });
  }

  private reachable(): void {
    if (!this.outage) return;
    const lost = this.lost - this.outage.lostAtStart;
    this.options.log.info("download statistics store is reachable again", { store: this.description, outageSeconds: Math.round((Date.now() - this.outage.since) / 1000), lostDownloads: lost });
    this.outage = undefined;
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)));
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
