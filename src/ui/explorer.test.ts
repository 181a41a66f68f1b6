// The Explorer mounted on the registry server (in process, embedded store): which paths it owns and which stay
// the registry's, the headers on every page, --ui=off, 400/404 answers and the embedded assets.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ModuleObject, ProviderObject } from "../api/kinds.ts";
import { API_VERSION, type KubeObject } from "../api/meta.ts";
import { silentLogger } from "../log.ts";
import { startRegistryServer } from "../roles/registry-server.ts";
import { storageFactory } from "../storage/factory.ts";
import { EmbeddedStore } from "../store/embedded.ts";
import { publishSampleRegistry } from "../../test/support/sample-registry.ts";
import { ASSETS } from "./assets.ts";
import { CONTENT_SECURITY_POLICY } from "./explorer.ts";
import { uiFromFlags } from "../roles/ui-flags.ts";

type Server = Awaited<ReturnType<typeof startRegistryServer>>;
let store: EmbeddedStore;
let withUi: Server;
let withoutUi: Server;

beforeAll(async () => {
  const root = await mkdtemp(join(tmpdir(), "opendepot-ui-unit-"));
  store = EmbeddedStore.open(join(root, "store.db"));
  const storageFor = storageFactory({ defaultRoot: join(root, "artifacts") });
  // The Module and Provider (as their manifests declare them), then their published Versions.
  await store.create<ModuleObject>({ apiVersion: API_VERSION, kind: "Module", metadata: { name: "network", namespace: "default" }, spec: { moduleConfig: { provider: "aws", repoOwner: "acme" }, versions: [{ version: "v1.2.0" }] } });
  await store.create<ProviderObject>({ apiVersion: API_VERSION, kind: "Provider", metadata: { name: "widget", namespace: "default" }, spec: { providerConfig: { namespace: "acme" }, versions: [{ version: "2.1.0" }] } });
  await publishSampleRegistry(store, storageFor);
  await store.create<KubeObject>({ apiVersion: "v1", kind: "Namespace", metadata: { name: "paging" } });
  for (let i = 0; i < 25; i++) await store.create<ModuleObject>({ apiVersion: API_VERSION, kind: "Module", metadata: { name: `m-${String(i).padStart(2, "0")}`, namespace: "paging" }, spec: { moduleConfig: { provider: "aws", repoOwner: "acme" }, versions: [] } });
  const base = { store, storageFor, signer: { keyId: "0", publicKeyArmored: "", sign: async () => new Uint8Array([0x88]) }, urlKey: new Uint8Array(32).fill(5), urlTtlSeconds: 600, log: silentLogger };
  withUi = await startRegistryServer({ ...base, ui: (await uiFromFlags({}))! });
  withoutUi = await startRegistryServer(base);
});

afterAll(async () => {
  await withUi?.stop();
  await withoutUi?.stop();
  await store?.close();
});

const get = (server: Server, path: string, headers: Record<string, string> = {}) => server.handle(new Request(`http://127.0.0.1:8080${path}`, { headers, redirect: "manual" }));

describe("paths", () => {
  test("the protocol and browse API paths keep precedence and answer exactly as without the UI", async () => {
    for (const path of ["/.well-known/terraform.json", "/opendepot/modules/v1/default/network/aws/versions", "/opendepot/ui/v1/resources", "/opendepot/ui/v1/resources/default/module/network", "/opendepot/ui/v1/resources/default/module/missing", "/healthz"]) {
      const [a, b] = [await get(withUi, path), await get(withoutUi, path)];
      expect([path, a.status, a.headers.get("content-type")]).toEqual([path, b.status, b.headers.get("content-type")]);
      expect(await a.text()).toBe(await b.text());
    }
  });

  test("UI pages at v0.9's paths; a namespace named like the API prefix is still a resource page", async () => {
    for (const path of ["/", "/depots", "/stats", "/default/module/network", "/default/module/network/", "/default/provider/widget?tab=versions"]) {
      const r = await get(withUi, path);
      expect([path, r.status, r.headers.get("content-type")]).toEqual([path, 200, "text/html; charset=utf-8"]);
    }
    expect((await get(withUi, "/opendepot/module/network")).status).toBe(404); // a page: no such module there
    expect((await get(withUi, "/opendepot/module/network")).headers.get("content-type")).toContain("text/html");
  });

  test("--ui=off: no pages, no assets, no /auth; the registry is unaffected", async () => {
    for (const path of ["/", "/depots", "/stats", "/default/module/network", ASSETS.css.path, "/auth/login"]) {
      const r = await get(withoutUi, path);
      expect([path, r.status, r.headers.get("content-type")]).toEqual([path, 404, "application/json"]);
    }
    expect(await uiFromFlags({ ui: "off" })).toBeUndefined();
    expect(uiFromFlags({ ui: "maybe" })).rejects.toThrow("--ui must be on or off");
  });
});

describe("answers", () => {
  test("every page carries the CSP (no inline script), frame-ancestors 'none' and the registry's security headers", async () => {
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).not.toContain("unsafe-inline");
    expect(CONTENT_SECURITY_POLICY).toContain("frame-ancestors 'none'");
    for (const path of ["/", "/depots", "/stats", "/default/module/network", "/default/module/missing", "/?kind=nope"]) {
      const r = await get(withUi, path);
      expect(r.headers.get("content-security-policy")).toBe(CONTENT_SECURITY_POLICY);
      expect(r.headers.get("x-frame-options")).toBe("DENY");
      expect(r.headers.get("x-content-type-options")).toBe("nosniff");
      expect(r.headers.get("referrer-policy")).toBe("no-referrer");
      const body = await r.text();
      expect(body).not.toMatch(/<script(?![^>]*\bsrc=)/); // no inline scripts
      expect(body).not.toMatch(/\sstyle=|\son[a-z]+=/); // no inline styles or handlers
    }
  });

  test("bad input is a 400 page with the reason; a missing resource is a 404 page", async () => {
    const cases: [string, number, string][] = [
      ["/?kind=bogus", 400, "kind must be one of module, provider"],
      ["/?page=0", 400, "page must be between 1 and 100000"],
      ["/?q=" + "x".repeat(300), 400, "q is longer than 256 characters"],
      ["/default/module/network?tab=nope", 400, "tab must be one of"],
      ["/default/module/network?version=9.9.9", 400, "version 9.9.9 does not exist"],
      ["/default/provider/widget?tab=docs", 400, "the docs tab is for modules"],
      ["/Bad_NS/module/x", 400, "invalid namespace"],
      ["/default/module/%E0%A4%A", 400, "percent-encoding"],
      ["/default/module/missing", 404, "There is no module default/missing"],
    ];
    for (const [path, status, text] of cases) {
      const r = await get(withUi, path);
      expect([path, r.status]).toEqual([path, status]);
      expect(await r.text()).toContain(text);
    }
  });

  test("usage snippets use the Host the browser used and the version constraint", async () => {
    const page = await (await get(withUi, "/default/module/network", { host: "registry.example:8443" })).text();
    expect(page).toContain("source  = &quot;registry.example:8443/default/network/aws&quot;");
    expect(page).toContain("version = &quot;1.2.0&quot;");
    const provider = await (await get(withUi, "/default/provider/widget")).text();
    expect(provider).toContain("source  = &quot;127.0.0.1:8080/default/widget&quot;");
    // A hostile Host never reaches a page: the listener refuses it (server/request-line.ts).
    const hostile = await get(withUi, "/default/module/network", { host: "evil\"><script>" });
    expect(hostile.status).toBe(400);
    expect(await hostile.text()).not.toContain("<script>");
  });

  test("assets: hashed, immutable, gzip when asked; the theme switch sets a cookie and returns same-site only", async () => {
    const css = await get(withUi, ASSETS.css.path, { "accept-encoding": "gzip" });
    expect(css.headers.get("cache-control")).toContain("immutable");
    expect(css.headers.get("content-encoding")).toBe("gzip");
    const js = await get(withUi, ASSETS.js.path);
    expect(await js.text()).toContain("clipboard");
    const theme = await get(withUi, "/_ui/theme?set=dark&back=%2Fstats");
    expect(theme.status).toBe(303);
    expect(theme.headers.get("location")).toBe("/stats");
    expect(theme.headers.get("set-cookie")).toContain("opendepot_color_mode=dark");
    expect((await get(withUi, "/_ui/theme?set=dark&back=https%3A%2F%2Fevil.example")).headers.get("location")).toBe("/");
    expect(await (await get(withUi, "/", { cookie: "opendepot_color_mode=dark" })).text()).toContain('<html lang="en" data-theme="dark">');
  });

  test("Explorer pagination: pages of page_size, Previous/Next links that keep the filters", async () => {
    const cards = (html: string) => [...html.matchAll(/<h3><a href="\/paging\/module\/(m-\d+)">/g)].map((m) => m[1]);
    const first = await (await get(withUi, "/?namespace=paging&page_size=12")).text();
    expect(cards(first)).toEqual(Array.from({ length: 12 }, (_, i) => `m-${String(i).padStart(2, "0")}`));
    expect(first).toContain("25 results");
    expect(first).toContain("Page 1 of 3");
    expect(first).toContain('href="/?namespace=paging&amp;page_size=12&amp;page=2" rel="next"');
    const last = await (await get(withUi, "/?namespace=paging&page_size=12&page=3&sort_dir=desc")).text();
    expect(cards(last)).toEqual(["m-00"]);
    expect(last).toContain('rel="prev"');
    expect(last).not.toContain('rel="next"');
    const fragment = await (await get(withUi, "/?namespace=paging&q=m-2&fragment=results")).text();
    expect(fragment.startsWith("<p")).toBe(true); // only the results, for search-as-you-type
    expect(cards(fragment)).toEqual(["m-20", "m-21", "m-22", "m-23", "m-24"]);
  });

  test("without OIDC there is no sign-in link and /auth/login is a 503 with the reason", async () => {
    expect(await (await get(withUi, "/")).text()).not.toContain("Sign in");
    const r = await get(withUi, "/auth/login");
    expect(r.status).toBe(503);
    expect(await r.text()).toContain("sign-in is not configured");
  });
});
