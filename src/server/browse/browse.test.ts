// The browse API through the real app (createApp) over hand-fed caches: v0.9's shapes with its ⚠ bugs fixed,
// bad input → 400 with a reason, visibility for anonymous / OIDC users with and without a GroupBinding, and
// nothing invisible leaking through counts, lists, the graph, search or a 404-vs-403 difference.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { GroupBindingObject } from "../../api/kinds.ts";
import { API_VERSION } from "../../api/meta.ts";
import { moduleVersionName } from "../../api/naming.ts";
import { createLogger } from "../../log.ts";
import { dayOf } from "../../stats/types.ts";
import { FixtureOidcProvider } from "../../../fixtures/oidc-provider.ts";
import { StaticFeed } from "../../../test/support/static-feed.ts";
import { authConfigFromFlags } from "../../roles/auth-flags.ts";
import { startAuth } from "../auth/setup.ts";
import { anonymousBrowse } from "./viewer.ts";
import { finding, modVersion, readmeCm, world, appFor } from "../../../test/support/browse-world.ts";

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
