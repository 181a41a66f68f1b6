// The starter Grafana dashboard (docs/grafana-dashboard.json) is valid JSON whose queries name only metrics, and
// group or filter only by labels, that the registry actually exports.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import "../src/metrics/server.ts";
import "../src/metrics/controllers.ts";
import "../src/metrics/process.ts";
import { families as allFamilies } from "../src/metrics/family.ts";

const dashboard = JSON.parse(readFileSync(join(import.meta.dir, "..", "docs", "grafana-dashboard.json"), "utf8"));
const AMBIENT_LABELS = new Set(["job", "instance", "le"]); // added by Prometheus, or histogram buckets

/** Family name and declared labels of every metric the process exports. */
const families = new Map(
  allFamilies().map((m) => [m.name, { type: m.type as string, labels: [...m.labelNames] as string[] }] as const),
);

function familyOf(sample: string): string | undefined {
  if (families.has(sample)) return sample;
  const m = /^(.*)_(bucket|sum|count)$/.exec(sample);
  return m && families.get(m[1]!)?.type === "histogram" ? m[1] : undefined;
}

const exprs: { panel: string; expr: string }[] = [];
for (const p of dashboard.panels) for (const t of p.targets ?? []) exprs.push({ panel: p.title, expr: t.expr });
for (const v of dashboard.templating.list) if (v.type === "query") exprs.push({ panel: `variable ${v.name}`, expr: typeof v.query === "string" ? v.query : v.query.query });

describe("docs/grafana-dashboard.json", () => {
  test("is a dashboard with panels, each timeseries panel with at least one query", () => {
    expect(typeof dashboard.title).toBe("string");
    expect(dashboard.panels.length).toBeGreaterThan(10);
    for (const p of dashboard.panels.filter((x: any) => x.type === "timeseries")) expect({ panel: p.title, targets: p.targets.length > 0 }).toEqual({ panel: p.title, targets: true });
    const ids = dashboard.panels.map((p: any) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  test("every query names only exported metrics, and groups or filters only by their labels", () => {
    expect(exprs.length).toBeGreaterThan(20);
    for (const { panel, expr } of exprs) {
      const names = [...expr.matchAll(/\b(?:opendepot|process)_[a-zA-Z0-9_:]*/g)].map((m) => m[0]);
      expect({ panel, expr, names: names.length > 0 }).toEqual({ panel, expr, names: true });
      const unknown = names.filter((n) => !familyOf(n));
      expect({ panel, unknown }).toEqual({ panel, unknown: [] });
      const labels = new Set(names.flatMap((n) => families.get(familyOf(n)!)!.labels));
      const used = [
        ...[...expr.matchAll(/\bby \(([^)]*)\)/g)].flatMap((m) => m[1]!.split(",").map((s) => s.trim())),
        ...[...expr.matchAll(/[{,]\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)].map((m) => m[1]!),
      ];
      const stray = used.filter((l) => !labels.has(l) && !AMBIENT_LABELS.has(l));
      expect({ panel, stray }).toEqual({ panel, stray: [] });
    }
  });

  test("the check itself catches a query naming a metric that does not exist", () => {
    expect(familyOf("opendepot_http_requests_total")).toBe("opendepot_http_requests_total");
    expect(familyOf("opendepot_http_request_duration_seconds_bucket")).toBe("opendepot_http_request_duration_seconds");
    expect(familyOf("opendepot_http_requests_total_bucket")).toBeUndefined();
    expect(familyOf("opendepot_requests_total")).toBeUndefined();
  });
});
