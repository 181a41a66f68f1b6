// The catalog of plain families: names are unique, a family made after the exposition loaded is exported, what was
// recorded before it loaded is counted, and prom-client stays unloaded until then (checked in a fresh process).
import { expect, test } from "bun:test";
import { join } from "node:path";
import { parsePrometheusText, sumOf } from "../../test/support/prometheus-text.ts";
import { CollectedFamily, families, removeFamily } from "./family.ts";
import { HotCounter, HotGauge } from "./hot.ts";
import { metricsResponse } from "./registry.ts";

const scrape = async () => parsePrometheusText(await (await metricsResponse()).text());

test("a name is taken once; families made after the exposition loaded are exported; removal unexports", async () => {
  await scrape(); // the exposition is loaded from here on
  const late = new HotCounter("test_late_total", "made after the exposition loaded", ["k"]);
  expect(() => new HotCounter("test_late_total", "again", [])).toThrow(/already been registered/);
  late.series("a").inc(2);
  late.series("a").inc();
  const gauge = new HotGauge("test_late_gauge", "set, then set again", ["g"]);
  gauge.series("x").set(5);
  gauge.series("x").set(1);
  const unlabelled = new HotCounter("test_unlabelled_total", "no labels: one series at 0 from the start", []);
  const empty = new CollectedFamily("gauge", "test_empty", "collects nothing", [], () => []);
  let f = await scrape();
  expect(sumOf(f, "test_late_total", { k: "a" })).toBe(3);
  expect(sumOf(f, "test_late_gauge", { g: "x" })).toBe(1);
  expect(f.get("test_unlabelled_total")!.samples).toEqual([expect.objectContaining({ name: "test_unlabelled_total", value: 0 })]);
  expect(f.get("test_empty")!.samples).toHaveLength(0);
  expect(() => late.series("a", "b")).toThrow(/takes 1 label values/);
  for (const family of [late, gauge, unlabelled, empty]) removeFamily(family.name);
  f = await scrape();
  for (const name of ["test_late_total", "test_late_gauge", "test_unlabelled_total", "test_empty"]) expect(f.has(name)).toBe(false);
  expect(families().some((x) => x.name.startsWith("test_"))).toBe(false);
});

test("in a fresh process, recording loads no prom-client; the first scrape loads it and counts what was recorded", async () => {
  const script = `
    import { recordReconcile } from ${JSON.stringify(join(import.meta.dir, "controllers.ts"))};
    import { recordRequest } from ${JSON.stringify(join(import.meta.dir, "server.ts"))};
    import { metricsResponse } from ${JSON.stringify(join(import.meta.dir, "registry.ts"))};
    const promClient = () => Object.keys(require.cache).filter((k) => k.includes("/node_modules/prom-client/")).length;
    recordRequest("/r/:id", 200, "none", 0.001);
    recordRequest("/r/:id", 200, "none", 0.001);
    recordReconcile("version", "success", 0.2);
    const before = promClient();
    const text = await (await metricsResponse()).text();
    console.log(JSON.stringify({ before, after: promClient(), text }));
  `;
  const proc = Bun.spawn(["bun", "-e", script], { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  expect({ code, err }).toEqual({ code: 0, err: "" });
  const { before, after, text } = JSON.parse(out.trim().split("\n").at(-1)!);
  expect(before).toBe(0);
  expect(after).toBeGreaterThan(0);
  const f = parsePrometheusText(text);
  expect(sumOf(f, "opendepot_http_requests_total", { route: "/r/:id", status_class: "2xx", auth: "none" })).toBe(2);
  expect(sumOf(f, "opendepot_reconciles_total", { controller: "version", result: "success" })).toBe(1);
  expect(sumOf(f, "opendepot_reconcile_duration_seconds", { controller: "version", le: "0.5" }, "opendepot_reconcile_duration_seconds_bucket")).toBe(1);
}, 30_000);
