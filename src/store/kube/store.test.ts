// The kube ResourceStore against the Kubernetes-compatible API over TLS, authenticated with the kubeconfig that
// standalone writes: the same semantics a controller relies on, from the client side.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigMap, Module, type ModuleObject } from "../../api/kinds.ts";
import { API_VERSION, type KubeObject } from "../../api/meta.ts";
import { startAdminApi } from "../../kubeapi/admin.ts";
import { silentLogger } from "../../log.ts";
import { waitFor } from "../../../test/support/ports.ts";
import { ResourceCache } from "../cache.ts";
import { EmbeddedStore } from "../embedded.ts";
import { StoreError } from "../errors.ts";
import type { WatchEvent } from "../types.ts";
import { KubeClient } from "./client.ts";
import { kubeconfigConnection } from "./config.ts";
import { KubeStore } from "./store.ts";

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
