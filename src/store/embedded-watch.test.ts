import { afterEach, describe, expect, test } from "bun:test";
import { Module, type ModuleObject } from "../api/kinds.ts";
import { API_VERSION, FINALIZER } from "../api/meta.ts";
import { EmbeddedStore } from "./embedded.ts";
import { StoreError } from "./errors.ts";
import type { StoreLogger, WatchEvent, WatchOptions } from "./types.ts";
import { waitFor } from "../../test/support/ports.ts";
import { moduleObj } from "../../test/support/objects.ts";

const stores: EmbeddedStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});
const logged: string[] = [];
const log: StoreLogger = { info: () => {}, warn: () => {}, error: (msg, f) => logged.push(`${msg} ${JSON.stringify(f)}`) };
function open(eventBufferSize?: number) {
  const s = EmbeddedStore.open(":memory:", { eventBufferSize, log, requireNamespaces: false });
  stores.push(s);
  return s;
}

const until = (cond: () => boolean | Promise<boolean>, timeoutMs = 2000) => waitFor(cond, timeoutMs, "condition", 2);

/** Watch and record `TYPE name@rv` lines. */
function record(s: EmbeddedStore, options: WatchOptions) {
  const events: WatchEvent[] = [];
  const w = s.watch(Module, options, (e) => events.push(e));
  const lines = () => events.map((e) => (e.type === "BOOKMARK" ? `BOOKMARK@${e.object.metadata.resourceVersion}` : `${e.type} ${e.object.metadata.name}@${e.object.metadata.resourceVersion}`));
  return { w, events, lines };
}

describe("watch", () => {
  test("without resourceVersion: current objects as ADDED, then live changes, in order", async () => {
    const s = open();
    await s.create(moduleObj("a"));
    await s.create(moduleObj("b"));
    const r = record(s, {});
    expect(r.events).toHaveLength(0); // asynchronous delivery
    const a = (await s.get<ModuleObject>(Module, "team", "a"))!;
    await s.update({ ...a, spec: { ...a.spec, forceSync: true } });
    await s.delete(Module, "team", "b");
    await until(() => r.events.length === 4);
    expect(r.lines()).toEqual(["ADDED a@1", "ADDED b@2", "MODIFIED a@3", "DELETED b@4"]);
    r.w.stop();
    r.w.stop(); // idempotent
    await r.w.done;
    await s.create(moduleObj("c"));
    await Bun.sleep(5);
    expect(r.events).toHaveLength(4);
  });

  test("from a resourceVersion: replays what came after it, then live", async () => {
    const s = open();
    const a = await s.create(moduleObj("a"));
    await s.create(moduleObj("b"));
    await s.delete(Module, "team", "b");
    const r = record(s, { resourceVersion: a.metadata.resourceVersion });
    await s.create(moduleObj("c"));
    await until(() => r.events.length === 3);
    expect(r.lines()).toEqual(["ADDED b@2", "DELETED b@3", "ADDED c@4"]);
    // "0" means "any": like no resourceVersion at all.
    const zero = record(s, { resourceVersion: "0" });
    await until(() => zero.events.length === 2);
    expect(zero.lines()).toEqual(["ADDED a@1", "ADDED c@4"]);
  });

  test("too old a resourceVersion: done rejects with Gone and no events arrive", async () => {
    const s = open(3);
    for (const n of ["a", "b", "c", "d", "e"]) await s.create(moduleObj(n));
    const ok = record(s, { resourceVersion: "2" }); // events 3, 4, 5 are all in the ring
    await until(() => ok.events.length === 3);
    const old = record(s, { resourceVersion: "1" });
    const err = await old.w.done.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).reason).toBe("Gone");
    expect((err as StoreError).code).toBe(410);
    await s.create(moduleObj("f"));
    await until(() => ok.events.length === 4);
    expect(old.events).toHaveLength(0);
    const invalid = s.watch(Module, { resourceVersion: "abc" }, () => {});
    expect(await invalid.done.catch((e: StoreError) => e.reason)).toBe("Invalid");
  });

  test("label selector: objects moving in are ADDED, moving out are DELETED", async () => {
    const s = open();
    const r = record(s, { labelSelector: "tier=gold" });
    const a = await s.create(moduleObj("a", { tier: "silver" }));
    const gold = await s.update({ ...a, metadata: { ...a.metadata, labels: { tier: "gold" } } });
    const stillGold = await s.update({ ...gold, metadata: { ...gold.metadata, labels: { tier: "gold", x: "y" } } });
    const silver = await s.update({ ...stillGold, metadata: { ...stillGold.metadata, labels: { tier: "silver" } } });
    await s.delete(Module, "team", "a");
    await s.create(moduleObj("b", { tier: "gold" }));
    await until(() => r.events.length === 4);
    expect(r.lines()).toEqual(["ADDED a@2", "MODIFIED a@3", "DELETED a@4", "ADDED b@6"]);
    // The DELETED for a move-out carries the last matching state, stamped with the change's revision.
    expect(r.events[2]!.object.metadata.labels).toEqual({ tier: "gold", x: "y" });
    expect(silver.metadata.resourceVersion).toBe("4");
    // The same transitions are replayed from the ring.
    const replay = record(s, { labelSelector: "tier=gold", resourceVersion: "1" });
    await until(() => replay.events.length === 4);
    expect(replay.lines()).toEqual(r.lines());
    const bad = s.watch(Module, { labelSelector: "tier in ()" }, () => {});
    expect(await bad.done.catch((e: StoreError) => e.reason)).toBe("Invalid");
  });

  test("namespace filter", async () => {
    const s = open();
    const r = record(s, { namespace: "team" });
    await s.create(moduleObj("a", undefined, "other"));
    await s.create(moduleObj("b"));
    await until(() => r.events.length === 1);
    await Bun.sleep(5);
    expect(r.lines()).toEqual(["ADDED b@2"]);
  });

  test("finalizer flow and cascade show up as MODIFIED then DELETED", async () => {
    const s = open();
    const r = record(s, {});
    const m: ModuleObject = await s.create({ ...moduleObj("a"), metadata: { name: "a", namespace: "team", finalizers: [FINALIZER] } });
    await s.delete(Module, "team", "a");
    const marked = (await s.get<ModuleObject>(Module, "team", "a"))!;
    await s.update({ ...marked, metadata: { ...marked.metadata, finalizers: [] } });
    await until(() => r.events.length === 3);
    expect(r.lines()).toEqual(["ADDED a@1", "MODIFIED a@2", "DELETED a@3"]);
    expect(r.events[1]!.object.metadata.deletionTimestamp).toBeDefined();
    expect(m.metadata.uid).toBe(r.events[2]!.object.metadata.uid!);
  });

  test("bookmarks carry the current resourceVersion and never overtake events", async () => {
    const s = open();
    await s.create(moduleObj("a"));
    const r = record(s, { bookmarkIntervalMs: 5 });
    await until(() => r.events.some((e) => e.type === "BOOKMARK"));
    await s.create(moduleObj("b"));
    await until(() => r.events.filter((e) => e.type === "BOOKMARK").some((e) => e.object.metadata.resourceVersion === "2"));
    const bookmark = r.events.find((e) => e.type === "BOOKMARK")!;
    expect(bookmark.object as unknown).toEqual({ apiVersion: API_VERSION, kind: "Module", metadata: { resourceVersion: "1" } });
    const lines = r.lines();
    expect(lines.indexOf("ADDED b@2")).toBeLessThan(lines.indexOf("BOOKMARK@2"));
    r.w.stop();
  });

  test("a throwing handler is logged and does not disturb the store or other watches", async () => {
    const s = open();
    logged.length = 0;
    let calls = 0;
    s.watch(Module, {}, () => {
      calls++;
      throw new Error("boom");
    });
    const good = record(s, {});
    await s.create(moduleObj("a"));
    await s.create(moduleObj("b"));
    await until(() => good.events.length === 2 && calls === 2);
    expect(logged.filter((l) => l.includes("boom"))).toHaveLength(2);
    expect((await s.list(Module)).items).toHaveLength(2);
  });

  test("handlers get their own copies", async () => {
    const s = open();
    const seen: ModuleObject[] = [];
    s.watch<ModuleObject>(Module, {}, (e) => {
      e.object.metadata.name = "mutated";
      seen.push(e.object);
    });
    const other = record(s, {});
    await s.create(moduleObj("a"));
    await until(() => seen.length === 1 && other.events.length === 1);
    expect(other.events[0]!.object.metadata.name).toBe("a");
    expect((await s.get(Module, "team", "a"))?.metadata.name).toBe("a");
  });

  test("a handler that writes to the store sees its own write in order", async () => {
    const s = open();
    const r = record(s, {});
    s.watch<ModuleObject>(Module, {}, (e) => {
      if (e.type === "ADDED" && e.object.metadata.name === "a") void s.create(moduleObj("b"));
    });
    await s.create(moduleObj("a"));
    await until(() => r.events.length === 2);
    expect(r.lines()).toEqual(["ADDED a@1", "ADDED b@2"]);
  });

  test("close ends watches; watching a closed store fails with Unavailable", async () => {
    const s = EmbeddedStore.open(":memory:");
    const r = record(s, {});
    await s.close();
    await r.w.done; // resolves
    const after = s.watch(Module, {}, () => {});
    expect(await after.done.catch((e: StoreError) => e.reason)).toBe("Unavailable");
  });
});
