// The Depot controller alone (no Module/Provider/Version controllers): what it writes into Modules, Providers and
// its own status, against the fake GitHub and OpenTofu registry, with a 300 ms "minute".
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { GitHubFake } from "../../fixtures/github-fake.ts";
import { OpenTofuRegistryFake } from "../../fixtures/opentofu-registry-fake.ts";
import { waitFor } from "../../test/support/ports.ts";
import { Depot, Module, Provider, type DepotObject, type ModuleObject, type ProviderObject } from "../api/kinds.ts";
import { API_VERSION, DEPOT_VERSIONS_ANNOTATION, GITHUB_APP_SECRET, LABELS, type KubeObject } from "../api/meta.ts";
import type { DepotEntryStatus, DepotSpec } from "../api/types.ts";
import { silentLogger } from "../log.ts";
import { EmbeddedStore } from "../store/embedded.ts";
import { DEPOT_CONTROLLER, DepotController } from "./depot-controller.ts";
import { ControllerManager } from "./manager.ts";
import { Upstreams } from "./upstreams.ts";

const keys = new URL("../../fixtures/keys/", import.meta.url);
const b64 = (s: string) => Buffer.from(s).toString("base64");
const MINUTE = 300;
const NS = "default";

const github = new GitHubFake({ appPublicKeyPem: await Bun.file(new URL("github-app.public.pem", keys)).text(), appId: "12345", installationId: "678" });
const registry = new OpenTofuRegistryFake();
let store: EmbeddedStore;
let manager: ControllerManager;

beforeAll(async () => {
  await Promise.all([github.start(), registry.start()]);
});
afterAll(async () => {
  await Promise.all([github.stop(), registry.stop()]);
});

let repoSeq = 0;
/** A fresh repository per test, so tests never see each other's releases. */
function repo(releases: string[], extra: { tags?: string[]; private?: boolean } = {}): string {
  const name = `mod-${++repoSeq}`;
  github.addRepo("acme", name, { releases, ...extra });
  return name;
}
function provider(versions: string[]): string {
  const name = `prov${++repoSeq}`;
  registry.addProvider("hashicorp", name, { versions });
  return name;
}

beforeEach(async () => {
  github.clearFaults();
  registry.clearFaults();
  store = EmbeddedStore.open(":memory:");
  manager = new ControllerManager(store, { log: silentLogger, resyncMs: 0, backoff: { baseMs: 50, maxMs: 1000 } });
  const upstreams = new Upstreams(store, { githubApiUrl: github.url, opentofuRegistryUrl: registry.url });
  manager.add(new DepotController(store, manager, { upstreams, minuteMs: MINUTE, backoffBaseMs: 100 }));
  await manager.start();
});
afterEach(async () => {
  await manager.stop();
  await store.close();
});

const moduleEntry = (name: string, versionConstraints: string, extra: Record<string, unknown> = {}) => ({ name, provider: "aws", repoOwner: "acme", versionConstraints, ...extra });
const providerEntry = (name: string, versionConstraints: string) => ({ name, operatingSystems: ["linux"], architectures: ["amd64"], versionConstraints });

async function createDepot(spec: DepotSpec, name = "mirror"): Promise<DepotObject> {
  return store.create<DepotObject>({ apiVersion: API_VERSION, kind: "Depot", metadata: { name, namespace: NS }, spec: { global: { storageConfig: { fileSystem: {} } }, ...spec } });
}
async function editDepot(name: string, edit: (spec: DepotSpec) => void) {
  const d = (await store.get<DepotObject>(Depot, NS, name))!;
  edit(d.spec);
  await store.update(d);
}
const getModule = (name: string) => store.get<ModuleObject>(Module, NS, name);
type Listed = { spec: { versions: { version?: string }[]; depotVersions?: { version?: string }[] } } | undefined;
/** What the Module serves: the union of the person's and the Depot's lists (docs/ownership.md). */
const versionsOf = (o: Listed) => [...new Set([...(o?.spec.versions ?? []), ...(o?.spec.depotVersions ?? [])].map((v) => v.version!.replace(/^v/, "")))].sort();
const declaredOf = (o: Listed) => (o?.spec.versions ?? []).map((v) => v.version);
const depotListOf = (o: Listed) => (o?.spec.depotVersions ?? []).map((v) => v.version);
const entryOf = async (kind: string, name: string, depot = "mirror") => (await store.get<DepotObject>(Depot, NS, depot))?.status?.entries?.find((e) => e.kind === kind && e.name === name);
const untilEntry = (kind: string, name: string, ok: (e: DepotEntryStatus) => boolean, what: string, depot = "mirror") =>
  waitFor(async () => {
    const e = await entryOf(kind, name, depot);
    return e && ok(e) ? e : undefined;
  }, 10_000, what);
const untilModule = (name: string, ok: (m: ModuleObject) => boolean, what: string) =>
  waitFor(async () => {
    const m = await getModule(name);
    return m && ok(m) ? m : undefined;
  }, 10_000, what);

describe("DepotController", () => {
  test("creates Modules and Providers with merged config, a depot label (no ownerReference) and status", async () => {
    const vpc = repo(["v1.2.0", "2.0.0", "v1.3.0", "v0.9.0", "v2.1.0-rc.1", "nightly"]);
    const s3 = repo(["v1.0.0", "v2.1.0", "v2.2.0", "v3.0.0"]);
    const null_ = provider(["2.0.0", "2.1.0", "2.1.2", "3.0.0"]);
    await createDepot({
      global: { storageConfig: { fileSystem: {} }, moduleConfig: { fileFormat: "zip", immutable: true } },
      moduleConfigs: [moduleEntry(vpc, ">= 1.0.0, != 1.3.0"), moduleEntry(s3, "~> 2.1", { storageConfig: { fileSystem: { directoryPath: "/elsewhere" } } })],
      providerConfigs: [providerEntry(null_, "~> 2.1")],
    });
    const m = await untilModule(vpc, () => true, "vpc module");
    expect(versionsOf(m)).toEqual(["1.2.0", "2.0.0"]);
    expect(m.metadata.labels?.[LABELS.depot]).toBe("mirror");
    expect(m.metadata.ownerReferences ?? []).toEqual([]);
    expect(declaredOf(m)).toEqual([]); // the Depot writes only its own list
    expect(depotListOf(m)).toEqual(["2.0.0", "1.2.0"]);
    expect(m.metadata.annotations?.[DEPOT_VERSIONS_ANNOTATION]).toBeUndefined();
    expect(m.spec.moduleConfig).toEqual({ name: vpc, provider: "aws", repoOwner: "acme", versionConstraints: ">= 1.0.0, != 1.3.0", storageConfig: { fileSystem: {} }, fileFormat: "zip", immutable: true, repoUrl: `https://github.com/acme/${vpc}` });
    const s3m = await untilModule(s3, () => true, "s3 module");
    expect(versionsOf(s3m)).toEqual(["2.1.0", "2.2.0"]);
    expect(s3m.spec.moduleConfig.storageConfig).toEqual({ fileSystem: { directoryPath: "/elsewhere" } });
    const p = (await waitFor(() => store.get<ProviderObject>(Provider, NS, null_), 10_000, "provider"))!;
    expect(versionsOf(p)).toEqual(["2.1.0", "2.1.2"]);
    expect(p.spec.providerConfig).toMatchObject({ name: null_, namespace: "hashicorp", operatingSystems: ["linux"], architectures: ["amd64"], storageConfig: { fileSystem: {} } });

    const depot = await waitFor(async () => {
      const d = await store.get<DepotObject>(Depot, NS, "mirror");
      return d?.status?.entries?.length === 3 ? d : undefined;
    }, 10_000, "depot status");
    expect(depot.status?.modules).toEqual([vpc, s3]);
    expect(depot.status?.providers).toEqual([null_]);
    expect(depot.status?.conditions?.find((c) => c.type === "Ready")).toMatchObject({ status: "True", reason: "Discovered" });
    expect(depot.status?.entries?.find((e) => e.name === vpc)).toMatchObject({ kind: "Module", ready: true, versionsFound: 5, versionsMatched: 2 });
    expect(depot.status?.entries?.find((e) => e.name === null_)).toMatchObject({ kind: "Provider", ready: true, versionsFound: 4, versionsMatched: 2 });
    // No polling interval: reconciles after the first poll make no upstream requests.
    github.resetStats();
    manager.enqueue(DEPOT_CONTROLLER, { namespace: NS, name: "mirror" });
    await Bun.sleep(200);
    expect(github.stats.apiRequests).toBe(0);
  }, 20_000);

  test("pages through every release, opts into plain tags per entry, and skips drafts", async () => {
    const releases = Array.from({ length: 250 }, (_, i) => `v1.${i}.0`);
    const big = repo(releases);
    github.addRelease("acme", big, { tag: "v9.0.0", draft: true });
    const tagged = repo(["v1.0.0"], { tags: ["v1.1.0", "v1.2.0", "not-a-version"] });
    github.addRelease("acme", tagged, { tag: "v1.5.0", draft: true });
    await createDepot({ moduleConfigs: [moduleEntry(big, ">= 1.100.0"), moduleEntry(tagged, ">= 1.0.0", { discoverTags: true })] });
    const m = await untilModule(big, () => true, "big module");
    expect(m.spec.depotVersions).toHaveLength(150); // v1.100.0 … v1.249.0 over three pages; not the draft v9.0.0
    const t = await untilModule(tagged, () => true, "tagged module");
    expect(versionsOf(t)).toEqual(["1.0.0", "1.1.0", "1.2.0", "1.5.0"]); // the draft's tag exists as a plain tag
    expect(github.log.filter((l) => l.path.endsWith("/releases")).length).toBeGreaterThanOrEqual(4);
  }, 20_000);

  test("polls on the interval: a new release appears, hand-added versions survive, steady polls write nothing", async () => {
    const name = repo(["v1.0.0", "v1.1.0"]);
    await createDepot({ moduleConfigs: [moduleEntry(name, ">= 1.0.0")], pollingIntervalMinutes: 1 });
    const first = await untilModule(name, (m) => depotListOf(m).length === 2, "first poll");
    // Steady state: polls happen but nothing is rewritten.
    const before = (await entryOf("Module", name))!.lastPollTime;
    await untilEntry("Module", name, (e) => e.lastPollTime !== before, "another poll");
    expect((await getModule(name))!.metadata.resourceVersion).toBe(first.metadata.resourceVersion);

    await store.patch(Module, NS, name, { type: "json", patch: [{ op: "add", path: "/spec/versions/-", value: { version: "0.5.0" } }] });
    github.addRelease("acme", name, "v1.2.0");
    const m = await untilModule(name, (x) => versionsOf(x).includes("1.2.0"), "new release picked up");
    expect(versionsOf(m)).toEqual(["0.5.0", "1.0.0", "1.1.0", "1.2.0"]);
    expect(declaredOf(m)).toEqual(["0.5.0"]);
    expect(depotListOf(m).sort()).toEqual(["1.0.0", "1.1.0", "1.2.0"]);

    // Narrowing the constraint removes only what the Depot added.
    await editDepot("mirror", (s) => (s.moduleConfigs![0]!.versionConstraints = ">= 1.1.0"));
    const narrowed = await untilModule(name, (x) => !versionsOf(x).includes("1.0.0"), "constraint narrowed");
    expect(versionsOf(narrowed)).toEqual(["0.5.0", "1.1.0", "1.2.0"]);
  }, 20_000);

  test("an outage or an empty answer leaves versions untouched and is reported; recovery clears it", async () => {
    const name = repo(["v1.0.0"]);
    const prov = provider(["1.0.0"]);
    await createDepot({ moduleConfigs: [moduleEntry(name, ">= 1.0.0")], providerConfigs: [providerEntry(prov, ">= 1.0.0")], pollingIntervalMinutes: 1 });
    await untilModule(name, () => true, "module");
    github.failNext(503, 1_000_000, new RegExp(`/${name}/`));
    registry.failNext(500, 1_000_000, new RegExp(`/${prov}/`));
    const e = await untilEntry("Module", name, (x) => !x.ready, "module entry failure");
    expect(e).toMatchObject({ reason: "UpstreamUnavailable", versionsFound: 1, versionsMatched: 1 });
    expect(e.error).toContain("503");
    await untilEntry("Provider", prov, (x) => !x.ready, "provider entry failure");
    const d = (await store.get<DepotObject>(Depot, NS, "mirror"))!;
    expect(d.status?.conditions?.find((c) => c.type === "Ready")).toMatchObject({ status: "False", reason: "UpstreamUnavailable" });
    expect(versionsOf(await getModule(name))).toEqual(["1.0.0"]);
    expect(versionsOf(await store.get<ProviderObject>(Provider, NS, prov))).toEqual(["1.0.0"]);
    github.clearFaults();
    registry.clearFaults();
    await untilEntry("Module", name, (x) => x.ready, "module recovered");
    await untilEntry("Provider", prov, (x) => x.ready, "provider recovered");

    // An upstream that lists nothing at all removes nothing, even versions the Depot added that no longer match.
    const empty = repo([]);
    // Unlabelled: a Module labelled for the Depot but not yet among its entries is (rightly) released by any poll
    // that runs before editDepot below; adoption migrates the legacy annotation the same way.
    await store.create<ModuleObject>({
      apiVersion: API_VERSION,
      kind: "Module",
      metadata: { name: empty, namespace: NS, annotations: { [DEPOT_VERSIONS_ANNOTATION]: "1.0.0" } },
      spec: { moduleConfig: { repoOwner: "acme" }, versions: [{ version: "1.0.0" }] },
    });
    await editDepot("mirror", (s) => s.moduleConfigs!.push(moduleEntry(empty, ">= 5.0.0")));
    const e2 = await untilEntry("Module", empty, () => true, "empty entry");
    expect(e2).toMatchObject({ ready: true, reason: "NoUpstreamVersions", versionsFound: 0 });
    // It was written before spec.depotVersions: the annotated version moved to the Depot's list in one write.
    const migrated = await untilModule(empty, (m) => m.metadata.annotations?.[DEPOT_VERSIONS_ANNOTATION] === undefined, "legacy migration");
    expect(declaredOf(migrated)).toEqual([]);
    expect(depotListOf(migrated)).toEqual(["1.0.0"]);
  }, 20_000);

  test("a rate limit defers the entry (and the other GitHub entries) until the reset, then resumes", async () => {
    const a = repo(["v1.0.0"]);
    const b = repo(["v1.0.0"]);
    await createDepot({ moduleConfigs: [moduleEntry(a, ">= 1.0.0"), moduleEntry(b, ">= 1.0.0")], pollingIntervalMinutes: 1 });
    await untilModule(b, () => true, "modules");
    github.setRateLimit({ remaining: 0, resetInSeconds: 2 });
    github.addRelease("acme", a, "v1.1.0");
    const limited = await untilEntry("Module", a, (x) => x.reason === "RateLimited", "rate limited");
    expect(Date.parse(limited.nextPollTime!)).toBeGreaterThan(Date.now() + 500);
    await untilEntry("Module", b, (x) => x.reason === "RateLimited", "other entry deferred");
    expect(versionsOf(await getModule(a))).toEqual(["1.0.0"]);
    // The fake resets its window after 2 s; the next poll picks the new release up.
    await untilModule(a, (m) => versionsOf(m).includes("1.1.0"), "after the reset");
    await untilEntry("Module", a, (x) => x.ready, "ready again");
    github.clearFaults();
  }, 20_000);

  test("an invalid constraint fails only its entry; a changed Depot reconciles at once", async () => {
    const good = repo(["v1.0.0"]);
    const bad = repo(["v1.0.0"]);
    await createDepot({ moduleConfigs: [moduleEntry(good, ">= 1.0.0"), moduleEntry(bad, ">= banana")] });
    await untilModule(good, () => true, "good module");
    const e = await untilEntry("Module", bad, (x) => !x.ready, "bad entry");
    expect(e.reason).toBe("InvalidConstraint");
    expect(e.error).toContain(">= banana");
    expect(await getModule(bad)).toBeUndefined();
    await editDepot("mirror", (s) => (s.moduleConfigs![1]!.versionConstraints = ">= 1.0.0"));
    await untilModule(bad, () => true, "fixed entry");
    await waitFor(async () => (await store.get<DepotObject>(Depot, NS, "mirror"))?.status?.conditions?.find((c) => c.type === "Ready")?.status === "True", 10_000, "ready");
  }, 20_000);

  test("ownership: adopts an unlabelled Module, refuses one of another live Depot, releases removed entries, survives deletion", async () => {
    const adopted = repo(["v1.0.0", "v2.0.0"]);
    const contested = repo(["v1.0.0"]);
    await store.create<ModuleObject>({ apiVersion: API_VERSION, kind: "Module", metadata: { name: adopted, namespace: NS }, spec: { moduleConfig: { repoOwner: "acme" }, versions: [{ version: "0.1.0" }, { version: "v1.0.0" }] } });
    await createDepot({ moduleConfigs: [moduleEntry(contested, ">= 1.0.0")] }, "first");
    await untilModule(contested, () => true, "contested module");
    await createDepot({ moduleConfigs: [moduleEntry(adopted, ">= 1.0.0"), moduleEntry(contested, ">= 1.0.0")] });
    const m = await untilModule(adopted, (x) => x.metadata.labels?.[LABELS.depot] === "mirror", "adoption");
    expect(declaredOf(m)).toEqual(["0.1.0", "v1.0.0"]); // never touched by the Depot
    expect(depotListOf(m)).toEqual(["2.0.0", "1.0.0"]); // it lists 1.0.0 too: each owner lists what it wants
    const e = await untilEntry("Module", contested, (x) => !x.ready, "contested entry");
    expect(e.reason).toBe("ManagedByAnotherDepot");
    expect((await getModule(contested))!.metadata.labels?.[LABELS.depot]).toBe("first");

    // Removing the entry releases the Module: it keeps its versions but is no longer Depot-managed.
    await editDepot("mirror", (s) => s.moduleConfigs!.splice(0, 1));
    const released = await untilModule(adopted, (x) => x.metadata.labels?.[LABELS.depot] === undefined, "release");
    expect(declaredOf(released)).toEqual(["0.1.0", "v1.0.0"]);
    expect(depotListOf(released)).toEqual(["2.0.0", "1.0.0"]); // still served: released, not dropped

    // Deleting a Depot leaves its Modules; the other Depot may then take them over.
    await store.delete(Depot, NS, "first");
    await Bun.sleep(100);
    expect(await getModule(contested)).toBeDefined();
    await editDepot("mirror", (s) => (s.pollingIntervalMinutes = 1));
    await untilModule(contested, (x) => x.metadata.labels?.[LABELS.depot] === "mirror", "taken over");
  }, 20_000);

  test("GitHub App auth per entry from the Depot's namespace Secret; a missing Secret is reported", async () => {
    const priv = repo(["v1.0.0"], { private: true });
    await createDepot({ moduleConfigs: [moduleEntry(priv, ">= 1.0.0", { githubClientConfig: { useAuthenticatedClient: true } })] });
    const e = await untilEntry("Module", priv, (x) => !x.ready, "missing secret");
    expect(e.reason).toBe("GitHubAppUnavailable");
    const pem = await Bun.file(new URL("github-app.private.pem", keys)).text();
    await store.create<KubeObject>({ apiVersion: "v1", kind: "Secret", metadata: { name: GITHUB_APP_SECRET, namespace: NS }, data: { githubAppID: b64("12345"), githubInstallID: b64("678"), githubPrivateKey: b64(b64(pem)) } });
    // Retried after backoff without a Depot edit.
    const m = await untilModule(priv, () => true, "private module");
    expect(versionsOf(m)).toEqual(["1.0.0"]);
    expect(github.log.some((l) => l.path.includes(priv) && l.authorization)).toBe(true);
    // The installation token is cached across polls.
    const tokens = github.stats.tokensIssued;
    await editDepot("mirror", (s) => (s.pollingIntervalMinutes = 1));
    const polled = (await entryOf("Module", priv))!.lastPollTime;
    await untilEntry("Module", priv, (x) => x.lastPollTime !== polled, "another poll");
    expect(github.stats.tokensIssued).toBe(tokens);
    expect(tokens).toBe(1);
  }, 20_000);
});
