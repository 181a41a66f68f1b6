// Downloads waiting to be written, aggregated: a burst of a thousand downloads of one version is one increment of
// a thousand. Bounded by events, so an unreachable counter store costs a fixed amount of memory; what does not fit
// is dropped and counted, never queued without end.
import { dayOf, versionKey, type DownloadEvent, type StatsKind } from "./types.ts";

export interface VersionIncrement {
  namespace: string;
  kind: StatsKind;
  name: string;
  version: string;
  count: number;
  /** Latest download in the batch (epoch ms). */
  lastAtMs: number;
}

export interface DayIncrement {
  day: string;
  namespace: string;
  kind: StatsKind;
  name: string;
  version: string;
  count: number;
}

export interface Batch {
  events: number;
  versions: Map<string, VersionIncrement>;
  days: Map<string, DayIncrement>;
}

const emptyBatch = (): Batch => ({ events: 0, versions: new Map(), days: new Map() });

export class DownloadBuffer {
  private batch = emptyBatch();
  /** Events refused because the buffer was full, since the process started. */
  dropped = 0;

  private lastDay = { index: -1, text: "" };

  constructor(readonly maxEvents: number) {}

  /** dayOf() without formatting a date for every download of the same day. */
  private dayOf(ms: number): string {
    const index = Math.floor(ms / 86_400_000);
    if (index !== this.lastDay.index) this.lastDay = { index, text: dayOf(ms) };
    return this.lastDay.text;
  }

  get size(): number {
    return this.batch.events;
  }

  /** False (and counted as dropped) when the buffer is full. */
  add(e: DownloadEvent): boolean {
    if (this.batch.events >= this.maxEvents) {
      this.dropped++;
      return false;
    }
    mergeInto(this.batch, e.namespace, e.kind, e.name, e.version, 1, e.at, this.dayOf(e.at));
    this.batch.events++;
    return true;
  }

  /** Hand over everything buffered (undefined when empty); new events start a fresh batch. */
  take(): Batch | undefined {
    if (this.batch.events === 0) return undefined;
    const out = this.batch;
    this.batch = emptyBatch();
    return out;
  }

  /** Return a batch that was never sent (the store was unreachable), as far as the bound allows. */
  putBack(batch: Batch): void {
    const room = this.maxEvents - this.batch.events;
    if (batch.events > room) {
      // Keep the newest state of the buffer; the returned batch is the older one, so it is what gets dropped.
      this.dropped += batch.events;
      return;
    }
    for (const v of batch.versions.values()) mergeVersion(this.batch, v);
    for (const d of batch.days.values()) mergeDay(this.batch, d);
    this.batch.events += batch.events;
  }
}

function mergeInto(b: Batch, ns: string, kind: StatsKind, name: string, version: string, count: number, atMs: number, day: string): void {
  mergeVersion(b, { namespace: ns, kind, name, version, count, lastAtMs: atMs });
  mergeDay(b, { day, namespace: ns, kind, name, version, count });
}

function mergeVersion(b: Batch, v: VersionIncrement): void {
  const key = versionKey(v.namespace, v.kind, v.name, v.version);
  const slot = b.versions.get(key);
  if (slot) {
    slot.count += v.count;
    slot.lastAtMs = Math.max(slot.lastAtMs, v.lastAtMs);
  } else b.versions.set(key, { ...v });
}

function mergeDay(b: Batch, d: DayIncrement): void {
  const key = `${d.day}|${versionKey(d.namespace, d.kind, d.name, d.version)}`;
  const slot = b.days.get(key);
  if (slot) slot.count += d.count;
  else b.days.set(key, { ...d });
}
