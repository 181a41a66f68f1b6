// What the hot path does not need stays out of the module graph: Elysia (the app) until a request the fast path
// and the probes leave, openpgp until a key is parsed or a signature is made (a restart with known keys parses
// none), redis without --stats-url, YAML and the admin API (CRD documents) while they are off, jose without OIDC
// (or GCP / GitHub App credentials in use), prom-client and the process samplers while metrics are off, TypeBox and
// the kinds' schemas until one of our kinds is written; the browse catalog is not built until browsed. Counted from the module registry of a real standalone process.
import { expect, test } from "bun:test";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as openpgp from "openpgp";
import { parsePrometheusText, sumOf } from "../../test/support/prometheus-text.ts";
import { KEY_MEMO_FILE } from "./signing-key.ts";

const PROBE = join(import.meta.dir, "..", "..", "test", "support", "module-graph-probe.ts");

async function probe(dataDir: string, ...flags: string[]) {
  const proc = Bun.spawn(["bun", PROBE, dataDir, ...flags], { stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`probe exited ${code}: ${stderr}`);
  const lines = stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
  const phase = (name: string) => lines.find((l) => l.phase === name);
  return { ready: phase("ready"), browsed: phase("browsed"), written: phase("written"), signed: phase("signed"), enabled: phase("enabled") };
}

test("a restart with its keys present loads no Elysia, openpgp, redis, YAML, admin API or jose (no OIDC) until needed; the signature verifies", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "opendepot-lazy-"));
  // First start: the key is generated (openpgp is needed for that) and its facts remembered.
  const first = await probe(dataDir);
  expect(first.ready.status).toBe(200);
  expect(first.ready.loaded.openpgp).toBeGreaterThan(0);
  const memo = JSON.parse(await readFile(join(dataDir, KEY_MEMO_FILE), "utf8"));
  expect(Object.keys(memo.keys)).toHaveLength(1);

  const second = await probe(dataDir);
  expect(second.ready.status).toBe(200);
  expect(second.ready.loaded).toMatchObject({ elysia: 0, openpgp: 0, redis: 0, yaml: 0, kubeapi: 0, jose: 0, uiPages: 0, promClient: 0, metricsExposition: 0, typebox: 0, schemas: 0 });
  expect(second.ready.metricsUrl).toBeNull();
  // node:zlib is not loaded for readiness: no loaded file imports it, no reader asked for it.
  expect(second.ready.zlib).toEqual({ importers: [], loads: 0 });
  // Every controller runs by default, so their modules are loaded; with --controllers "" they are not.
  expect(second.ready.loaded.controllers).toBeGreaterThan(0);
  // Neither the app (Elysia) nor the browse catalog is built for readiness or a protocol answer; the first browse
  // request builds both, once.
  expect(second.ready).toMatchObject({ catalogBuilds: 0, appLoads: 0 });
  expect(second.browsed).toEqual({ phase: "browsed", statuses: [200, 200, 200], afterProtocol: { catalogBuilds: 0, appLoads: 0, elysia: 0 }, catalogBuilds: 1, appLoads: 1, elysia: true, explorerPage: expect.anything(), gzippedAsset: expect.anything() });
  // The Explorer's pages (and marked) are imported at the first page, not with the browse API.
  expect(second.browsed.explorerPage).toMatchObject({ status: 200, pagesBefore: 0 });
  expect(second.browsed.explorerPage.type).toContain("text/html");
  expect(second.browsed.explorerPage.pagesAfter).toBeGreaterThan(0);
  // Nor for the page itself: the first gzip request for an asset loads it, and the gzip is the stylesheet's.
  expect(second.browsed.gzippedAsset).toEqual({ status: 200, encoding: "gzip", inflatesToCss: true, zlibLoadsBefore: 0, zlibLoadsAfter: 1 });
  // The kinds' schemas (TypeBox) load at the first write of one of our kinds, and that write is checked against them.
  expect(second.written.before).toEqual({ typebox: 0, schemas: 0 });
  expect(second.written.after.typebox).toBeGreaterThan(0);
  expect(second.written.after.schemas).toBeGreaterThan(0);
  expect(second.written.refused).toContain("spec.moduleConfig.provider");
  // Signing loads openpgp and parses the key on demand; the signature is by the key the memo named.
  expect(second.signed.loaded.openpgp).toBeGreaterThan(0);
  expect(second.signed.keyId).toBe(first.signed.keyId);
  const key = await openpgp.readKey({ armoredKey: second.signed.publicKeyArmored });
  expect(key.getKeyID().toHex().toUpperCase()).toBe(second.signed.keyId);
  const result = await openpgp.verify({
    message: await openpgp.createMessage({ binary: new TextEncoder().encode("probe") }),
    signature: await openpgp.readSignature({ binarySignature: Buffer.from(second.signed.signature, "base64") }),
    verificationKeys: key,
  });
  expect(await result.signatures[0]!.verified).toBe(true);
}, 60_000);

/** Every family /metrics exports, with its type: the exposition's contract (docs/metrics.md, the dashboard). */
const FAMILIES: [string, string][] = [
  ["opendepot_http_requests_total", "counter"], ["opendepot_http_request_duration_seconds", "histogram"], ["opendepot_artifact_downloads_total", "counter"],
  ["opendepot_artifact_bytes_total", "counter"], ["opendepot_signed_url_refusals_total", "counter"], ["opendepot_auth_failures_total", "counter"],
  ["opendepot_index_objects", "gauge"], ["opendepot_static_route_entries", "gauge"], ["opendepot_static_route_rebuilds_total", "counter"], ["opendepot_reconciles_total", "counter"], ["opendepot_reconcile_duration_seconds", "histogram"],
  ["opendepot_workqueue_retries_total", "counter"], ["opendepot_rate_limit_wait_seconds_total", "counter"], ["opendepot_workqueue_depth", "gauge"],
  ["opendepot_workqueue_in_flight", "gauge"], ["opendepot_upstream_requests_total", "counter"], ["opendepot_upstream_rate_limited_total", "counter"],
  ["opendepot_upstream_bytes_total", "counter"], ["opendepot_artifact_bytes_stored_total", "counter"], ["opendepot_depot_polls_total", "counter"],
  ["opendepot_scans_total", "counter"], ["opendepot_versions", "gauge"], ["opendepot_leader", "gauge"],
  ["process_resident_memory_bytes", "gauge"], ["process_cpu_seconds_total", "counter"], ["process_open_fds", "gauge"], ["process_start_time_seconds", "gauge"],
  ["opendepot_event_loop_lag_seconds", "gauge"],
];
const PROCESS_FAMILIES = new Set(["process_resident_memory_bytes", "process_cpu_seconds_total", "process_open_fds", "process_start_time_seconds", "opendepot_event_loop_lag_seconds"]);
const familiesOf = (text: string) => [...parsePrometheusText(text).values()].map((f) => [f.name, f.type]).sort();

test("prom-client and the process samplers load only where metrics are served; then /metrics exports every family, counting requests", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "opendepot-lazy-metrics-"));
  await probe(dataDir); // generates the keys

  // Metrics off: nothing of prom-client at ready. Loading the exposition later still exports every family made so far.
  const off = await probe(dataDir);
  expect(off.ready.loaded.promClient).toBe(0);
  expect(off.ready.loaded.metricsExposition).toBe(0);
  expect(off.enabled.loaded.promClient).toBeGreaterThan(0);
  expect(familiesOf(off.enabled.scrape)).toEqual(FAMILIES.filter(([name]) => !PROCESS_FAMILIES.has(name)).sort());

  // Metrics on (a listener of its own): loaded at startup, the strict text format with every family, requests counted.
  const on = await probe(dataDir, "metrics");
  expect(on.ready.status).toBe(200);
  expect(on.ready.loaded).toMatchObject({ openpgp: 0, yaml: 0, kubeapi: 0, metricsExposition: 2 });
  expect(on.ready.loaded.promClient).toBeGreaterThan(0);
  expect(familiesOf(on.ready.scrape)).toEqual([...FAMILIES].sort());
  const scraped = parsePrometheusText(on.ready.scrape);
  expect(sumOf(scraped, "opendepot_http_requests_total", { route: "/.well-known/terraform.json", status_class: "2xx", auth: "none" })).toBe(3);
  expect(sumOf(scraped, "opendepot_http_request_duration_seconds", { route: "/.well-known/terraform.json" }, "opendepot_http_request_duration_seconds_count")).toBe(3);
  expect(sumOf(scraped, "process_resident_memory_bytes")).toBeGreaterThan(1024 * 1024);
  expect(sumOf(scraped, "process_open_fds")).toBeGreaterThan(0);
}, 90_000);

test("standalone with --controllers \"\" imports no controller", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "opendepot-lazy-"));
  const run = await probe(dataDir, "--controllers", "");
  expect(run.ready.status).toBe(200);
  expect(run.ready.loaded.controllers).toBe(0);
  expect(run.browsed.statuses).toEqual([200, 200, 200]);
}, 60_000);
