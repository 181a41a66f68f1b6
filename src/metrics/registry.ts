// The small kit every metric definition uses. A bottom-layer kit: it imports nothing of ours but the catalog
// (family.ts), and nothing of prom-client, so the server, the controllers, the upstream clients and the roles can
// all record into it at no load cost. Nothing here serves HTTP; `metricsResponse()` is mounted by the roles on their
// admin/health listener, and is the first thing that loads prom-client (exposition.ts).
import { CollectedFamily } from "./family.ts";
import { HotCounter, HotHistogram } from "./hot.ts";

export function counter<L extends string>(name: string, help: string, labelNames: readonly L[]): HotCounter<L> {
  return new HotCounter(name, help, labelNames);
}

export function histogram<L extends string>(name: string, help: string, labelNames: readonly L[], buckets: number[]): HotHistogram<L> {
  return new HotHistogram(name, help, labelNames, buckets, true);
}

type Labels<L extends string> = Partial<Record<L, string>>;

/**
 * A gauge read at scrape time from whoever registered a source (a cache, a work queue). Sources come and go with
 * the components that own them (`add` returns the removal), so a stopped manager stops reporting. Sources that
 * report the same labels add up.
 */
export class SourcedGauge<L extends string> {
  private readonly sources = new Set<() => Iterable<[Labels<L>, number]>>();

  constructor(name: string, help: string, labelNames: readonly L[]) {
    const sources = this.sources;
    new CollectedFamily("gauge", name, help, labelNames, () => {
      const sums = new Map<string, [Labels<L>, number]>();
      for (const source of sources) {
        for (const [labels, value] of source()) {
          const key = labelNames.map((n) => labels[n] ?? "\u0001").join("\u0000");
          const entry = sums.get(key);
          if (entry) entry[1] += value;
          else sums.set(key, [labels, value]);
        }
      }
      return sums.values();
    });
  }

  add(source: () => Iterable<[Labels<L>, number]>): () => void {
    this.sources.add(source);
    return () => void this.sources.delete(source);
  }
}

/**
 * Label values that come from outside (upstream hosts, reasons) kept to a fixed number of distinct values: the
 * first `max` seen are kept, later ones are reported as `overflow`. Prometheus memory grows with every series.
 */
export class BoundedValues {
  private readonly seen = new Set<string>();
  constructor(
    private readonly max: number,
    private readonly overflow = "other",
  ) {}

  of(value: string): string {
    if (this.seen.has(value)) return value;
    if (this.seen.size >= this.max) return this.overflow;
    this.seen.add(value);
    return value;
  }
}

/** `2xx`, `4xx`, ...: the status class label of request counters. */
export function statusClass(status: number): string {
  return status >= 100 && status < 600 ? `${Math.floor(status / 100)}xx` : "other";
}

/**
 * The text exposition of every metric (Prometheus format 0.0.4). Loads prom-client on first use; a role that serves
 * metrics calls `serveMetrics()` (metrics-listener.ts) at startup instead, which also starts the process samplers.
 */
export async function metricsResponse(): Promise<Response> {
  return (await import("./exposition.ts")).metricsResponse();
}
