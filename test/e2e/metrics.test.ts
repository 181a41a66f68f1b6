// Acceptance for /metrics: the counters a user would graph move after real `terraform init` runs against
// `opendepot standalone` (scraped from its admin listener, the default place, with the admin token), and after a
// Version fails to sync (controllers against the fake GitHub). Every scrape parses strictly.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Version, type ModuleObject, type VersionObject } from "../../src/api/kinds.ts";
import { API_VERSION } from "../../src/api/meta.ts";
import { metricsResponse } from "../../src/metrics/registry.ts";
import { startSampleUpstreams, type SampleUpstreams } from "../../fixtures/upstream-fakes.ts";
import { parsePrometheusText, sumOf, type Family } from "../support/prometheus-text.ts";
import { startHarness, type Harness } from "../support/registry-harness.ts";
import { startStandalone, type StandaloneProcess } from "../support/standalone-process.ts";
import { TERRAFORM } from "../support/terraform.ts";
import { installSampleModules, installSampleProvider } from "../support/sample-registry.ts";
import { createFixtureRegistry } from "./fixture-registry.ts";

describe("standalone: /metrics on the admin listener, after terraform init", () => {
  let server: StandaloneProcess;
  let token: string;
  const scrape = async (): Promise<Map<string, Family>> => {
    const res = await fetch(`${server.adminUrl}/metrics`, { headers: { authorization: `Bearer ${token}` }, tls: { rejectUnauthorized: false } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain; version=0.0.4");
    return parsePrometheusText(await res.text());
  };

  beforeAll(async () => {
    if (!existsSync(TERRAFORM)) throw new Error(`Terraform CLI not found at ${TERRAFORM}: the acceptance tests need it`);
    const fixture = await createFixtureRegistry();
    server = await startStandalone({ dataDir: fixture.dataDir, manifests: fixture.manifests, admin: true, extra: ["--controllers", ""] });
    token = (await readFile(join(fixture.dataDir, "admin-token"), "utf8")).trim();
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  test("refused without the admin token, like kube-apiserver's /metrics", async () => {
    const res = await fetch(`${server.adminUrl}/metrics`, { tls: { rejectUnauthorized: false } });
    expect([401, 403]).toContain(res.status);
  });

  test("module and provider installs move requests, downloads and bytes; the index and the process are reported", async () => {
    const before = await scrape();
    await installSampleModules(server.url);
    await installSampleProvider(server.url);
    const after = await scrape();
    const delta = (family: string, labels: Record<string, string>) => sumOf(after, family, labels) - sumOf(before, family, labels);
    expect(delta("opendepot_http_requests_total", { route: "/opendepot/modules/v1/:namespace/:name/:system/versions", status_class: "2xx", auth: "none" })).toBeGreaterThanOrEqual(1);
    expect(delta("opendepot_http_requests_total", { route: "/opendepot/providers/v1/:namespace/:type/:version/download/:os/:arch", status_class: "2xx" })).toBeGreaterThanOrEqual(1);
    expect(delta("opendepot_artifact_downloads_total", { kind: "module", delivery: "proxied" })).toBeGreaterThanOrEqual(1);
    expect(delta("opendepot_artifact_downloads_total", { kind: "provider", delivery: "proxied" })).toBe(1);
    expect(delta("opendepot_artifact_bytes_total", { kind: "provider" })).toBeGreaterThan(0);
    expect(sumOf(after, "opendepot_http_request_duration_seconds", {}, "opendepot_http_request_duration_seconds_count") - sumOf(before, "opendepot_http_request_duration_seconds", {}, "opendepot_http_request_duration_seconds_count")).toBeGreaterThanOrEqual(6);
    expect(sumOf(after, "opendepot_index_objects", { kind: "Module" })).toBeGreaterThanOrEqual(1);
    expect(sumOf(after, "opendepot_index_objects", { kind: "Version" })).toBeGreaterThanOrEqual(3);
    expect(sumOf(after, "process_resident_memory_bytes")).toBeGreaterThan(10 * 1024 * 1024);
    expect(sumOf(after, "process_open_fds")).toBeGreaterThan(3);
    // No raw path ever becomes a label.
    for (const s of after.get("opendepot_http_requests_total")!.samples) expect(s.labels.route).not.toMatch(/\/default\/|widget|network/);
  }, 120_000);

  test("a tampered download URL is counted as a signed-URL refusal", async () => {
    const before = sumOf(await scrape(), "opendepot_signed_url_refusals_total", { reason: "invalid" });
    const res = await fetch(`${server.url}/opendepot/providers/v1/default/widget/2.1.0/download/linux/amd64/terraform-provider-widget_2.1.0_linux_amd64.zip?expires=9999999999&signature=${"A".repeat(43)}`);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(sumOf(await scrape(), "opendepot_signed_url_refusals_total", { reason: "invalid" }) - before).toBe(1);
  });
});

describe("controllers: metrics after a failed sync", () => {
  let upstreams: SampleUpstreams;
  let h: Harness;
  const scrape = async () => parsePrometheusText(await (await metricsResponse()).text());

  beforeAll(async () => {
    upstreams = await startSampleUpstreams();
    h = await startHarness({ env: upstreams.env });
  }, 60_000);
  afterAll(async () => {
    await h?.stop();
    await upstreams?.stop();
  });

  test("a version that does not exist upstream: version reconciles fail, GitHub's 404 is counted, the Version is reported failed", async () => {
    const before = await scrape();
    const module: ModuleObject = { apiVersion: API_VERSION, kind: "Module", metadata: { name: "terraform-aws-vpc", namespace: "default" }, spec: { moduleConfig: { repoOwner: "acme", provider: "aws", fileFormat: "zip" }, versions: [{ version: "v9.9.9" }, { version: "v1.2.0" }] } };
    await h.store.create(module);
    await h.until<VersionObject>(Version, "terraform-aws-vpc-9-9-9", (v) => v.status?.conditions?.some((c) => c.type === "Synced" && c.status === "False") === true);
    await h.until<VersionObject>(Version, "terraform-aws-vpc-1-2-0", (v) => v.status?.synced === true);
    const after = await scrape();
    const delta = (family: string, labels: Record<string, string>) => sumOf(after, family, labels) - sumOf(before, family, labels);
    expect(delta("opendepot_reconciles_total", { controller: "version", result: "success" })).toBeGreaterThanOrEqual(1);
    expect(delta("opendepot_reconciles_total", { controller: "module", result: "success" })).toBeGreaterThanOrEqual(1);
    expect(delta("opendepot_reconciles_total", { controller: "version", result: "error" })).toBeGreaterThanOrEqual(1);
    expect(delta("opendepot_workqueue_retries_total", { controller: "version" })).toBeGreaterThanOrEqual(1);
    const githubHost = new URL(upstreams.github.url).host;
    expect(delta("opendepot_upstream_requests_total", { host: githubHost, status: "404" })).toBeGreaterThanOrEqual(1);
    expect(delta("opendepot_upstream_requests_total", { status: "200" })).toBeGreaterThanOrEqual(1); // the archive, after a redirect to another host
    expect(delta("opendepot_artifact_bytes_stored_total", { kind: "Module" })).toBeGreaterThan(0);
    expect(sumOf(after, "opendepot_versions", { type: "Module", state: "failed" })).toBeGreaterThanOrEqual(1);
    expect(sumOf(after, "opendepot_versions", { type: "Module", state: "synced" })).toBeGreaterThanOrEqual(1);
    expect(after.get("opendepot_workqueue_depth")!.samples.some((s) => s.labels.controller === "version")).toBe(true);
    expect(sumOf(after, "opendepot_reconcile_duration_seconds", { controller: "version" }, "opendepot_reconcile_duration_seconds_count")).toBeGreaterThanOrEqual(2);
  }, 120_000);
});
