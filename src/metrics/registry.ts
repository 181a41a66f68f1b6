// The process's one Prometheus registry and the small helpers every metric definition uses. A bottom-layer kit:
// it imports nothing of ours, so the server, the controllers, the upstream clients and the roles can all record
// into it. Nothing here serves HTTP; `metricsResponse()` is mounted by the roles on their admin/health listener.
import { Counter, Gauge, Histogram, Registry } from "prom-client";

/** Everything this process exports. One per process: standalone records server and controllers side by side. */
export const registry = new Registry();

export function counter<L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L> {
  return new Counter({ name, help, labelNames, registers: [registry] });
}

export function histogram<L extends string>(name: string, help: string, labelNames: readonly L[], buckets: number[]): Histogram<L> {
  return new Histogram({ name, help, labelNames, buckets, registers: [registry] });
}

type Labels<L extends string> = Partial<Record<L, string>>;

/**
 * A gauge read at scrape time from whoever registered a source (a cache, a work queue). Sources come and go with
 * the components that own them (`add` returns the removal), so a stopped manager stops reporting.
 */
export class SourcedGauge<L extends string> {
  private readonly sources = new Set<() => Iterable<[Labels<L>, number]>>();
  readonly gauge: Gauge<L>;

  constructor(name: string, help: string, labelNames: readonly L[]) {
    const sources = this.sources;
    this.gauge = new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        for (const source of sources) for (const [labels, value] of source()) this.inc(labels, value);
      },
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

/** The text exposition of every metric (Prometheus format 0.0.4). */
export async function metricsResponse(): Promise<Response> {
  return new Response(await registry.metrics(), { headers: { "content-type": registry.contentType, "cache-control": "no-store" } });
}
