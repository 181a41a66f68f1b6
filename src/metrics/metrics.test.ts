// The exposition parses strictly (with a parser that itself refuses malformed text), process metrics are present,
// scrape-time gauges follow their sources, and outside label values stay bounded.
import { describe, expect, test } from "bun:test";
import { parsePrometheusText, sumOf } from "../../test/support/prometheus-text.ts";
import { recordDepotPoll, recordReconcile, recordScanResult, recordUpstreamRequest, setLeader, versionsBySyncState } from "./controllers.ts";
import { startProcessMetrics } from "./process.ts";
import { removeFamily } from "./family.ts";
import { BoundedValues, metricsResponse, SourcedGauge, statusClass } from "./registry.ts";
import { recordAuthFailure, recordDownload, recordRequest, recordSignedUrlRefusal } from "./server.ts";

const scrape = async () => {
  const res = await metricsResponse();
  expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
  return parsePrometheusText(await res.text());
};

describe("strict exposition parser", () => {
  const bad: [string, string][] = [
    ["no trailing newline", "# TYPE a counter\na 1"],
    ["sample before TYPE", "a 1\n"],
    ["bad metric name", "# TYPE 1a counter\n1a 1\n"],
    ["bad label name", '# TYPE a counter\na{1x="y"} 1\n'],
    ["unquoted label", "# TYPE a counter\na{x=y} 1\n"],
    ["bad escape", '# TYPE a counter\na{x="\\t"} 1\n'],
    ["bad value", "# TYPE a counter\na one\n"],
    ["duplicate series", '# TYPE a counter\na{x="1"} 1\na{x="1"} 2\n'],
    ["foreign sample in family", "# TYPE a counter\nb 1\n"],
    ["free comment", "# hello\n"],
    ["sample line with trailing space", "# TYPE a counter\na 1 \n"],
    ["non-cumulative histogram", '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n'],
    ["+Inf differs from count", '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 1\n'],
    ["family split", "# TYPE a counter\na 1\n# TYPE b counter\nb 1\n# HELP a again\n"],
  ];
  for (const [what, text] of bad) test(`refuses: ${what}`, () => expect(() => parsePrometheusText(text)).toThrow());

  test("accepts escapes, special values and a well-formed histogram", () => {
    const f = parsePrometheusText('# HELP a x \\\\ y\n# TYPE a gauge\na{v="q\\"\\n\\\\"} NaN\n# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_sum 3.5\nh_count 2\n');
    expect(f.get("a")!.samples[0]!.labels.v).toBe('q"\n\\');
    expect(sumOf(f, "h", {}, "h_count")).toBe(2);
  });
});

describe("the registry's exposition", () => {
  test("every metric parses strictly after recording through each helper, with HELP and TYPE", async () => {
    startProcessMetrics();
    recordRequest("/x/:id", 200, "none", 0.002);
    recordRequest("/x/:id", 404, "bearer", 0.0001);
    recordDownload("module", "proxied", 1234);
    recordDownload("provider", "presigned", 0);
    recordSignedUrlRefusal("expired");
    recordAuthFailure(403, "no GroupBinding matches the caller's groups in namespace team-a");
    recordReconcile("version", "error", 0.5);
    recordUpstreamRequest("https://api.github.com/repos/a/b", 404);
    recordUpstreamRequest("not a url", undefined);
    recordDepotPoll("Module", "RateLimited");
    recordScanResult("clean");
    setLeader("version", true);
    const f = await scrape();
    for (const family of f.values()) {
      expect(family.help, family.name).toBeTruthy();
      expect(family.type, family.name).not.toBe("untyped");
    }
    expect(sumOf(f, "opendepot_http_requests_total", { route: "/x/:id", status_class: "4xx", auth: "bearer" })).toBeGreaterThanOrEqual(1);
    expect(sumOf(f, "opendepot_http_request_duration_seconds", { route: "/x/:id" }, "opendepot_http_request_duration_seconds_count")).toBeGreaterThanOrEqual(2);
    expect(sumOf(f, "opendepot_artifact_bytes_total", { kind: "module" })).toBeGreaterThanOrEqual(1234);
    expect(sumOf(f, "opendepot_auth_failures_total", { status: "403", reason: "no_binding" })).toBeGreaterThanOrEqual(1);
    expect(sumOf(f, "opendepot_upstream_requests_total", { host: "api.github.com", status: "404" })).toBeGreaterThanOrEqual(1);
    expect(sumOf(f, "opendepot_upstream_requests_total", { host: "invalid", status: "error" })).toBeGreaterThanOrEqual(1);
    expect(sumOf(f, "opendepot_leader", { group: "version" })).toBe(1);
    expect(sumOf(f, "opendepot_scans_total", { result: "clean" })).toBeGreaterThanOrEqual(1);
    expect(sumOf(f, "process_resident_memory_bytes")).toBeGreaterThan(1024 * 1024);
    expect(sumOf(f, "process_open_fds")).toBeGreaterThan(0);
    expect(f.has("opendepot_event_loop_lag_seconds")).toBe(true);
    expect(sumOf(f, "process_cpu_seconds_total")).toBeGreaterThan(0);
  });

  test("a sourced gauge reports what its sources say at scrape time, and nothing once a source is removed", async () => {
    let n = 3;
    const remove = versionsBySyncState.add(() => [[{ type: "Module", state: "failed" }, n]]);
    expect(sumOf(await scrape(), "opendepot_versions", { type: "Module", state: "failed" })).toBe(3);
    n = 5;
    expect(sumOf(await scrape(), "opendepot_versions", { type: "Module", state: "failed" })).toBe(5);
    remove();
    expect(sumOf(await scrape(), "opendepot_versions", { type: "Module", state: "failed" })).toBe(0);
    const g = new SourcedGauge("test_sourced_gauge", "two sources add up", ["k"]);
    g.add(() => [[{ k: "a" }, 1]]);
    g.add(() => [[{ k: "a" }, 2]]);
    expect(sumOf(await scrape(), "test_sourced_gauge", { k: "a" })).toBe(3);
    removeFamily("test_sourced_gauge");
    expect((await scrape()).has("test_sourced_gauge")).toBe(false);
  });

  test("outside values are bounded: past the limit, new values fold into `other` (hosts use a bound of 64)", () => {
    // A separate instance: exhausting the process-wide host bound here would relabel other tests' upstreams.
    const b = new BoundedValues(64);
    const seen = new Set(Array.from({ length: 500 }, (_, i) => b.of(`h${i}.example`)));
    expect(seen.size).toBe(65);
    expect(seen.has("other")).toBe(true);
    expect(b.of("h0.example")).toBe("h0.example");
    const two = new BoundedValues(2);
    expect([two.of("a"), two.of("b"), two.of("c"), two.of("a")]).toEqual(["a", "b", "other", "a"]);
  });

  test("auth failure reasons map free text onto a fixed set; status classes", async () => {
    expect(statusClass(204)).toBe("2xx");
    expect(statusClass(999)).toBe("other");
    for (const reason of ["missing Authorization header", "token has expired", "x".repeat(300), 'namespace evil"\n{}', "the caller's GroupBinding does not grant Module a/b"]) recordAuthFailure(401, reason);
    const reasons = new Set((await scrape()).get("opendepot_auth_failures_total")!.samples.map((s) => s.labels.reason));
    expect([...reasons].every((r) => /^[a-z_]+$/.test(r!))).toBe(true);
    for (const r of ["missing_token", "expired_token", "token_rejected", "not_granted"]) expect(reasons.has(r)).toBe(true);
  });
});
