// The kube ResourceStore against the Kubernetes-compatible API over TLS, authenticated with the kubeconfig that
// standalone writes: the same semantics a controller relies on, from the client side.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { ConfigMap, Module, type ModuleObject } from "../../api/kinds.ts";
import { API_VERSION, type KubeObject } from "../../api/meta.ts";
import { startAdminApi } from "../../kubeapi/admin.ts";
import { silentLogger } from "../../log.ts";
import { waitFor } from "../../../test/support/ports.ts";
import { ResourceCache } from "../cache.ts";
import { EmbeddedStore } from "../embedded.ts";
import { StoreError } from "../errors.ts";
import type { WatchEvent } from "../types.ts";
import { FieldManagedStore } from "../field-manager.ts";
import { KubeClient, warningTexts } from "./client.ts";
import { kubeconfigConnection } from "./config.ts";
import { KubeStore } from "./store.ts";

const dataDirOf = (kubeconfig: string) => dirname(kubeconfig);
let backing: EmbeddedStore;
let admin: Awaited<ReturnType<typeof startAdminApi>>;
let store: KubeStore;

const module = (name: string): ModuleObject => ({
  apiVersion: API_VERSION,
  kind: "Module",
  metadata: { name, namespace: "default", labels: { team: "net" } },
  spec: { moduleConfig: { repoOwner: "acme" }, versions: [{ version: "1.0.0" }] },
});

beforeAll(async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "opendepot-kubestore-"));
  backing = EmbeddedStore.open(":memory:", { eventBufferSize: 50, log: silentLogger });
  admin = await startAdminApi({ store: backing, dataDir, hostname: "127.0.0.1", port: 0, log: silentLogger });
  store = new KubeStore(new KubeClient(kubeconfigConnection(admin.kubeconfig)));
});

afterAll(async () => {
  await admin?.stop();
  await backing?.close();
});

describe("KubeStore over the Kubernetes API", () => {
  test("create, get, list with a label selector, update with optimistic concurrency", async () => {
    const created = await store.create(module("vpc"));
    expect(created.metadata.uid).toBeDefined();
    expect((await store.get<ModuleObject>(Module, "default", "vpc"))?.spec.versions).toHaveLength(1);
    expect(await store.get(Module, "default", "missing")).toBeUndefined();
    expect((await store.list(Module, { labelSelector: "team=net" })).items.map((m) => m.metadata.name)).toContain("vpc");
    expect((await store.list(Module, { labelSelector: "team=other" })).items).toHaveLength(0);
    const updated = await store.update({ ...created, spec: { ...created.spec, versions: [{ version: "1.0.0" }, { version: "1.1.0" }] } });
    expect(updated.metadata.generation).toBe(2);
    await expect(store.update({ ...created, spec: { ...created.spec, forceSync: true } })).rejects.toMatchObject({ reason: "Conflict" });
    await expect(store.create(module("vpc"))).rejects.toMatchObject({ reason: "AlreadyExists" });
  });

  test("status goes through the status subresource; merge and JSON patches", async () => {
    const m = (await store.get<ModuleObject>(Module, "default", "vpc"))!;
    await store.updateStatus({ ...m, status: { synced: true, syncStatus: "ok" } });
    expect((await store.get<ModuleObject>(Module, "default", "vpc"))?.status?.synced).toBe(true);
    await store.patch(Module, "default", "vpc", { type: "merge", patch: { status: { syncStatus: "patched" } } }, { subresource: "status" });
    await store.patch(Module, "default", "vpc", { type: "json", patch: [{ op: "add", path: "/spec/versions/-", value: { version: "2.0.0" } }] });
    const after = (await store.get<ModuleObject>(Module, "default", "vpc"))!;
    expect(after.status?.syncStatus).toBe("patched");
    expect(after.spec.versions.map((v) => v.version)).toEqual(["1.0.0", "1.1.0", "2.0.0"]);
  });

  test("invalid objects are rejected with field causes", async () => {
    // Like a real API server, unknown fields are pruned for API clients (kubectl asks for Strict); wrong types fail.
    const bad = { ...module("bad"), spec: { moduleConfig: {}, versions: [{ version: 3 }] } } as unknown as ModuleObject;
    const error = await store.create(bad).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).reason).toBe("Invalid");
    expect(JSON.stringify((error as StoreError).causes)).toContain("spec.versions[0].version");
  });

  test("watch delivers changes from a resourceVersion; a too-old one ends with Gone", async () => {
    const { resourceVersion } = await store.list(ConfigMap, { namespace: "default" });
    const events: WatchEvent[] = [];
    const w = store.watch(ConfigMap, { namespace: "default", resourceVersion }, (e) => events.push(e));
    await store.create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a", namespace: "default" }, data: { x: "1" } } as KubeObject);
    await waitFor(() => events.some((e) => e.type === "ADDED" && e.object.metadata.name === "a"), 5000, "ADDED event");
    w.stop();
    await w.done;
    for (let i = 0; i < 60; i++) await backing.create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: `churn-${i}`, namespace: "default" } });
    const old = store.watch(ConfigMap, { namespace: "default", resourceVersion: "1" }, () => {});
    await expect(old.done).rejects.toMatchObject({ reason: "Gone" });
  });

  test("a ResourceCache on the kube store converges after its watch is cut and after a 410", async () => {
    const cache = new ResourceCache<ModuleObject>(store, Module, { namespace: "default", log: silentLogger, backoff: { initialMs: 20, maxMs: 100 } });
    await cache.start();
    expect(cache.get("default", "vpc")).toBeDefined();
    // Cut every watch connection (as a proxy or API server restart would), change things meanwhile.
    admin.api.close();
    await store.create(module("while-cut"));
    await waitFor(() => cache.get("default", "while-cut"), 10_000, "the change made while the watch was cut");
    // Age the cache's resourceVersion out of the API's event window: it must relist and converge.
    for (let i = 0; i < 60; i++) await backing.create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: `churn2-${i}`, namespace: "default" } });
    await backing.delete(Module, "default", "while-cut");
    await waitFor(() => !cache.get("default", "while-cut"), 10_000, "deletion seen after relist");
    cache.stop();
  });
});

describe("what a real API server sees from the kube store", () => {
  test("every write names its field manager; the embedded store records who owns what in managedFields", async () => {
    const depot = new FieldManagedStore(store, "opendepot-depot");
    const controller = new FieldManagedStore(store, "opendepot-controller");
    const created = await depot.create(module("owned"));
    const entries = () => backing.get<ModuleObject>(Module, "default", "owned").then((m) => (m!.metadata.managedFields ?? []) as { manager: string; operation: string; fieldsV1: Record<string, any>; subresource?: string }[]);
    expect((await entries()).map((e) => [e.manager, e.operation])).toEqual([["opendepot-depot", "Update"]]);
    expect((await entries())[0]!.fieldsV1["f:spec"]["f:versions"]).toEqual({});
    await controller.patch(Module, "default", "owned", { type: "merge", patch: { spec: { forceSync: true } } });
    await controller.patch(Module, "default", "owned", { type: "merge", patch: { status: { synced: false } } }, { subresource: "status" });
    const after = await entries();
    const byManager = (m: string, sub?: string) => after.find((e) => e.manager === m && e.subresource === sub)!;
    expect(byManager("opendepot-controller").fieldsV1["f:spec"]).toEqual({ "f:forceSync": {} });
    expect(byManager("opendepot-controller", "status").fieldsV1).toEqual({ "f:status": { "f:synced": {} } });
    expect(byManager("opendepot-depot").fieldsV1["f:spec"]["f:versions"]).toEqual({});
    // The Depot adds a version: spec.versions stays its own.
    await depot.update({ ...(await store.get<ModuleObject>(Module, "default", "owned"))!, spec: { ...created.spec, versions: [{ version: "1.0.0" }, { version: "1.1.0" }], forceSync: true } });
    expect((await entries()).find((e) => e.manager === "opendepot-depot")!.fieldsV1["f:spec"]["f:versions"]).toEqual({});
    // Without a field manager the API server names the User-Agent's product: ours says opendepot.
    const agent = new KubeStore(new KubeClient(kubeconfigConnection(admin.kubeconfig), { userAgent: "opendepot/0.1.0 (test)" }));
    await agent.patch(Module, "default", "owned", { type: "merge", patch: { metadata: { labels: { by: "agent" } } } });
    expect((await entries()).some((e) => e.manager === "opendepot" && e.fieldsV1["f:metadata"]?.["f:labels"]?.["f:by"])).toBe(true);
  });

  test("watches ask for bookmarks, so a quiet watch's resourceVersion keeps moving", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "opendepot-bookmarks-"));
    const quick = await startAdminApi({ store: backing, dataDir, hostname: "127.0.0.1", port: 0, log: silentLogger, bookmarkIntervalMs: 50 });
    try {
      const s = new KubeStore(new KubeClient(kubeconfigConnection(quick.kubeconfig)));
      const events: WatchEvent[] = [];
      const w = s.watch(ConfigMap, { namespace: "kube-public" }, (e) => events.push(e));
      await waitFor(() => events.filter((e) => e.type === "BOOKMARK").length >= 2, 10_000, "two bookmarks");
      w.stop();
      await w.done;
    } finally {
      await quick.stop();
    }
  });

  test("Warning headers are logged once per distinct text", async () => {
    const warnings: unknown[] = [];
    const log = { info() {}, error() {}, warn: (msg: string, fields?: Record<string, unknown>) => warnings.push({ msg, ...fields }) };
    const s = new KubeStore(new KubeClient(kubeconfigConnection(admin.kubeconfig), { log }));
    const withUnknown = (name: string) => ({ ...module(name), spec: { ...module(name).spec, bogus: 1 } }) as unknown as ModuleObject;
    await s.create(withUnknown("warned-1"));
    await s.create(withUnknown("warned-2"));
    expect(warnings).toHaveLength(1);
    expect(JSON.stringify(warnings[0])).toContain("bogus");
    expect(warningTexts('299 - "a \\"quoted\\" text", 299 - "second"')).toEqual(['a "quoted" text', "second"]);
  });

  test("a kubeconfig with an exec credential plugin: run once, cached until expirationTimestamp, with KUBERNETES_EXEC_INFO", async () => {
    const dir = await mkdtemp(join(tmpdir(), "opendepot-exec-"));
    const token = (await Bun.file(join(dataDirOf(admin.kubeconfig), "admin-token")).text()).trim();
    const plugin = join(dir, "plugin.sh");
    const writePlugin = (expiry: string) =>
      writeFile(plugin, `#!/bin/sh\necho run >> "${dir}/runs"\nprintf '%s' "$KUBERNETES_EXEC_INFO" > "${dir}/info.json"\nprintf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s","expirationTimestamp":"${expiry}"}}' "$PLUGIN_TOKEN"\n`, { mode: 0o755 });
    const doc = Bun.YAML.parse(await Bun.file(admin.kubeconfig).text()) as any;
    doc.users[0].user = { exec: { apiVersion: "client.authentication.k8s.io/v1", command: "./plugin.sh", env: [{ name: "PLUGIN_TOKEN", value: token }], interactiveMode: "Never", provideClusterInfo: true } };
    const kubeconfig = join(dir, "kubeconfig");
    await writeFile(kubeconfig, JSON.stringify(doc));
    const runs = async () => (await Bun.file(join(dir, "runs")).text().catch(() => "")).split("\n").filter(Boolean).length;

    await writePlugin("2999-01-01T00:00:00Z");
    const s = new KubeStore(new KubeClient(kubeconfigConnection(kubeconfig)));
    for (let i = 0; i < 5; i++) expect(await s.get(Module, "default", "vpc")).toBeDefined();
    expect(await runs()).toBe(1);
    const info = JSON.parse(await Bun.file(join(dir, "info.json")).text());
    expect(info).toMatchObject({ apiVersion: "client.authentication.k8s.io/v1", kind: "ExecCredential", spec: { interactive: false, cluster: { server: doc.clusters[0].cluster.server } } });

    await writePlugin("2000-01-01T00:00:00Z"); // already expired: every request asks again
    const expiring = new KubeStore(new KubeClient(kubeconfigConnection(kubeconfig)));
    for (let i = 0; i < 3; i++) await expiring.get(Module, "default", "vpc");
    expect(await runs()).toBe(4);

    await writeFile(plugin, "#!/bin/sh\necho 'no credentials for you' >&2\nexit 3\n", { mode: 0o755 });
    const failing = new KubeStore(new KubeClient(kubeconfigConnection(kubeconfig)));
    const error = await failing.get(Module, "default", "vpc").catch((e: StoreError) => e);
    expect(error).toMatchObject({ reason: "Unavailable" });
    expect((error as StoreError).message).toContain("no credentials for you");
  });
});
