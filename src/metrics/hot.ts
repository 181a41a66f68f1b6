// Counters, gauges and histograms that record with a plain addition. prom-client's labelled children re-hash their
// labels on every inc/observe (≈0.8 µs each measured here under load, several per request); these keep one plain
// number (or one bucket array) per series behind a handle the caller may cache, so recording costs an addition, and
// only the scrape formats anything (through prom-client, loaded only where metrics are served: family.ts).
import { Family, type Values } from "./family.ts";

export interface CounterSeries {
  inc(n?: number): void;
}

class CounterEntry implements CounterSeries {
  value = 0;
  constructor(readonly labels: Record<string, string>) {}
  inc(n = 1): void {
    this.value += n;
  }
}

/** Label values joined into one map key (NUL cannot occur in the fixed sets and bounded values we label with). */
const keyOf = (values: readonly string[]) => (values.length === 1 ? values[0]! : values.join("\u0000"));

export class HotCounter<L extends string> extends Family<L> {
  readonly type = "counter";
  private readonly all = new Map<string, CounterEntry>();

  constructor(name: string, help: string, labelNames: readonly L[]) {
    super(name, help, labelNames);
    // As prom-client does: a counter without labels has its one series from the start, at 0.
    if (labelNames.length === 0) this.series();
  }

  /** The series with these label values (in labelNames order); keep the handle on a hot path. */
  series(...values: string[]): CounterSeries {
    const key = keyOf(values);
    let s = this.all.get(key);
    if (!s) this.all.set(key, (s = new CounterEntry(this.labelsOf(values))));
    return s;
  }

  protected values(): Values {
    return Array.from(this.all.values(), (s) => ({ labels: s.labels, value: s.value }));
  }
}

export interface GaugeSeries {
  set(value: number): void;
}

class GaugeEntry implements GaugeSeries {
  value = 0;
  constructor(readonly labels: Record<string, string>) {}
  set(value: number): void {
    this.value = value;
  }
}

/** A gauge set by the code that knows its value (leader status); for values read at scrape time see SourcedGauge. */
export class HotGauge<L extends string> extends Family<L> {
  readonly type = "gauge";
  private readonly all = new Map<string, GaugeEntry>();

  series(...values: string[]): GaugeSeries {
    const key = keyOf(values);
    let s = this.all.get(key);
    if (!s) this.all.set(key, (s = new GaugeEntry(this.labelsOf(values))));
    return s;
  }

  protected values(): Values {
    return Array.from(this.all.values(), (s) => ({ labels: s.labels, value: s.value }));
  }
}

export interface HistogramSeries {
  observe(value: number): void;
}

class HistogramEntry implements HistogramSeries {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(
    readonly labels: Record<string, string>,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }
  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }
}

export class HotHistogram<L extends string> extends Family<L> {
  readonly type = "histogram";
  private readonly all = new Map<string, HistogramEntry>();

  /** `leFirst`: write `le` before the other labels, as prom-client's own Histogram does (label order means nothing to
   * Prometheus; it keeps the exposition of the histograms that used to be prom-client's byte-for-byte the same). */
  constructor(name: string, help: string, labelNames: readonly L[], private readonly buckets: readonly number[], private readonly leFirst = false) {
    super(name, help, labelNames);
    if (buckets.some((b, i) => i > 0 && b <= buckets[i - 1]!)) throw new Error(`${name}: buckets must increase`);
  }

  series(...values: string[]): HistogramSeries {
    const key = keyOf(values);
    let s = this.all.get(key);
    if (!s) this.all.set(key, (s = new HistogramEntry(this.labelsOf(values), this.buckets)));
    return s;
  }

  protected values(): Values {
    const out: Values = [];
    for (const s of this.all.values()) {
      let cumulative = 0;
      const withLe = (le: number | string) => (this.leFirst ? { le, ...s.labels } : { ...s.labels, le });
      this.buckets.forEach((le, i) => {
        cumulative += s.counts[i]!;
        out.push({ metricName: `${this.name}_bucket`, labels: withLe(le), value: cumulative });
      });
      out.push({ metricName: `${this.name}_bucket`, labels: withLe("+Inf"), value: s.count });
      out.push({ metricName: `${this.name}_sum`, labels: s.labels, value: s.sum });
      out.push({ metricName: `${this.name}_count`, labels: s.labels, value: s.count });
    }
    return out;
  }
}
