// The browse API through the real app (createApp) over hand-fed caches: v0.9's shapes with its ⚠ bugs fixed,
// bad input → 400 with a reason, visibility for anonymous / OIDC users with and without a GroupBinding, and
// nothing invisible leaking through counts, lists, the graph, search or a 404-vs-403 difference.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { moduleDocsConfigMapName } from "../../api/module-docs.ts";
import { readmeConfigMapContent } from "../../api/readme-configmap.ts";
import type { DepotObject, GroupBindingObject, ModuleObject, ProviderObject, VersionObject } from "../../api/kinds.ts";
import { API_VERSION, LABELS, type KubeObject } from "../../api/meta.ts";
import { moduleVersionName, providerVersionName } from "../../api/naming.ts";
import { createLogger, silentLogger } from "../../log.ts";
import { StatsSnapshot, dayOf } from "../../stats/types.ts";
import { FixtureOidcProvider } from "../../../fixtures/oidc-provider.ts";
import type { JsonResponse } from "../../../test/support/ports.ts";
import { StaticFeed } from "../../../test/support/static-feed.ts";
import { createApp } from "../app.ts";
import { ArtifactDelivery } from "../artifact-delivery.ts";
import { authConfigFromFlags } from "../auth/config.ts";
import { startAuth } from "../auth/setup.ts";
import { RegistryIndex } from "../registry-index.ts";
import { UrlSigner } from "../url-signer.ts";
import { BrowseCatalog, type ConfigMapObject } from "./catalog.ts";
import { BrowseReadModel } from "./read-model.ts";
import { anonymousBrowse, type BrowseAuth } from "./viewer.ts";

const PUBLIC = { [LABELS.public]: "true" };
const ns = (name: string, pub = false): KubeObject => ({ apiVersion: "v1", kind: "Namespace", metadata: { name, ...(pub ? { labels: PUBLIC } : {}) } });
const mod = (namespace: string, name: string, extra: Partial<ModuleObject["metadata"]> = {}, spec: Partial<ModuleObject["spec"]["moduleConfig"]> = {}): ModuleObject => ({
  apiVersion: API_VERSION,
  kind: "Module",
  metadata: { name, namespace, ...extra },
  spec: { moduleConfig: { provider: "aws", repoOwner: "acme", ...spec }, versions: [] },
});
const prov = (namespace: string, name: string, labels?: Record<string, string>): ProviderObject => ({
  apiVersion: API_VERSION,
  kind: "Provider",
  metadata: { name, namespace, ...(labels ? { labels } : {}) },
  spec: { providerConfig: { namespace: "hashicorp", storageConfig: { s3: { bucket: "b", region: "eu-west-1" } } }, versions: [] },
});
const finding = (id: string, severity: string) => ({ vulnerabilityID: id, pkgName: "p", installedVersion: "1", severity });
function modVersion(namespace: string, module: string, version: string, status: VersionObject["status"] = { synced: true, checksum: "x", syncStatus: "Successfully synced" }): VersionObject {
  return {
    apiVersion: API_VERSION,
    kind: "Version",
    metadata: { name: moduleVersionName(module, version), namespace, labels: { [LABELS.module]: module } },
    spec: { type: "Module", version, fileName: "f.zip", moduleConfigRef: { name: module } },
    status,
  };
}
function provVersion(namespace: string, provider: string, version: string, os: string, arch: string, status: VersionObject["status"] = { synced: true, checksum: "x" }): VersionObject {
  return {
    apiVersion: API_VERSION,
    kind: "Version",
    metadata: { name: providerVersionName(provider, version, os, arch), namespace, labels: { [LABELS.provider]: provider } },
    spec: { type: "Provider", version, operatingSystem: os, architecture: arch, fileName: "f.zip", providerConfigRef: { name: provider } },
    status,
  };
}
const readmeCm = (namespace: string, version: string, text: string): ConfigMapObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name: `${version}-readme`, namespace, labels: { [LABELS.version]: version } },
  data: { "README.md": Buffer.from(text).toString("base64") },
});
const docsCm = (namespace: string, version: string, json: string): ConfigMapObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name: `${version}-docs`, namespace, labels: { [LABELS.version]: version } },
  data: { "docs.json": json },
});
const depot = (namespace: string, name: string, modules: string[], providers: string[], labels?: Record<string, string>): DepotObject => ({
  apiVersion: API_VERSION,
  kind: "Depot",
  metadata: { name, namespace, ...(labels ? { labels } : {}) },
  spec: { global: { storageConfig: { s3: { bucket: "b", region: "r" } } }, pollingIntervalMinutes: 30 },
  status: { modules, providers },
});

// The world: namespace "pub" is public; "team" and "secret" are not.
function world() {
  const modules = new StaticFeed<ModuleObject>([
    mod("pub", "vpc", { labels: { ...PUBLIC, [LABELS.depot]: "mirror" } }),
    mod("pub", "hidden-in-pub"), // not labelled: private although its namespace is public
    mod("team", "net-core"),
    mod("team", "net-edge"),
    mod("secret", "vault-config"),
  ]);
  const providers = new StaticFeed<ProviderObject>([prov("pub", "widget", PUBLIC), prov("secret", "gadget")]);
  const versions = new StaticFeed<VersionObject>([
    modVersion("pub", "vpc", "1.0.0"),
    modVersion("pub", "vpc", "1.10.0", { synced: true, checksum: "x", sourceScan: { scannedAt: "2026-11-01T00:00:00Z", findings: [finding("AVD-1", "HIGH"), finding("AVD-1", "HIGH"), finding("AVD-2", "LOW")] } }),
    modVersion("pub", "vpc", "2.0.0-rc.1", { synced: false, syncStatus: "Failed to fetch: 404" }),
    modVersion("pub", "vpc", "2.0.0", { synced: false, syncStatus: "Syncing" }),
    modVersion("team", "net-core", "0.1.0", { synced: true, checksum: "x", archiveSizeBytes: 1000 }),
    modVersion("secret", "vault-config", "3.0.0", { synced: true, checksum: "x", archiveSizeBytes: 5000, sourceScan: { scannedAt: "2026-11-02T00:00:00Z", findings: [finding("CVE-9", "CRITICAL")] } }),
    provVersion("pub", "widget", "1.0.0", "linux", "amd64", { synced: true, checksum: "x", binaryScan: { scannedAt: "2026-11-03T00:00:00Z", findings: [finding("CVE-1", "MEDIUM")] } }),
    provVersion("pub", "widget", "1.0.0", "darwin", "arm64"),
    provVersion("secret", "gadget", "9.0.0", "linux", "amd64"),
  ]);
  const depots = new StaticFeed<DepotObject>([depot("pub", "mirror", ["vpc", "hidden-in-pub"], ["widget"], PUBLIC), depot("secret", "vault-depot", ["vault-config"], ["gadget"])]);
  const namespaces = new StaticFeed<KubeObject>([ns("pub", true), ns("team"), ns("secret")]);
  const configMaps = new StaticFeed<ConfigMapObject>([
    readmeCm("pub", moduleVersionName("vpc", "1.10.0"), "# VPC 1.10"),
    readmeCm("pub", moduleVersionName("vpc", "1.0.0"), "# VPC 1.0"),
    docsCm("pub", moduleVersionName("vpc", "1.10.0"), JSON.stringify({ inputs: [{ name: "cidr", required: true }] })),
    docsCm("pub", moduleVersionName("vpc", "1.0.0"), "{not json"),
  ]);
  const snapshot = new StatsSnapshot();
  const today = dayOf(Date.now());
  snapshot.add("pub", "module", "vpc", "1.10.0", 7, Date.parse("2026-11-20T10:00:00Z"), today);
  snapshot.add("secret", "module", "vault-config", "3.0.0", 1000, Date.parse("2026-11-21T10:00:00Z"), today);
  snapshot.add("pub", "provider", "widget", "1.0.0", 3, Date.parse("2026-11-19T10:00:00Z"), today);
  return { modules, providers, versions, depots, namespaces, configMaps, snapshot };
}

function appFor(w: ReturnType<typeof world>, auth: BrowseAuth) {
  const catalog = new BrowseCatalog(w);
  const model = new BrowseReadModel(catalog, () => w.snapshot);
  const app = createApp({
    index: new RegistryIndex(w),
    delivery: new ArtifactDelivery(() => undefined as never, silentLogger),
    urls: new UrlSigner(new Uint8Array(32), 600),
    signer: { keyId: "0", publicKeyArmored: "", sign: async () => new Uint8Array() },
    gatekeeper: { authorize: async () => undefined },
    log: silentLogger,
    ready: () => true,
    browse: { catalog, model, auth },
  });
  return (path: string, token?: string) => app.handle(new Request(`http://localhost/opendepot/ui/v1${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {})) as Promise<JsonResponse>;
}

describe("anonymous mode: everything visible, v0.9's shapes", () => {
  const w = world();
  const get = appFor(w, anonymousBrowse);

  test("resources: cards with v0.9 field names, computed synced, scan counts, downloads; filters and paging", async () => {
    const all = await (await get("/resources?page_size=100")).json();
    expect(all.totalCount).toBe(7);
    const vpc = all.items.find((i: { name: string }) => i.name === "vpc");
    expect(vpc).toEqual({
      kind: "module",
      namespace: "pub",
      name: "vpc",
      latestVersion: "2.0.0",
      synced: false,
      hasUnsyncedVersions: true,
      provider: "aws",
      repoUrl: "https://github.com/acme/vpc",
      scanCounts: { critical: 0, high: 1, medium: 0, low: 1, unknown: 0 },
      lastScanned: "2026-11-01T00:00:00Z",
      public: true,
      totalDownloads: 7,
      lastDownloadedAt: "2026-11-20T10:00:00.000Z",
    });
    const core = all.items.find((i: { name: string }) => i.name === "net-core");
    expect(core.synced).toBe(true);
    expect(core.public).toBe(false);
    expect(core.hasUnsyncedVersions).toBeUndefined();
    const widget = all.items.find((i: { name: string }) => i.name === "widget");
    expect(widget.platforms).toEqual([{ os: "darwin", arch: "arm64" }, { os: "linux", arch: "amd64" }]);
    expect(widget.scanCounts).toEqual({ critical: 0, high: 0, medium: 1, low: 0, unknown: 0 });

    const q = await (await get("/resources?q=NET&kind=module&sort_by=name&sort_dir=desc&page_size=1&page=2")).json();
    expect(q).toEqual({ items: [expect.objectContaining({ name: "net-core" })], totalCount: 2, page: 2, pageSize: 1 });
    expect((await (await get("/resources?namespace=team&namespace=secret")).json()).totalCount).toBe(4);
    expect((await (await get("/resources?synced=true")).json()).items.map((i: { name: string }) => i.name)).toEqual(["gadget", "net-core", "vault-config", "widget"]);
    expect((await (await get("/resources?severity=critical")).json()).items.map((i: { name: string }) => i.name)).toEqual(["vault-config"]);
    expect((await (await get("/resources?severity=medium")).json()).items.map((i: { name: string }) => i.name)).toEqual(["vault-config", "vpc", "widget"]);
    expect((await (await get("/resources?sort_by=severity&sort_dir=desc&page_size=3")).json()).items.map((i: { name: string }) => i.name)).toEqual(["vault-config", "vpc", "widget"]);
    expect((await (await get("/resources?kind=module&sort_by=latest_version")).json()).items.map((i: { latestVersion: string }) => i.latestVersion)).toEqual([undefined, undefined, "0.1.0", "2.0.0", "3.0.0"]); // no versions yet sort first
    expect((await (await get("/resources?public_only=true")).json()).items.map((i: { name: string }) => i.name)).toEqual(["vpc", "widget"]);
    const darwin = (await (await get("/resources?kind=provider&os=darwin")).json()).items.find((i: { name: string }) => i.name === "widget");
    expect(darwin.platforms).toEqual([{ os: "darwin", arch: "arm64" }]);
    expect(darwin.scanCounts).toBeUndefined();
  });

  test("detail: versions in semver order (prerelease below its release), README and documentation of the latest synced version", async () => {
    const d = await (await get("/resources/pub/module/vpc")).json();
    expect(d.versions.map((v: { version: string }) => v.version)).toEqual(["2.0.0", "2.0.0-rc.1", "1.10.0", "1.0.0"]);
    expect(d.versions[2]).toMatchObject({ name: "vpc-1-10-0", synced: true, fileName: "f.zip", checksum: "x", downloadCount: 7, scanCounts: { high: 1, low: 1 } });
    expect(d.readmeContent).toBe("# VPC 1.10");
    expect(d.documentationVersion).toBe("1.10.0");
    expect(d.documentation).toEqual({ inputs: [{ name: "cidr", required: true }] });
    expect(d.storageConfig).toEqual({ backend: "fileSystem" });
    expect(d.depotRef).toEqual({ namespace: "pub", name: "mirror" });
    expect(d.repoOwner).toBe("acme");
    expect(d.downloadsSeries).toHaveLength(30);
    expect(d.downloadsSeries.at(-1)).toEqual({ date: dayOf(Date.now()), count: 7 });
    const old = await (await get("/resources/pub/module/vpc?version=v1.0.0")).json();
    expect(old.readmeContent).toBe("# VPC 1.0");
    expect(old.documentation).toBeNull(); // unparseable docs.json
    expect((await get("/resources/pub/module/vpc?version=9.9.9")).status).toBe(404);
    const w2 = await (await get("/resources/pub/provider/widget")).json();
    expect(w2.binaryScanFindings).toEqual({ "linux/amd64": [finding("CVE-1", "MEDIUM")] });
    expect(w2.storageConfig).toEqual({ backend: "s3", bucket: "b", region: "eu-west-1" });
    expect(w2.documentation).toBeUndefined();
  });

  test("versions endpoint: filters, paging, available platforms", async () => {
    const v = await (await get("/resources/pub/module/vpc/versions?synced=false")).json();
    expect(v).toEqual({ items: [expect.objectContaining({ version: "2.0.0-rc.1", syncStatus: "Failed to fetch: 404" })], totalCount: 1, page: 1, pageSize: 20 });
    expect((await (await get("/resources/pub/module/vpc/versions?synced=progressing")).json()).items.map((i: { version: string }) => i.version)).toEqual(["2.0.0"]);
    expect((await (await get("/resources/pub/module/vpc/versions?q=1.&page_size=1")).json()).totalCount).toBe(2);
    const p = await (await get("/resources/pub/provider/widget/versions?os=LINUX")).json();
    expect(p.items.map((i: { os: string }) => i.os)).toEqual(["linux"]);
    expect(p.availableOS).toEqual(["darwin", "linux"]);
    expect(p.availableArch).toEqual(["amd64", "arm64"]);
  });

  test("scan-findings: deduped, selected version always reported", async () => {
    const m = await (await get("/resources/pub/module/vpc/scan-findings")).json();
    expect(m).toEqual({ sourceScanFindings: [finding("AVD-1", "HIGH"), finding("AVD-2", "LOW")], selectedVersion: "1.10.0", scannedVersions: ["1.10.0"] });
    const p = await (await get("/resources/pub/provider/widget/scan-findings?binaryVersion=v1.0.0")).json();
    expect(p).toEqual({ binaryScanFindings: { "linux/amd64": [finding("CVE-1", "MEDIUM")] }, binaryVersions: ["1.0.0"] });
  });

  test("depots honour ?namespace=; the graph has real edges, depotID, scanCounts and computed synced", async () => {
    expect((await (await get("/depots")).json()).items.map((d: { name: string }) => d.name)).toEqual(["mirror", "vault-depot"]);
    const one = await (await get("/depots?namespace=pub")).json();
    expect(one).toEqual({ items: [{ namespace: "pub", name: "mirror", modules: ["vpc", "hidden-in-pub"], providers: ["widget"], pollingIntervalMinutes: 30, storageBackend: "s3" }] });
    const g = await (await get("/depots/graph?namespace=pub")).json();
    expect(g.edges).toEqual([
      { id: "edge/depot/pub/mirror/module/pub/vpc", source: "depot/pub/mirror", target: "module/pub/vpc" },
      { id: "edge/depot/pub/mirror/module/pub/hidden-in-pub", source: "depot/pub/mirror", target: "module/pub/hidden-in-pub" },
      { id: "edge/depot/pub/mirror/provider/pub/widget", source: "depot/pub/mirror", target: "provider/pub/widget" },
    ]);
    expect(g.modules.find((m: { name: string }) => m.name === "vpc")).toMatchObject({ id: "module/pub/vpc", depotID: "depot/pub/mirror", scanCounts: { high: 1, low: 1 }, synced: false });
    expect(g.providers).toEqual([{ id: "provider/pub/widget", namespace: "pub", name: "widget", providerNamespace: "hashicorp", synced: true }]);
    expect(g.summary).toEqual({ totalDepots: 1, totalModules: 2, totalProviders: 1 });
  });

  test("stats: totals, health, posture, storage, most downloaded, 30-day series", async () => {
    const s = await (await get("/stats")).json();
    expect(s).toMatchObject({
      totalModules: 5,
      totalProviders: 2,
      totalDepots: 2,
      totalVersions: 9,
      totalStorageBytes: 6000,
      totalDownloads: 1010,
      syncHealth: { syncedVersions: 7, unsyncedVersions: 1, failedVersions: 1 },
      securityPosture: { critical: 1, high: 1, medium: 1, low: 1, unknown: 0, totalAffectedResources: 3 },
      storageDistribution: [{ backend: "fileSystem", count: 5 }, { backend: "s3", count: 2 }],
    });
    expect(s.mostDownloaded[0]).toEqual({ namespace: "secret", kind: "module", name: "vault-config", version: "3.0.0", downloadCount: 1000, lastDownloadedAt: "2026-11-21T10:00:00.000Z" });
    expect(s.downloadsSeries).toHaveLength(30);
    expect(s.downloadsSeries.at(-1).count).toBe(1010);
    expect((await (await get("/stats?namespace=pub")).json()).totalDownloads).toBe(10);
  });

  test("namespaces: public ones, plus those holding visible resources", async () => {
    expect(await (await get("/namespaces")).json()).toEqual({ items: [{ name: "pub", public: true }, { name: "secret", public: false }, { name: "team", public: false }] });
    expect(await (await get("/namespaces?public_only=true")).json()).toEqual({ items: [{ name: "pub", public: true }] });
  });

  test("follows changes: a new Version and a README edit show at once", async () => {
    w.versions.put(modVersion("team", "net-edge", "1.0.0"));
    w.configMaps.put(readmeCm("team", moduleVersionName("net-edge", "1.0.0"), "hello"));
    const d = await (await get("/resources/team/module/net-edge")).json();
    expect(d.synced).toBe(true);
    expect(d.readmeContent).toBe("hello");
    expect(d.documentation).toBeNull();
  });

  test("bad input → 400 with a reason, never a 5xx", async () => {
    const cases: [string, RegExp][] = [
      ["/resources/pub/widget/vpc", /kind must be 'module' or 'provider'/],
      ["/resources?page=0", /page must be between 1/],
      ["/resources?page_size=10000", /page_size must be between 1 and 100/],
      ["/resources?page=abc", /whole number/],
      ["/resources?sort_by=downloads", /sort_by must be one of/],
      ["/resources?sort_dir=up", /sort_dir must be one of/],
      [`/resources?q=${"a".repeat(300)}`, /longer than 256/],
      ["/resources?kind=module&kind=provider", /given 2 times/],
      ["/resources?kind=chart", /kind must be one of/],
      ["/resources?synced=yes", /synced must be one of/],
      ["/resources?severity=severe", /severity must be one of/],
      ["/resources?namespace=Not_A_Namespace", /invalid namespace/],
      ["/resources?os=linux%2F..", /invalid os/],
      ["/resources/pub/module/vpc/versions?synced=maybe", /synced must be one of/],
      ["/resources/pub/module/vpc?version=1.0.0%3Bdrop", /invalid version/],
      ["/resources/pub/provider/widget?version=1.0.0", /providers have none/],
      ["/depots?namespace=a&namespace=b", /given 2 times/],
      ["/stats?days=91", /days must be between 1 and 90/],
      ["/resources/pub/module/..%2Fetc", /invalid module name/],
    ];
    for (const [path, reason] of cases) {
      const r = await get(path);
      expect({ path, status: r.status }).toEqual({ path, status: 400 });
      expect((await r.json()).errors[0]).toMatch(reason);
    }
  });
});

describe("OIDC mode: public + what the caller's GroupBinding grants", () => {
  let idp: FixtureOidcProvider;
  let get: ReturnType<typeof appFor>;
  const bindings = new StaticFeed<GroupBindingObject>([
    { apiVersion: API_VERSION, kind: "GroupBinding", metadata: { name: "net-team", namespace: "opendepot-system" }, spec: { expression: '"net" in groups', moduleResources: ["net-*"], providerResources: [] } },
  ]);
  beforeAll(async () => {
    idp = await FixtureOidcProvider.start({ user: { sub: "alice", groups: [] }, clients: [{ id: "ui", redirectUris: "loopback" }] });
    const flags = { "oidc-issuer-url": idp.issuer, "oidc-client-id": "ui", "oidc-clock-skew": "0s", namespace: "opendepot-system" };
    const auth = await startAuth(authConfigFromFlags(flags), { log: createLogger({ write: () => {} }), bindings });
    get = appFor(world(), auth.browse);
  });
  afterAll(() => idp.stop());

  const names = async (path: string, token?: string) => ((await (await get(path, token)).json()).items as { name: string }[]).map((i) => i.name);

  test("no token, a bad token, an expired token → 401 with WWW-Authenticate", async () => {
    const none = await get("/resources");
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toBe('Bearer realm="opendepot"');
    const bad = await get("/stats", "not-a-jwt");
    expect(bad.status).toBe(401);
    expect(bad.headers.get("www-authenticate")).toContain('error="invalid_token"');
    const expired = await get("/namespaces", await idp.mint({ sub: "alice", aud: "ui", groups: ["net"] }, { ttlSeconds: -60 }));
    expect(expired.status).toBe(401);
    expect(expired.headers.get("www-authenticate")).toContain("expired");
  });

  test("a user with a binding sees public + granted; without groups or binding only public; invisible == missing", async () => {
    const net = await idp.mint({ sub: "alice", aud: "ui", groups: ["net"] });
    const nobody = await idp.mint({ sub: "bob", aud: "ui", groups: ["sales"] });
    const noGroups = await idp.mint({ sub: "carol", aud: "ui" });
    expect(await names("/resources?page_size=100", net)).toEqual(["net-core", "net-edge", "vpc", "widget"]);
    expect(await names("/resources?page_size=100", nobody)).toEqual(["vpc", "widget"]);
    expect(await names("/resources?page_size=100", noGroups)).toEqual(["vpc", "widget"]);
    expect(await names("/resources?q=vault", nobody)).toEqual([]);

    for (const path of ["/resources/secret/module/vault-config", "/resources/secret/module/vault-config/versions", "/resources/secret/module/vault-config/scan-findings", "/resources/pub/module/hidden-in-pub", "/resources/secret/module/does-not-exist"]) {
      const r = await get(path, nobody);
      expect({ path, status: r.status }).toEqual({ path, status: 404 });
      expect(await r.json()).toEqual({ errors: ["not found"] });
    }
    expect((await get("/resources/team/module/net-core", net)).status).toBe(200);
    expect((await get("/resources/team/module/net-core", nobody)).status).toBe(404);
  });

  test("nothing invisible leaks through stats, depots, the graph or namespaces", async () => {
    const nobody = await idp.mint({ sub: "bob", aud: "ui", groups: ["sales"] });
    const s = await (await get("/stats", nobody)).json();
    expect(s).toMatchObject({ totalModules: 1, totalProviders: 1, totalDepots: 1, totalVersions: 6, totalDownloads: 10, totalStorageBytes: 0 });
    expect(s.securityPosture.critical).toBe(0);
    expect(s.mostDownloaded.map((m: { name: string }) => m.name)).toEqual(["vpc", "widget"]);
    expect(s.downloadsSeries.at(-1).count).toBe(10);
    const depots = await (await get("/depots", nobody)).json();
    expect(depots.items).toEqual([expect.objectContaining({ name: "mirror", modules: ["vpc"], providers: ["widget"] })]);
    const g = await (await get("/depots/graph", nobody)).json();
    expect(JSON.stringify(g)).not.toContain("hidden-in-pub");
    expect(JSON.stringify(g)).not.toContain("vault");
    expect(await (await get("/namespaces", nobody)).json()).toEqual({ items: [{ name: "pub", public: true }] });
    // A user whose binding matches in its namespace (global binding) sees the team's resources, not the secret Depot's content.
    const net = await idp.mint({ sub: "alice", aud: "ui", groups: ["net"] });
    const nd = await (await get("/depots", net)).json();
    expect(nd.items.find((d: { name: string }) => d.name === "vault-depot")).toEqual(expect.objectContaining({ modules: [], providers: [] }));
    expect((await (await get("/stats", net)).json()).totalModules).toBe(3);
  });

  test("a GroupBinding change takes effect on the next request (memoised answers are dropped)", async () => {
    const sales = await idp.mint({ sub: "bob", aud: "ui", groups: ["sales"] });
    expect((await (await get("/stats", sales)).json()).totalModules).toBe(1);
    const grant: GroupBindingObject = { apiVersion: API_VERSION, kind: "GroupBinding", metadata: { name: "sales", namespace: "opendepot-system" }, spec: { expression: '"sales" in groups', moduleResources: ["vault-*"] } };
    bindings.put(grant);
    expect(await names("/resources", sales)).toEqual(["vault-config", "vpc", "widget"]);
    expect((await (await get("/stats", sales)).json()).totalModules).toBe(2);
    bindings.remove(grant);
    expect((await (await get("/stats", sales)).json()).totalModules).toBe(1);
    expect((await get("/resources/secret/module/vault-config", sales)).status).toBe(404);
  });
});

describe("version lifecycle in the detail (issue #17)", () => {
  const w = world();
  const get = appFor(w, anonymousBrowse);

  test("lifecycle: a deprecated version shows its message; a yanked one its reason and whether it still downloads", async () => {
    const dep = modVersion("team", "net-life", "1.0.0");
    dep.spec.deprecated = { message: "use 2.x", link: "https://example.com/upgrade" };
    const yanked = modVersion("team", "net-life", "1.1.0", { synced: true, checksum: "x", yankedAt: new Date(Date.now() - 3_600_000).toISOString() });
    yanked.spec.yanked = { reason: "broken outputs" };
    const plain = modVersion("team", "net-life", "2.0.0");
    w.modules.put(mod("team", "net-life"));
    for (const v of [dep, yanked, plain]) w.versions.put(v);
    const d = await (await get("/resources/team/module/net-life")).json();
    const byVersion = Object.fromEntries(d.versions.map((v: { version: string }) => [v.version, v]));
    expect(byVersion["1.0.0"].deprecated).toEqual({ message: "use 2.x", link: "https://example.com/upgrade" });
    expect(byVersion["1.0.0"].yanked).toBeUndefined();
    expect(byVersion["1.1.0"].yanked).toMatchObject({ reason: "broken outputs", downloadable: true });
    expect(Date.parse(byVersion["1.1.0"].yanked.graceEndsAt)).toBeGreaterThan(Date.now());
    expect("deprecated" in byVersion["2.0.0"] || "yanked" in byVersion["2.0.0"]).toBe(false);
  });
});

describe("README and docs ConfigMaps as the controllers write them (issue #16 layouts)", () => {
  const w = world();
  const get = appFor(w, anonymousBrowse);

  test("a README too large for base64 is read from binaryData (gzip); a long Version name finds its hash-cut docs ConfigMap", async () => {
    const big = `# Big\n${"lorem ipsum dolor sit amet ".repeat(40_000)}`; // ~1 MiB: stored gzipped
    const stored = readmeConfigMapContent(big);
    expect(stored.binaryData).toBeDefined();
    w.modules.put(mod("team", "net-big"));
    w.versions.put(modVersion("team", "net-big", "1.0.0"));
    w.configMaps.put({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: `${moduleVersionName("net-big", "1.0.0")}-readme`, namespace: "team", labels: { [LABELS.namespace]: "team" } }, ...stored });
    expect((await (await get("/resources/team/module/net-big")).json()).readmeContent).toBe(big);

    const longName = `m${"o".repeat(249)}`;
    w.modules.put(mod("team", longName));
    const v = modVersion("team", longName, "1.0.0");
    w.versions.put(v);
    const docsName = moduleDocsConfigMapName(v.metadata.name);
    expect(docsName.length).toBeLessThanOrEqual(253);
    w.configMaps.put({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: docsName, namespace: "team", labels: { [LABELS.namespace]: "team" } }, data: { "docs.json": JSON.stringify({ inputs: [{ name: "x" }] }) } });
    expect((await (await get(`/resources/team/module/${longName}`)).json()).documentation).toEqual({ inputs: [{ name: "x" }] });
  });
});
