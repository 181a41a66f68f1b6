// Requests are counted by the route template that served them, never by raw path: 10,000 distinct hostile paths
// add at most one series per (template, status class, credentials) and no label carries client text.
import { beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ModuleObject, ProviderObject, VersionObject } from "../api/kinds.ts";
import { API_VERSION } from "../api/meta.ts";
import { SigningKey } from "../artifacts/signing.ts";
import { silentLogger } from "../log.ts";
import { metricsResponse } from "../metrics/registry.ts";
import { FilesystemStorage } from "../storage/filesystem.ts";
import { parsePrometheusText, sumOf } from "../../test/support/prometheus-text.ts";
import { StaticFeed } from "../../test/support/static-feed.ts";
import { createApp } from "./app.ts";
import { ArtifactDelivery } from "./artifact-delivery.ts";
import { RegistryIndex } from "./registry-index.ts";
import { pathOf, requestObserver, RouteTemplates, UNMATCHED_ROUTE } from "./request-metrics.ts";
import { withRequestPolicy } from "./serve.ts";
import { UrlSigner } from "./url-signer.ts";

let handle: (r: Request) => Promise<Response>;
let templates: string[];

beforeAll(async () => {
  const storage = new FilesystemStorage(await mkdtemp(join(tmpdir(), "opendepot-metrics-")));
  const modules = new StaticFeed<ModuleObject>([{ apiVersion: API_VERSION, kind: "Module", metadata: { name: "vpc", namespace: "team" }, spec: { moduleConfig: { provider: "aws" }, versions: [] } }]);
  const providers = new StaticFeed<ProviderObject>([]);
  const versions = new StaticFeed<VersionObject>();
  const app = createApp({
    index: new RegistryIndex({ modules, providers, versions }),
    delivery: new ArtifactDelivery(() => storage, silentLogger),
    urls: new UrlSigner(new Uint8Array(32).fill(7), 600),
    signer: await SigningKey.generate({ name: "Test", email: "test@example.com", rsaBits: 2048 }),
    gatekeeper: { authorize: async () => undefined },
    log: silentLogger,
    ready: () => true,
  });
  templates = app.routes.map((r) => r.path);
  const wrapped = withRequestPolicy((r) => app.handle(r), silentLogger, requestObserver(() => templates));
  handle = async (r) => wrapped(r);
});

const scrape = async () => parsePrometheusText(await (await metricsResponse()).text());
const series = async () => (await scrape()).get("opendepot_http_requests_total")?.samples ?? [];

describe("route templates", () => {
  test("static segments beat parameters; empty segments and extra segments do not match", () => {
    const t = new RouteTemplates(["/a/:x", "/a/b", "/a/:x/c", "/files/*"]);
    expect(t.match("/a/b")).toBe("/a/b");
    expect(t.match("/a/zz")).toBe("/a/:x");
    expect(t.match("/a/zz/c")).toBe("/a/:x/c");
    expect(t.match("/a//c")).toBe(UNMATCHED_ROUTE);
    expect(t.match("/a/zz/c/d")).toBe(UNMATCHED_ROUTE);
    expect(t.match("/files/x/y/z")).toBe("/files/*");
    expect(t.match("/")).toBe(UNMATCHED_ROUTE);
  });

  test("pathOf takes the path without parsing the URL", () => {
    expect(pathOf("http://h:1/a/b?x=/y#z")).toBe("/a/b");
    expect(pathOf("http://h/a#f")).toBe("/a");
    expect(pathOf("http://h")).toBe("/");
  });

  test("protocol requests are labelled with the app's own templates, with status class and credentials", async () => {
    const route = "/opendepot/modules/v1/:namespace/:name/:system/versions";
    const before = await scrape();
    const ok = await handle(new Request("http://localhost/opendepot/modules/v1/team/vpc/aws/versions"));
    expect(ok.status).toBe(200);
    await handle(new Request("http://localhost/opendepot/modules/v1/team/nope/aws/versions", { headers: { authorization: "Bearer abc" } }));
    const after = await scrape();
    const delta = (labels: Record<string, string>) => sumOf(after, "opendepot_http_requests_total", labels) - sumOf(before, "opendepot_http_requests_total", labels);
    expect(delta({ route, status_class: "2xx", auth: "none" })).toBe(1);
    expect(delta({ route, status_class: "4xx", auth: "bearer" })).toBe(1);
    expect(templates).toContain(route);
  });
});

describe("label cardinality under hostile paths", () => {
  test("10,000 distinct hostile paths add no series beyond templates × status classes × credentials", async () => {
    const before = await series();
    const random = (n: number) => Array.from(crypto.getRandomValues(new Uint8Array(n)), (b) => `%${b.toString(16).padStart(2, "0")}`).join("");
    const shapes = [
      (i: number) => `/${random(8)}/${i}`,
      (i: number) => `/opendepot/modules/v1/ns${i}/m${i}/aws/versions`, // matches a template: counted under it
      (i: number) => `/opendepot/modules/v1/ns${i}/m${i}/aws/${i}/archive/${random(4)}`,
      (i: number) => `/opendepot/providers/v1/a/b/${i}/download/linux/amd64/x${i}.zip?expires=1&signature=${i}`,
      (i: number) => `/../../etc/passwd/${i}`,
      (i: number) => `/${"a/".repeat(i % 50)}${i}`,
      (i: number) => `/\u00e9\u4e2d/${i}/%2F%2e%2e/${random(3)}`,
      (i: number) => `//double//slash//${i}`,
      (i: number) => `/v1/modules/${"x".repeat(1 + (i % 400))}`,
      (i: number) => `/opendepot/modules/v1/${i}`,
    ];
    const auths = [undefined, `Bearer ${"t".repeat(10)}`, "Basic Zm9vOmJhcg==", `Weird${Math.random()}`];
    for (let i = 0; i < 10_000; i++) {
      const auth = auths[i % auths.length];
      const res = await handle(new Request(`http://localhost${shapes[i % shapes.length]!(i)}`, { headers: auth ? { authorization: auth } : {} }));
      expect(res.status).toBeLessThan(500);
    }
    const after = await series();
    const allowed = new Set([...templates, UNMATCHED_ROUTE, "/x/:id"]); // "/x/:id" comes from the kit's own unit test when run together
    for (const s of after) {
      expect(allowed.has(s.labels.route!)).toBe(true);
      expect(["none", "bearer", "basic", "other"]).toContain(s.labels.auth!);
      expect(s.labels.status_class).toMatch(/^[1-5]xx$|^other$/);
    }
    // Bounded by what the labels can take, not by the number of distinct paths.
    expect(after.length - before.length).toBeLessThanOrEqual(allowed.size * 5 * 4);
    expect(after.length).toBeLessThan(200);
    const durations = new Set((await scrape()).get("opendepot_http_request_duration_seconds")!.samples.map((s) => s.labels.route));
    expect(durations.size).toBeLessThanOrEqual(allowed.size);
    expect(sumOf(await scrape(), "opendepot_http_requests_total", { route: UNMATCHED_ROUTE })).toBeGreaterThanOrEqual(4000);
  });
});
