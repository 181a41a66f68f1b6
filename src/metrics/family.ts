// The process's catalog of metric families: plain in-process objects that hold their own numbers and say, at scrape
// time, what their samples are. Nothing here imports prom-client, so recording costs nothing but an addition and a
// process that never serves metrics never loads it: `exposition.ts` (imported only where /metrics is served)
// registers every family of this catalog, those made earlier and those made later, into a prom-client Registry,
// which writes the text format. Recording before that still counts: the numbers live here from the start.

/** One sample as prom-client's Registry reads it from a metric's `get()`. */
export type Values = { labels: Record<string, string | number>; value: number; metricName?: string }[];

export type FamilyType = "counter" | "gauge" | "histogram";

type Listener = { added(family: Family): void; removed(family: Family): void };
const catalog = new Map<string, Family>();
let listener: Listener | undefined;

export abstract class Family<L extends string = string> {
  abstract readonly type: FamilyType;

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly L[] = [],
  ) {
    if (catalog.has(name)) throw new Error(`A metric with the name ${name} has already been registered.`);
    catalog.set(name, this);
    listener?.added(this);
  }

  /** The samples at this moment. */
  protected abstract values(): Values;

  /** What prom-client's Registry reads at scrape time (the shape of its own metrics' `get()`). */
  async get() {
    return { name: this.name, help: this.help, type: this.type, aggregator: "sum" as const, values: this.values() };
  }

  protected labelsOf(values: readonly string[]): Record<string, string> {
    if (values.length !== this.labelNames.length) throw new Error(`${this.name} takes ${this.labelNames.length} label values, got ${values.length}`);
    const labels: Record<string, string> = {};
    this.labelNames.forEach((n, i) => (labels[n] = values[i]!));
    return labels;
  }
}

/** Every family made so far, in the order they were made. */
export function families(): Family[] {
  return [...catalog.values()];
}

/** Forget a family (tests that make throwaway ones). */
export function removeFamily(name: string): void {
  const family = catalog.get(name);
  if (!family) return;
  catalog.delete(name);
  listener?.removed(family);
}

/** Called by the exposition once: every family so far is reported to `added` now, later ones as they are made. */
export function watchFamilies(l: Listener): void {
  if (listener) throw new Error("the metrics catalog is already watched");
  listener = l;
  for (const family of catalog.values()) l.added(family);
}

/**
 * A family whose samples are computed when scraped (process RSS, descriptors, what sources report). `collect`
 * returns [labels, value] pairs; a family without labels that returns nothing has no sample.
 */
export class CollectedFamily<L extends string = string> extends Family<L> {
  constructor(
    readonly type: FamilyType,
    name: string,
    help: string,
    labelNames: readonly L[],
    private readonly collect: () => Iterable<readonly [Partial<Record<L, string>>, number]>,
  ) {
    super(name, help, labelNames);
  }

  protected values(): Values {
    return Array.from(this.collect(), ([labels, value]) => ({ labels: labels as Record<string, string>, value }));
  }
}
