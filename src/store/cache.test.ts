import { afterEach, describe, expect, test } from "bun:test";
import { Module, type ModuleObject } from "../api/kinds.ts";
import { ResourceCache, type ChangeType } from "./cache.ts";
import { EmbeddedStore } from "./embedded.ts";
import type { ResourceStore, StoreLogger } from "./types.ts";
import { waitFor } from "../../test/support/ports.ts";
import { FlakyStore } from "../../test/support/flaky-store.ts";
import { moduleObj } from "../../test/support/objects.ts";

const quiet: StoreLogger = { info: () => {}, warn: () => {}, error: () => {} };
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

const until = (cond: () => boolean | Promise<boolean>, timeoutMs = 2000) => waitFor(cond, timeoutMs, "condition", 2);

function setup(eventBufferSize?: number) {
  const store = EmbeddedStore.open(":memory:", { eventBufferSize, log: quiet, requireNamespaces: false });
  const flaky = new FlakyStore(store);
  cleanup.push(() => store.close());
  return { store, flaky };
}
function cacheOf(store: ResourceStore, options: ConstructorParameters<typeof ResourceCache>[2] = {}) {
  const cache = new ResourceCache<ModuleObject>(store, Module, { log: quiet, backoff: { initialMs: 5, maxMs: 20 }, ...options });
  const changes: string[] = [];
  cache.onChange((type: ChangeType, obj, old) => changes.push(`${type} ${obj.metadata.name}${old ? ` (was ${old.metadata.resourceVersion})` : ""}`));
  cleanup.push(() => cache.stop());
  return { cache, changes };
}

describe("ResourceCache", () => {
  test("start resolves once the initial list is loaded; then follows the watch", async () => {
    const { store } = setup();
    await store.create(moduleObj("a"));
    await store.create(moduleObj("b", undefined, "other"));
    const { cache, changes } = cacheOf(store);
    expect(cache.synced).toBe(false);
    await cache.start();
    expect(cache.synced).toBe(true);
    expect(cache.list().map((o) => o.metadata.name).sort()).toEqual(["a", "b"]);
    expect(cache.list("other").map((o) => o.metadata.name)).toEqual(["b"]);
    expect(cache.get("team", "a")?.metadata.resourceVersion).toBe("1");
    expect(changes.sort()).toEqual(["ADDED a", "ADDED b"]);
    const a = (await store.get<ModuleObject>(Module, "team", "a"))!;
    await store.update({ ...a, spec: { ...a.spec, forceSync: true } });
    await store.delete(Module, "other", "b");
    await until(() => changes.length === 4);
    expect(changes.slice(2)).toEqual(["MODIFIED a (was 1)", "DELETED b (was 2)"]);
    expect(cache.get("team", "a")?.spec.forceSync).toBe(true);
    expect(cache.get("other", "b")).toBeUndefined();
    expect(cache.resourceVersion).toBe("4");
  });

  test("objects are frozen: consumers cannot corrupt the cache", async () => {
    const { store } = setup();
    await store.create(moduleObj("a"));
    const { cache } = cacheOf(store);
    await cache.start();
    const a = cache.get("team", "a")!;
    expect(() => {
      a.spec.versions.push({ version: "x" });
    }).toThrow();
    expect(cache.get("team", "a")?.spec.versions).toEqual([]);
  });

  test("objects are frozen all the way down: objects inside arrays inside objects too", async () => {
    const { store } = setup();
    const m = moduleObj("deep");
    m.spec.versions = [{ version: "1.0.0" }, { version: "2.0.0" }];
    await store.create(m);
    const { cache } = cacheOf(store);
    await cache.start();
    const got = cache.get("team", "deep")! as ModuleObject;
    expect(Object.isFrozen(got.metadata)).toBe(true);
    expect(Object.isFrozen(got.spec.versions)).toBe(true);
    expect(got.spec.versions.every((v) => Object.isFrozen(v))).toBe(true);
    expect(() => {
      (got.spec.versions[1] as { version: string }).version = "9.9.9";
    }).toThrow();
    expect((cache.get("team", "deep") as ModuleObject).spec.versions[1]!.version).toBe("2.0.0");
  });

  test("secondary indexes follow changes", async () => {
    const { store } = setup();
    await store.create(moduleObj("a", { tier: "gold" }));
    const { cache } = cacheOf(store);
    await cache.start();
    cache.addIndex("tier", (o) => (o.metadata.labels?.tier ? [o.metadata.labels.tier] : []));
    expect(cache.byIndex("tier", "gold").map((o) => o.metadata.name)).toEqual(["a"]);
    await store.create(moduleObj("b", { tier: "gold" }));
    const a = (await store.get<ModuleObject>(Module, "team", "a"))!;
    await store.update({ ...a, metadata: { ...a.metadata, labels: { tier: "silver" } } });
    await until(() => cache.get("team", "a")?.metadata.labels?.tier === "silver" && cache.get("team", "b") !== undefined);
    expect(cache.byIndex("tier", "gold").map((o) => o.metadata.name)).toEqual(["b"]);
    expect(cache.byIndex("tier", "silver").map((o) => o.metadata.name)).toEqual(["a"]);
    await store.delete(Module, "team", "b");
    await until(() => cache.get("team", "b") === undefined);
    expect(cache.byIndex("tier", "gold")).toEqual([]);
    expect(() => cache.byIndex("nope", "x")).toThrow();
    expect(() => cache.addIndex("tier", () => [])).toThrow();
  });

  test("a broken watch resumes from the last resourceVersion without relisting", async () => {
    const { store, flaky } = setup();
    const { cache, changes } = cacheOf(flaky);
    await cache.start();
    await store.create(moduleObj("a"));
    await until(() => changes.length === 1);
    flaky.breakWatches();
    await store.create(moduleObj("b"));
    await until(() => changes.length === 2);
    expect(changes).toEqual(["ADDED a", "ADDED b"]);
    expect(flaky.lists).toBe(1);
    expect(flaky.watchOptions.map((o) => o.resourceVersion)).toEqual(["0", "1"]);
  });

  test("on Gone it relists and emits the difference so consumers converge", async () => {
    const { store, flaky } = setup(2);
    await store.create(moduleObj("keep"));
    await store.create(moduleObj("change"));
    await store.create(moduleObj("remove"));
    const { cache, changes } = cacheOf(flaky);
    await cache.start();
    changes.length = 0;
    // While the watch is down, more happens than the store's event ring remembers.
    flaky.breakWatches();
    const c = (await store.get<ModuleObject>(Module, "team", "change"))!;
    await store.update({ ...c, spec: { ...c.spec, forceSync: true } });
    await store.delete(Module, "team", "remove");
    await store.create(moduleObj("new"));
    await store.create(moduleObj("newer"));
    await until(() => flaky.lists === 2 && changes.length === 4);
    expect(changes.sort()).toEqual(["ADDED new", "ADDED newer", "DELETED remove (was 3)", "MODIFIED change (was 2)"]);
    expect(cache.list().map((o) => o.metadata.name).sort()).toEqual(["change", "keep", "new", "newer"]);
    // And it keeps following after the relist.
    await store.create(moduleObj("later"));
    await until(() => cache.get("team", "later") !== undefined);
  });

  test("failed initial lists are retried; namespace and selector are honoured", async () => {
    const { store, flaky } = setup();
    await store.create(moduleObj("a", { tier: "gold" }));
    await store.create(moduleObj("b", { tier: "silver" }));
    await store.create(moduleObj("c", { tier: "gold" }, "other"));
    flaky.failLists = 2;
    const { cache, changes } = cacheOf(flaky, { namespace: "team", labelSelector: "tier=gold" });
    await cache.start();
    expect(flaky.lists).toBe(3);
    expect(changes).toEqual(["ADDED a"]);
    const b = (await store.get<ModuleObject>(Module, "team", "b"))!;
    await store.update({ ...b, metadata: { ...b.metadata, labels: { tier: "gold" } } });
    const a = (await store.get<ModuleObject>(Module, "team", "a"))!;
    await store.update({ ...a, metadata: { ...a.metadata, labels: { tier: "bronze" } } });
    await until(() => changes.length === 3);
    expect(changes.slice(1)).toEqual(["ADDED b", "DELETED a (was 1)"]);
    expect(cache.list().map((o) => o.metadata.name)).toEqual(["b"]);
  });

  test("a throwing change handler does not stop the others; unsubscribe works", async () => {
    const { store } = setup();
    const { cache, changes } = cacheOf(store);
    const unsubscribe = cache.onChange(() => {
      throw new Error("boom");
    });
    await cache.start();
    await store.create(moduleObj("a"));
    await until(() => changes.length === 1);
    unsubscribe();
    const seen: string[] = [];
    cache.onChange((t, o) => seen.push(`${t} ${o.metadata.name}`));
    await store.create(moduleObj("b"));
    await until(() => seen.length === 1);
    expect(changes).toEqual(["ADDED a", "ADDED b"]);
  });

  test("stop ends the watch", async () => {
    const { store } = setup();
    const { cache, changes } = cacheOf(store);
    await cache.start();
    cache.stop();
    await store.create(moduleObj("a"));
    await Bun.sleep(10);
    expect(changes).toEqual([]);
  });
});
