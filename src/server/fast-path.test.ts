// The fast path must answer exactly as the full way (normalisation → Elysia) would: the same listener serves a
// corpus of requests (valid, hostile, refused, conditional, HEAD) over real sockets with and without the fast path,
// and the answers are compared byte for byte (status line, headers in order, body; only Date and the request id
// differ), along with the access-log lines. The fast path must also really be taken for the protocol GETs.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ModuleObject, ProviderObject, VersionObject } from "../api/kinds.ts";
import { API_VERSION } from "../api/meta.ts";
import { SigningKey } from "../artifacts/signing.ts";
import { createLogger, silentLogger } from "../log.ts";
import { FilesystemStorage } from "../storage/filesystem.ts";
import { publishModule, publishProvider } from "../../test/support/publish.ts";
import { feedStore, StaticFeed } from "../../test/support/static-feed.ts";
import { createApp, fastPathOf } from "./app.ts";
import { discoveryDocument } from "./protocol-answers.ts";
import { ArtifactDelivery } from "./artifact-delivery.ts";
import type { Gatekeeper, RegistryTarget } from "./context.ts";
import { fastRoute, type FastPath } from "./fast-path.ts";
import { buildAddressOf, moduleAddressOf } from "./artifact-urls.ts";
import { nameParam, namespaceParam } from "./params.ts";
import { forbidden, unauthorized } from "./auth/responses.ts";
import { RegistryIndex } from "./registry-index.ts";
import { listen, withRequestPolicy } from "./serve.ts";
import { UrlSigner } from "./url-signer.ts";
import { rawHttp, type RawAnswer } from "../../test/support/raw-http.ts";

const moduleObject = (name: string, provider?: string): ModuleObject => ({ apiVersion: API_VERSION, kind: "Module", metadata: { name, namespace: "team" }, spec: { moduleConfig: { provider }, versions: [] } });
const providerObject = (name: string): ProviderObject => ({ apiVersion: API_VERSION, kind: "Provider", metadata: { name, namespace: "team" }, spec: { providerConfig: {}, versions: [] } });

/** Module "secret" and provider "vault" need `Bearer ok` (401 without a token, 403 with another); the rest is open. */
function testGatekeeper(async: boolean): Gatekeeper {
  const decide = (request: Request, target: RegistryTarget) => {
    if (target.name !== "secret" && target.name !== "vault") return undefined;
    const header = request.headers.get("authorization");
    if (!header) return unauthorized("missing Authorization header", false);
    return header === "Bearer ok" ? undefined : forbidden(`no access to ${target.kind} ${target.name}`);
  };
  return { authorize: async ? async (r, t) => decide(r, t) : decide };
}

interface Served {
  port: number;
  logs: Record<string, unknown>[];
  fastAnswers: number;
  stop: () => void;
}

let signer: SigningKey;
const servers: Served[] = [];

async function serve(fast: boolean, asyncGatekeeper: boolean, feeds: Awaited<ReturnType<typeof publishAll>>, signer: SigningKey): Promise<Served> {
  const logs: Record<string, unknown>[] = [];
  const log = createLogger({ write: (l) => logs.push(JSON.parse(l)) });
  const app = createApp({
    index: feeds.index,
    delivery: new ArtifactDelivery(() => feeds.storage, silentLogger),
    // One fixed clock for every server: signed URLs in the answers are then identical.
    urls: new UrlSigner(new Uint8Array(32).fill(7), 600, () => 1_800_000_000_000),
    signer,
    gatekeeper: testGatekeeper(asyncGatekeeper),
    log: silentLogger,
    ready: () => true,
  });
  const served: Served = { port: 0, logs, fastAnswers: 0, stop: () => {} };
  const inner = fastPathOf(app)!;
  const counted: FastPath = (request, path, id) => {
    const answer = inner(request, path, id);
    if (answer !== undefined) served.fastAnswers++;
    return answer;
  };
  const server = listen((r) => app.handle(r), { hostname: "127.0.0.1", port: 0, ...(fast ? { fast: counted } : {}) }, log);
  served.port = server.port!;
  served.stop = () => void server.stop(true);
  logs.length = 0;
  servers.push(served);
  return served;
}

async function publishAll() {
  const root = await mkdtemp(join(tmpdir(), "opendepot-fast-"));
  const storage = new FilesystemStorage(root);
  const versions = new StaticFeed<VersionObject>();
  const store = feedStore(versions);
  const index = new RegistryIndex({
    modules: new StaticFeed<ModuleObject>([moduleObject("vpc", "aws"), moduleObject("any"), moduleObject("secret", "aws")]),
    providers: new StaticFeed<ProviderObject>([providerObject("widget"), providerObject("vault")]),
    versions,
  });
  for (const version of ["1.0.0", "1.1.0", "2.0.0-rc.1"]) await publishModule(store, () => storage, { namespace: "team", module: "vpc", version, files: { "main.tf": "" } });
  await publishModule(store, () => storage, { namespace: "team", module: "secret", version: "0.1.0", files: { "main.tf": "" } });
  for (const [os, arch] of [["linux", "amd64"], ["darwin", "arm64"]] as const) {
    await publishProvider(store, () => storage, { namespace: "team", provider: "widget", version: "1.0.0", os, arch, binary: os });
    await publishProvider(store, () => storage, { namespace: "team", provider: "vault", version: "3.0.0", os, arch, binary: os });
  }
  return { storage, index };
}

const normalise = (a: RawAnswer) => ({
  ...a,
  body: Buffer.from(a.body).toString("latin1"),
  headers: a.headers.filter(([k]) => k !== "date").map(([k, v]) => [k, k === "x-request-id" ? "(id)" : v]),
});
const logShape = (l: Record<string, unknown>) => ({ ...l, time: 0, requestId: 0, durationMs: 0 });

const M = "/opendepot/modules/v1/team";
const P = "/opendepot/providers/v1/team";
/** Requests the fast path takes (when nothing else about them is unusual). */
const protocolPaths = [
  "/.well-known/terraform.json",
  `${M}/vpc/aws/versions`,
  `${M}/any/whatever/versions`,
  `${M}/vpc/aws/1.1.0/download`,
  `${M}/vpc/aws/2.0.0-rc.1/download`,
  `${P}/widget/versions`,
  `${P}/widget/1.0.0/download/linux/amd64`,
  `${P}/widget/1.0.0/download/darwin/arm64`,
];
/** Protocol-shaped requests that are refused or not found: answered by the fast path too, as the app would. */
const refusedPaths = [
  `${M}/nope/aws/versions`,
  `${M}/vpc/azurerm/versions`,
  `${M}/vpc/aws/9.9.9/download`,
  `${M}/secret/aws/versions`,
  `${M}/secret/aws/0.1.0/download`,
  `${P}/nope/versions`,
  `${P}/widget/1.0.0/download/windows/amd64`,
  `${P}/widget/2.0.0/download/linux/amd64`,
  `${P}/vault/versions`,
  `${P}/vault/3.0.0/download/linux/amd64`,
];
/** What the fast path must leave to the app (which answers 400s, redirects, its own 404s). */
const otherPaths = [
  `${M}/vpc/aws/versions/`,
  `${M}/vpc/aws/versions?x=1`,
  `${M}/vpc/aws/versions?%ff`,
  `${M}/vpc/aws/versions#frag`,
  `${M}/v%70c/aws/versions`,
  `${M}/vpc/aws/../aws/versions`,
  `${M}/vpc/./aws/versions`,
  `${M}//vpc/aws/versions`,
  `${M}/VPC/aws/versions`,
  `${M}/vpc/AWS/versions`,
  `${M}/vp.c/aws/versions`,
  `${M}/vpc/aws/v1.1.0/download`,
  `${M}/vpc/aws/1.1/download`,
  `${M}/vpc/aws/1.1.0/download/extra`,
  `${M}/${"a".repeat(300)}/aws/versions`,
  `${M}/vpc/aws/%c0%ae/download`,
  `${M}/vpc/aws/\u00e9/download`,
  `${P}/widget/1.0.0/download/Linux/amd64`,
  `${P}/widget/1.0.0/download/linux`,
  `${P}/wid_get/versions`,
  `/opendepot/modules/v2/team/vpc/aws/versions`,
  `/opendepot/modules/v1/Team/vpc/aws/versions`,
  `/opendepot/modules/v1/-team/vpc/aws/versions`,
  "/.well-known/terraform.json/",
  "/.well-known/./terraform.json",
  "/healthz",
  "/readyz",
  "/",
  "/nowhere",
  "/opendepot/",
  "/opendepot/modules/v1",
];

/** `fast`: whether the fast path must take it (undefined: either, as Bun builds the URL). */
type Case = { name: string; text: string; fast?: boolean };
function corpus(): Case[] {
  const req = (method: string, target: string, headers: Record<string, string> = {}, host: string | null = "registry.test") =>
    `${method} ${target} HTTP/1.1\r\n${host === null ? "" : `Host: ${host}\r\n`}${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("")}Connection: close\r\n\r\n`;
  const cases: Case[] = [];
  for (const [paths, fast] of [[protocolPaths, true], [refusedPaths, true], [otherPaths, false]] as const) {
    for (const path of paths) {
      // Bun resolves dot segments in request.url before any handler sees it: either way may answer those.
      const taken = path.includes("/.") ? undefined : fast;
      cases.push({ name: `GET ${path}`, text: req("GET", path), fast: taken });
      cases.push({ name: `HEAD ${path}`, text: req("HEAD", path), fast: taken });
    }
  }
  for (const path of [`${M}/secret/aws/versions`, `${P}/vault/3.0.0/download/linux/amd64`]) {
    cases.push({ name: `GET ${path} allowed`, text: req("GET", path, { authorization: "Bearer ok" }), fast: true });
    cases.push({ name: `HEAD ${path} allowed`, text: req("HEAD", path, { authorization: "Bearer ok" }), fast: true });
    cases.push({ name: `GET ${path} forbidden`, text: req("GET", path, { authorization: "Bearer nope" }), fast: true });
    cases.push({ name: `HEAD ${path} forbidden`, text: req("HEAD", path, { authorization: "Bearer nope" }), fast: true });
  }
  const v = `${M}/vpc/aws/1.1.0/download`;
  const versions = `${M}/vpc/aws/versions`;
  cases.push({ name: "OpenTofu download", text: req("GET", v, { "user-agent": "OpenTofu/1.8.0" }), fast: true });
  cases.push({ name: "OpenTofu download HEAD", text: req("HEAD", v, { "user-agent": "OpenTofu/1.8.0" }), fast: true });
  cases.push({ name: "own request id", text: req("GET", versions, { "x-request-id": "client-chosen.id:1" }), fast: true });
  cases.push({ name: "hostile request id", text: req("GET", versions, { "x-request-id": 'a b"c' }), fast: true });
  cases.push({ name: "Host with port", text: req("GET", versions, {}, "registry.test:8443"), fast: true });
  cases.push({ name: "Host of two characters", text: req("GET", versions, {}, "ab"), fast: true });
  cases.push({ name: "IPv6 Host", text: req("GET", versions, {}, "[::1]:8080"), fast: true });
  cases.push({ name: "malformed Host", text: req("GET", versions, {}, "a_b c"), fast: false });
  cases.push({ name: "Host with a path", text: req("GET", versions, {}, "registry.test/x"), fast: false });
  cases.push({ name: "empty Host", text: req("GET", versions, {}, ""), fast: false });
  cases.push({ name: "no Host, HTTP/1.0", text: `GET ${versions} HTTP/1.0\r\n\r\n`, fast: false });
  cases.push({ name: "absolute-form target", text: req("GET", `http://elsewhere.test${versions}`) });
  cases.push({ name: "POST", text: req("POST", versions, { "content-length": "0" }), fast: false });
  cases.push({ name: "OPTIONS", text: req("OPTIONS", versions), fast: false });
  cases.push({ name: "long URL", text: req("GET", `${versions}${"x".repeat(5000)}`), fast: false });
  // Conditional requests: the documents' own ETags (strong, weak, in a list, `*`), a stale one, and refused callers.
  const { index } = feeds;
  const tags: [string, string][] = [
    ["/.well-known/terraform.json", discoveryDocument().etag],
    [versions, index.moduleVersionsDocument("team", "vpc").etag],
    [`${P}/widget/versions`, index.providerVersionsDocument("team", "widget").etag],
  ];
  for (const [path, etag] of tags) {
    for (const inm of [etag, `W/${etag}`, `"stale", ${etag}`, "*", '"stale"', `${etag.slice(0, -2)}"`]) {
      cases.push({ name: `GET ${path} If-None-Match ${inm}`, text: req("GET", path, { "if-none-match": inm }), fast: true });
      cases.push({ name: `HEAD ${path} If-None-Match ${inm}`, text: req("HEAD", path, { "if-none-match": inm }), fast: true });
    }
  }
  const secret = index.moduleVersionsDocument("team", "secret").etag;
  cases.push({ name: "refused caller with the document's ETag", text: req("GET", `${M}/secret/aws/versions`, { "if-none-match": secret }), fast: true });
  cases.push({ name: "forbidden caller with the document's ETag", text: req("GET", `${M}/secret/aws/versions`, { "if-none-match": secret, authorization: "Bearer no" }), fast: true });
  cases.push({ name: "allowed caller with the document's ETag", text: req("GET", `${M}/secret/aws/versions`, { "if-none-match": secret, authorization: "Bearer ok" }), fast: true });
  cases.push({ name: "unknown module with *", text: req("GET", `${M}/nope/aws/versions`, { "if-none-match": "*" }), fast: true });
  cases.push({ name: "metadata with *", text: req("GET", `${P}/widget/1.0.0/download/linux/amd64`, { "if-none-match": "*" }), fast: true });
  return cases;
}

let feeds: Awaited<ReturnType<typeof publishAll>>;
beforeAll(async () => {
  signer = await SigningKey.generate({ name: "Test", email: "test@example.com", rsaBits: 2048 });
  feeds = await publishAll();
}, 60_000);
afterAll(() => {
  for (const s of servers) s.stop();
});

for (const asyncGatekeeper of [false, true]) {
  describe(`fast path vs the full way (${asyncGatekeeper ? "async" : "sync"} gatekeeper)`, () => {
    test("every answer is the same, byte for byte, and so is every access-log line", async () => {
      const fast = await serve(true, asyncGatekeeper, feeds, signer);
      const full = await serve(false, asyncGatekeeper, feeds, signer);
      const cases = corpus();
      for (const c of cases) {
        const before = fast.fastAnswers;
        const a = normalise(await rawHttp(fast.port, c.text));
        const b = normalise(await rawHttp(full.port, c.text));
        expect({ case: c.name, ...a }).toEqual({ case: c.name, ...b });
        if (c.fast !== undefined) expect({ case: c.name, fast: fast.fastAnswers > before }).toEqual({ case: c.name, fast: c.fast });
      }
      expect(fast.logs.map(logShape)).toEqual(full.logs.map(logShape));
      expect(fast.logs).toHaveLength(cases.length);
      expect(full.fastAnswers).toBe(0);
    }, 60_000);
  });
}

describe("what the fast path answers", () => {
  test("a route only for segments the routes' own validators accept; hostile paths never throw", () => {
    const segments = ["", "opendepot", "modules", "providers", "v1", "team", "vpc", "aws", "1.0.0", "v1.0.0", "download", "versions", "linux", "amd64", "..", ".", "%2e", "A", "a".repeat(70), "x.y", "-a", "\u00e9", "1.0", "1.0.0-rc.1+b"];
    let routes = 0;
    let seed = 7;
    const pick = () => segments[(seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff) % segments.length]!;
    const shapes = [
      ["opendepot", "modules", "v1", "team", "vpc", "aws", "versions"],
      ["opendepot", "modules", "v1", "team", "vpc", "aws", "1.0.0", "download"],
      ["opendepot", "providers", "v1", "team", "vpc", "versions"],
      ["opendepot", "providers", "v1", "team", "vpc", "1.0.0", "download", "linux", "amd64"],
    ];
    for (let i = 0; i < 20_000; i++) {
      // A route's shape with some segments swapped for hostile ones, or a shape cut short or grown.
      const shape = shapes[i % shapes.length]!;
      let parts = shape.map((p) => ((seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff) % 4 === 0 ? pick() : p));
      if (i % 7 === 0) parts = parts.slice(0, i % parts.length);
      if (i % 11 === 0) parts.push(pick());
      const path = `/${parts.join("/")}`;
      const route = fastRoute(path);
      if (!route) continue;
      routes++;
      // Whatever the fast path takes, the app's validators accept as the same address.
      if (route.kind === "moduleVersions" || route.kind === "moduleDownload") {
        const m = route.module as { ns: string; name: string; system: string; version?: string };
        expect(moduleAddressOf({ namespace: m.ns, name: m.name, system: m.system, version: m.version })).toEqual(m);
      } else if (route.kind === "providerMetadata") {
        const b = route.build;
        expect(buildAddressOf({ namespace: b.ns, type: b.type, version: b.version, os: b.os, arch: b.arch })).toEqual(b);
      } else if (route.kind === "providerVersions") {
        expect([namespaceParam(route.ns), nameParam(route.type)]).toEqual([route.ns, route.type]);
      }
    }
    expect(routes).toBeGreaterThan(20);
  });

  test("HEAD carries the document's length and no body; the ETag is the document's", async () => {
    const fast = await serve(true, false, feeds, signer);
    const get = await rawHttp(fast.port, `GET ${M}/vpc/aws/versions HTTP/1.1\r\nHost: r.test\r\nConnection: close\r\n\r\n`);
    const head = await rawHttp(fast.port, `HEAD ${M}/vpc/aws/versions HTTP/1.1\r\nHost: r.test\r\nConnection: close\r\n\r\n`);
    const header = (a: RawAnswer, name: string) => a.headers.find(([k]) => k === name)?.[1];
    expect(get.status).toBe(200);
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    expect(header(head, "content-length")).toBe(String(get.body.length));
    expect(header(head, "etag")).toBe(header(get, "etag"));
    expect(header(get, "etag")).toMatch(/^"[A-Za-z0-9_-]{22}"$/);
    expect(header(get, "x-content-type-options")).toBe("nosniff");
    expect(header(get, "referrer-policy")).toBe("no-referrer");
    expect(JSON.parse(new TextDecoder().decode(get.body))).toEqual({ modules: [{ versions: [{ version: "2.0.0-rc.1" }, { version: "1.1.0" }, { version: "1.0.0" }] }] });
  });
});

/**
 * An app on static feeds with a hand-driven clock (`w.clock`, shared by the index's lifecycle and the URL signer, 60 s
 * yank grace, 600 s URL lifetime) behind the listener with its fast path, and a filesystem storage to publish into.
 */
async function clockedWorld(prefix: string, feeds: { modules?: StaticFeed<ModuleObject>; providers?: StaticFeed<ProviderObject> }) {
  const w = { clock: Date.parse("2026-06-01T00:00:00Z") };
  const storage = new FilesystemStorage(await mkdtemp(join(tmpdir(), prefix)));
  const versions = new StaticFeed<VersionObject>();
  const lifecycle = { yankGraceMs: 60_000, now: () => w.clock };
  const index = new RegistryIndex({ modules: feeds.modules ?? new StaticFeed<ModuleObject>(), providers: feeds.providers ?? new StaticFeed<ProviderObject>(), versions }, lifecycle);
  const app = createApp({ index, delivery: new ArtifactDelivery(() => storage, silentLogger), urls: new UrlSigner(new Uint8Array(32).fill(7), 600, () => w.clock), signer, gatekeeper: testGatekeeper(false), log: silentLogger, lifecycle, ready: () => true });
  const handle = withRequestPolicy((r) => app.handle(r), silentLogger, undefined, fastPathOf(app));
  return Object.assign(w, { storage, versions, store: feedStore(versions), handle });
}

describe("answers the fast path remembers per address", () => {
  test("a versions list follows index changes and the end of a yank's grace period, with the same address object", async () => {
    const modules = new StaticFeed<ModuleObject>([moduleObject("vpc", "aws")]);
    const w = await clockedWorld("opendepot-fast-memo-", { modules });
    const { versions, store, storage, handle } = w;
    const list = async () => {
      const r = await handle(new Request(`http://registry.test${M}/vpc/aws/versions`, { headers: { host: "registry.test" } }));
      return r.status === 200 ? ((await r.json()) as { modules: { versions: { version: string }[] }[] }).modules[0]!.versions.map((v) => v.version) : r.status;
    };
    expect(await list()).toEqual([]);
    const old = await publishModule(store, () => storage, { namespace: "team", module: "vpc", version: "1.0.0", files: { "main.tf": "" } });
    expect(await list()).toEqual(["1.0.0"]);
    await publishModule(store, () => storage, { namespace: "team", module: "vpc", version: "1.0.1", files: { "main.tf": "" } });
    expect(await list()).toEqual(["1.0.1", "1.0.0"]);
    // Yanked, with a newer patch listed: still listed during the grace period, gone once it ends (time alone).
    versions.put({ ...old, spec: { ...old.spec, yanked: { reason: "CVE" } }, status: { ...old.status, yankedAt: new Date(w.clock).toISOString() } });
    expect(await list()).toEqual(["1.0.1", "1.0.0"]);
    w.clock += 59_000;
    expect(await list()).toEqual(["1.0.1", "1.0.0"]);
    w.clock += 2_000;
    expect(await list()).toEqual(["1.0.1"]);
    // The module itself going away: a 404 from then on, and back when it returns.
    modules.remove(modules.list()[0]!);
    for (const v of versions.list()) versions.remove(v);
    expect(await list()).toBe(404);
    modules.put(moduleObject("vpc", "aws"));
    expect(await list()).toEqual([]);
  });
});

test("provider metadata remembered per address follows new builds, the URL-expiry window and yanks", async () => {
  const w = await clockedWorld("opendepot-fast-meta-", { providers: new StaticFeed<ProviderObject>([providerObject("widget")]) });
  const { versions, store, storage, handle } = w;
  const metadata = async () => {
    const r = await handle(new Request(`http://registry.test${P}/widget/1.0.0/download/linux/amd64`, { headers: { host: "registry.test" } }));
    return r.status === 200 ? ((await r.json()) as { download_url: string; packages: Record<string, unknown> }) : r.status;
  };
  expect(await metadata()).toBe(404);
  const linux = await publishProvider(store, () => storage, { namespace: "team", provider: "widget", version: "1.0.0", os: "linux", arch: "amd64", binary: "l" });
  const first = (await metadata()) as { download_url: string; packages: Record<string, unknown> };
  expect(Object.keys(first.packages)).toEqual(["linux_amd64"]);
  await publishProvider(store, () => storage, { namespace: "team", provider: "widget", version: "1.0.0", os: "darwin", arch: "arm64", binary: "d" });
  const second = (await metadata()) as typeof first;
  expect(Object.keys(second.packages)).toEqual(["darwin_arm64", "linux_amd64"]);
  expect(second.download_url).toBe(first.download_url);
  w.clock += 120_000; // the next expiry window: freshly signed URLs
  const third = (await metadata()) as typeof first;
  expect(third.download_url).not.toBe(first.download_url);
  versions.put({ ...linux, spec: { ...linux.spec, yanked: { reason: "CVE" } }, status: { ...linux.status, yankedAt: new Date(w.clock).toISOString() } });
  expect(typeof (await metadata())).toBe("object");
  w.clock += 61_000; // grace over: refused by time alone
  expect(await metadata()).toBe(404);
});
