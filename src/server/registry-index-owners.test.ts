// The index keeps no map of its own of every Version by name (the shared cache holds them): a Version that changes
// owner, is deleted, or comes back in a relist is linked and unlinked from what the feed says it was before.
import { expect, test } from "bun:test";
import { Module, Provider, Version, type ModuleObject, type ProviderObject, type VersionObject } from "../api/kinds.ts";
import { API_VERSION, LABELS } from "../api/meta.ts";
import { artifactFileName } from "../api/naming.ts";
import { ResourceCache } from "../store/cache.ts";
import { EmbeddedStore } from "../store/embedded.ts";
import { RegistryIndex } from "./registry-index.ts";

const FILE = artifactFileName(".zip");

async function world() {
  const store = EmbeddedStore.open(":memory:", { namespaces: ["ns"] });
  for (const name of ["a", "b"]) await store.create<ModuleObject>({ apiVersion: API_VERSION, kind: "Module", metadata: { name, namespace: "ns" }, spec: { moduleConfig: { provider: "aws", repoOwner: "acme" }, versions: [] } });
  const caches = [Module, Provider, Version].map((k) => new ResourceCache(store, k));
  await Promise.all(caches.map((c) => c.start()));
  const [modules, providers, versions] = caches as unknown as [ResourceCache<ModuleObject>, ResourceCache<ProviderObject>, ResourceCache<VersionObject>];
  const index = new RegistryIndex({ modules, providers, versions });
  const put = async (name: string, owner: string, version: string) => {
    const existing = versions.get("ns", name);
    const labels = { [LABELS.module]: owner };
    const created = existing ? await store.update<VersionObject>({ ...structuredClone(existing), metadata: { ...structuredClone(existing.metadata), labels } }) : await store.create<VersionObject>({ apiVersion: API_VERSION, kind: "Version", metadata: { name, namespace: "ns", labels }, spec: { type: "Module", version, fileName: FILE, moduleConfigRef: { name: owner } } });
    if (!existing) await store.updateStatus({ ...created, status: { synced: true, checksum: "c2hh" } });
  };
  // The cache applies watch events asynchronously: wait until it holds what the store says.
  const settled = async (check: () => boolean) => {
    for (let i = 0; i < 1000 && !check(); i++) await Bun.sleep(1);
    expect(check()).toBe(true);
  };
  const listed = (owner: string) => (JSON.parse(index.moduleVersionsBody("ns", owner)).modules[0].versions as { version: string }[]).map((v) => v.version);
  return { store, index, versions, put, settled, listed, stop: () => caches.forEach((c) => c.stop()) };
}

test("a Version relabelled to another module moves there; deleted, it leaves; the index's own maps hold no Version by name", async () => {
  const w = await world();
  await w.put("a-1-0-0", "a", "1.0.0");
  await w.put("a-2-0-0", "a", "2.0.0");
  await w.settled(() => w.listed("a").length === 2);
  expect(w.listed("b")).toEqual([]);

  // Relabelled: the watch's MODIFIED carries the old object, which names the owner to leave.
  await w.put("a-2-0-0", "b", "2.0.0");
  await w.settled(() => w.listed("b").length === 1);
  expect(w.listed("a")).toEqual(["1.0.0"]);
  expect(w.listed("b")).toEqual(["2.0.0"]);
  expect(w.index.moduleVersion("ns", "b", "2.0.0")?.metadata.name).toBe("a-2-0-0");
  expect(w.index.moduleVersion("ns", "a", "2.0.0")).toBeUndefined();

  await w.store.delete(Version, "ns", "a-2-0-0");
  await w.settled(() => w.listed("b").length === 0);
  expect(w.listed("a")).toEqual(["1.0.0"]);

  // No map of every Version by name: the only per-Version entries are the owners' (shared objects, not copies).
  const fields = Object.values(w.index as unknown as Record<string, unknown>).filter((f): f is Map<string, unknown> => f instanceof Map);
  expect(Math.max(...fields.map((m) => m.size))).toBeLessThanOrEqual(2);
  expect(w.index.moduleVersion("ns", "a", "1.0.0")).toBe(w.versions.get("ns", "a-1-0-0"));
  w.stop();
  await w.store.close();
});
