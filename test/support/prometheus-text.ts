// A strict parser of the Prometheus text exposition format 0.0.4, for tests: every line must be a HELP, a TYPE or
// a sample (empty lines are ignored, as the format says) with valid metric and label names, correctly escaped label values and a valid value; a family's TYPE
// comes before its samples, which are contiguous; no series appears twice; histograms have cumulative buckets
// ending in +Inf that equal _count. Anything else throws with the line number.
export type MetricType = "counter" | "gauge" | "histogram" | "summary" | "untyped";
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
export interface Family {
  name: string;
  type: MetricType;
  help?: string;
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);
const SUFFIXES: Record<MetricType, string[]> = { counter: [""], gauge: [""], untyped: [""], histogram: ["_bucket", "_sum", "_count"], summary: ["", "_sum", "_count"] };

function parseValue(text: string, where: string): number {
  if (text === "+Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  if (text === "NaN") return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`${where}: invalid value "${text}"`);
  return Number(text);
}

function parseLabels(text: string, where: string): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {};
  let i = 1; // after "{"
  for (;;) {
    if (text[i] === "}") return { labels, rest: text.slice(i + 1) };
    const eq = text.indexOf("=", i);
    if (eq < 0) throw new Error(`${where}: label without "="`);
    const name = text.slice(i, eq);
    if (!LABEL_NAME.test(name) || name.startsWith("__")) throw new Error(`${where}: invalid label name "${name}"`);
    if (name in labels) throw new Error(`${where}: label "${name}" repeated`);
    if (text[eq + 1] !== '"') throw new Error(`${where}: label value of "${name}" is not quoted`);
    let value = "";
    let j = eq + 2;
    for (;; j++) {
      const c = text[j];
      if (c === undefined) throw new Error(`${where}: unterminated label value`);
      if (c === '"') break;
      if (c === "\n") throw new Error(`${where}: raw newline in a label value`);
      if (c === "\\") {
        const next = text[++j];
        if (next === "\\") value += "\\";
        else if (next === '"') value += '"';
        else if (next === "n") value += "\n";
        else throw new Error(`${where}: invalid escape "\\${next}" in a label value`);
      } else value += c;
    }
    labels[name] = value;
    i = j + 1;
    if (text[i] === ",") i++;
    else if (text[i] !== "}") throw new Error(`${where}: expected "," or "}" after a label`);
  }
}

export function parsePrometheusText(text: string): Map<string, Family> {
  if (text.length && !text.endsWith("\n")) throw new Error("exposition does not end with a newline");
  const families = new Map<string, Family>();
  const seriesSeen = new Set<string>();
  const closed = new Set<string>();
  let current: Family | undefined;
  const lines = text.split("\n").slice(0, -1);
  lines.forEach((line, n) => {
    const where = `line ${n + 1}`;
    if (line.startsWith("#")) {
      const m = /^# (HELP|TYPE) ([^ ]+) (.*)$/.exec(line);
      if (!m) throw new Error(`${where}: a comment that is neither HELP nor TYPE: ${line.slice(0, 80)}`);
      const [, what, name, rest] = m as unknown as [string, string, string, string];
      if (!METRIC_NAME.test(name)) throw new Error(`${where}: invalid metric name "${name}"`);
      let family = families.get(name);
      if (family && closed.has(name)) throw new Error(`${where}: ${name} continues after another family`);
      if (!family) {
        if (current) closed.add(current.name);
        family = { name, type: "untyped", samples: [] };
        families.set(name, family);
        current = family;
      }
      if (what === "HELP") {
        if (family.help !== undefined) throw new Error(`${where}: second HELP for ${name}`);
        if (/\\[^\\n]/.test(rest.replace(/\\\\/g, ""))) throw new Error(`${where}: invalid escape in HELP`);
        family.help = rest;
      } else {
        if (!TYPES.has(rest)) throw new Error(`${where}: unknown type "${rest}"`);
        if (family.samples.length) throw new Error(`${where}: TYPE of ${name} after its samples`);
        family.type = rest as MetricType;
      }
      return;
    }
    if (line === "") return; // the format ignores empty lines (prom-client writes one after each family)
    const nameEnd = line.search(/[{ ]/);
    if (nameEnd <= 0) throw new Error(`${where}: not a sample: ${line.slice(0, 80)}`);
    const name = line.slice(0, nameEnd);
    if (!METRIC_NAME.test(name)) throw new Error(`${where}: invalid metric name "${name}"`);
    let rest = line.slice(nameEnd);
    let labels: Record<string, string> = {};
    if (rest.startsWith("{")) ({ labels, rest } = parseLabels(rest, where));
    const parts = rest.split(" ");
    if (parts[0] !== "" || parts.length < 2 || parts.length > 3) throw new Error(`${where}: expected " value [timestamp]" after the series`);
    const value = parseValue(parts[1]!, where);
    if (parts[2] !== undefined && !/^-?\d+$/.test(parts[2])) throw new Error(`${where}: invalid timestamp`);
    if (!current) throw new Error(`${where}: sample before any TYPE`);
    const suffix = name.slice(current.name.length);
    if (!name.startsWith(current.name) || !SUFFIXES[current.type].includes(suffix)) throw new Error(`${where}: sample ${name} outside its family (${current.name}, ${current.type})`);
    if (current.type === "histogram" && suffix === "_bucket" && labels.le === undefined) throw new Error(`${where}: bucket without le`);
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (seriesSeen.has(key)) throw new Error(`${where}: duplicate series ${name}`);
    seriesSeen.add(key);
    current.samples.push({ name, labels, value });
  });
  for (const f of families.values()) if (f.type === "histogram") checkHistogram(f);
  return families;
}

function checkHistogram(f: Family): void {
  const groups = new Map<string, { buckets: [number, number][]; count?: number }>();
  for (const s of f.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    const g = groups.get(key) ?? { buckets: [] };
    groups.set(key, g);
    if (s.name.endsWith("_bucket")) g.buckets.push([parseValue(le!, f.name), s.value]);
    if (s.name.endsWith("_count")) g.count = s.value;
  }
  for (const [key, g] of groups) {
    const last = g.buckets[g.buckets.length - 1];
    if (!last || last[0] !== Infinity) throw new Error(`${f.name}${key}: no +Inf bucket`);
    for (let i = 1; i < g.buckets.length; i++) {
      if (!(g.buckets[i]![0] > g.buckets[i - 1]![0]) || g.buckets[i]![1] < g.buckets[i - 1]![1]) throw new Error(`${f.name}${key}: buckets not cumulative`);
    }
    if (g.count !== last[1]) throw new Error(`${f.name}${key}: +Inf bucket ${last[1]} differs from _count ${g.count}`);
  }
}

/** Sum of a family's samples (of `sampleName`, default the family name) whose labels include `match`. */
export function sumOf(families: Map<string, Family>, family: string, match: Record<string, string> = {}, sampleName = family): number {
  const f = families.get(family);
  if (!f) return 0;
  return f.samples.filter((s) => s.name === sampleName && Object.entries(match).every(([k, v]) => s.labels[k] === v)).reduce((a, s) => a + s.value, 0);
}
