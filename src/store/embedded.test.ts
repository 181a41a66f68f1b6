import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigMap, Module, Namespace, Version, type ModuleObject, type VersionObject } from "../api/kinds.ts";
import { API_VERSION, FINALIZER, type KubeObject } from "../api/meta.ts";
import { EmbeddedStore } from "./embedded.ts";
import { StoreError } from "./errors.ts";

const stores: EmbeddedStore[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function open(path: string = ":memory:", eventBufferSize?: number) {
  const s = EmbeddedStore.open(path, { eventBufferSize, requireNamespaces: false });
  stores.push(s);
  return s;
}

const moduleObj = (name: string, extra: Partial<ModuleObject["metadata"]> = {}): ModuleObject => ({
  apiVersion: API_VERSION,
  kind: "Module",
  metadata: { name, namespace: "team", ...extra },
  spec: { moduleConfig: { provider: "aws" }, versions: [{ version: "1.0.0" }] },
});
const versionObj = (name: string, owner?: KubeObject): VersionObject => ({
  apiVersion: API_VERSION,
  kind: "Version",
  metadata: {
    name,
    namespace: "team",
    ...(owner ? { ownerReferences: [{ apiVersion: API_VERSION, kind: owner.kind, name: owner.metadata.name, uid: owner.metadata.uid!, controller: true }] } : {}),
  },
  spec: { type: "Module", version: "1.0.0" },
});

async function reason(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(StoreError);
    return (e as StoreError).reason;
  }
  return "no error";
}

describe("create and get", () => {
  test("sets server fields and hands out copies", async () => {
    const s = open();
    const input = { ...moduleObj("vpc"), status: { synced: true } } as ModuleObject;
    input.metadata.uid = "client-chosen";
    const created = await s.create(input);
    expect(created.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.metadata.uid).not.toBe("client-chosen");
    expect(created.metadata.generation).toBe(1);
    expect(created.metadata.resourceVersion).toBe("1");
    expect(created.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(created.status).toBeUndefined(); // status only through the subresource
    created.spec.versions.push({ version: "mutated" });
    const got = await s.get<ModuleObject>(Module, "team", "vpc");
    expect(got?.spec.versions).toEqual([{ version: "1.0.0" }]);
    expect(await s.get(Module, "team", "nope")).toBeUndefined();
  });

  test("applies schema defaults", async () => {
    const s = open();
    const m = moduleObj("vpc");
    m.spec.moduleConfig.storageConfig = { presign: { enabled: true } };
    const created = await s.create(m);
    expect(created.spec.moduleConfig.storageConfig?.presign).toEqual({ enabled: true, ttl: "15m", fallbackToProxy: true });
  });

  test("namespace defaults to default; cluster-scoped kinds have none", async () => {
    const s = open();
    const m = moduleObj("vpc");
    delete m.metadata.namespace;
    expect((await s.create(m)).metadata.namespace).toBe("default");
    expect(await s.get(Module, undefined, "vpc")).toBeDefined();
    const ns = await s.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "fresh", namespace: "ignored" } });
    expect(ns.metadata.namespace).toBeUndefined();
    expect((await s.get(Namespace, undefined, "fresh"))?.metadata.name).toBe("fresh");
  });

  test("create of an existing object is AlreadyExists", async () => {
    const s = open();
    await s.create(moduleObj("vpc"));
    expect(await reason(s.create(moduleObj("vpc")))).toBe("AlreadyExists");
  });

  test("validation errors carry field causes", async () => {
    const s = open();
    const bad = moduleObj("Bad_Name") as KubeObject;
    (bad.spec as { versions: unknown[] }).versions = [{ version: 5 }];
    try {
      await s.create(bad);
      throw new Error("expected Invalid");
    } catch (e) {
      const err = e as StoreError;
      expect(err.reason).toBe("Invalid");
      expect(err.code).toBe(422);
      expect(err.causes.map((c) => c.field)).toEqual(["metadata.name", "spec.versions[0].version"]);
      expect(err.message).toContain("spec.versions[0].version: Expected string");
    }
    expect(await reason(s.create({ ...moduleObj("x"), extra: 1 }))).toBe("Invalid");
    expect(await reason(s.create({ apiVersion: "v9", kind: "Nope", metadata: { name: "x" } }))).toBe("Invalid");
    expect(await reason(s.create({ ...moduleObj("x"), metadata: { name: "x", ownerReferences: [{ kind: "Module" }] } } as unknown as KubeObject))).toBe("Invalid");
  });

  test("list filters by namespace and label selector; invalid selector is Invalid", async () => {
    const s = open();
    await s.create(moduleObj("a", { labels: { tier: "gold" } }));
    await s.create(moduleObj("b", { labels: { tier: "silver" } }));
    await s.create(moduleObj("c", { namespace: "other", labels: { tier: "gold" } }));
    const all = await s.list(Module);
    expect(all.items.map((o) => o.metadata.name)).toEqual(["c", "a", "b"]); // by namespace, then name
    expect(all.resourceVersion).toBe("3");
    expect((await s.list(Module, { namespace: "team" })).items.map((o) => o.metadata.name)).toEqual(["a", "b"]);
    expect((await s.list(Module, { labelSelector: "tier=gold" })).items.map((o) => o.metadata.name)).toEqual(["c", "a"]);
    expect((await s.list(Module, { namespace: "team", labelSelector: "tier notin (gold)" })).items.map((o) => o.metadata.name)).toEqual(["b"]);
    expect(await reason(s.list(Module, { labelSelector: "tier in ()" }))).toBe("Invalid");
  });
});

describe("update, status and patch", () => {
  test("stale resourceVersion conflicts; current one succeeds", async () => {
    const s = open();
    const created = await s.create(moduleObj("vpc"));
    const first = structuredClone(created);
    first.spec.versions.push({ version: "2.0.0" });
    const updated = await s.update(first);
    expect(Number(updated.metadata.resourceVersion)).toBeGreaterThan(Number(created.metadata.resourceVersion));
    const stale = structuredClone(created);
    stale.spec.versions = [];
    expect(await reason(s.update(stale))).toBe("Conflict");
    expect(await reason(s.updateStatus({ ...created, status: { synced: true } }))).toBe("Conflict");
    expect(await reason(s.delete(Module, "team", "vpc", { resourceVersion: created.metadata.resourceVersion }))).toBe("Conflict");
    // Without a resourceVersion the write is unconditional.
    delete stale.metadata.resourceVersion;
    expect((await s.update(stale)).spec.versions).toEqual([]);
  });

  test("missing objects are NotFound", async () => {
    const s = open();
    expect(await reason(s.update(moduleObj("nope")))).toBe("NotFound");
    expect(await reason(s.updateStatus(moduleObj("nope")))).toBe("NotFound");
    expect(await reason(s.patch(Module, "team", "nope", { type: "merge", patch: {} }))).toBe("NotFound");
    expect(await reason(s.delete(Module, "team", "nope"))).toBe("NotFound");
  });

  test("generation moves only with spec; no-op updates write nothing", async () => {
    const s = open();
    const created = await s.create(moduleObj("vpc"));
    const labelled = await s.update({ ...created, metadata: { ...created.metadata, labels: { a: "b" } } });
    expect(labelled.metadata.generation).toBe(1);
    expect(labelled.metadata.resourceVersion).not.toBe(created.metadata.resourceVersion);
    const same = await s.update(labelled);
    expect(same.metadata.resourceVersion).toBe(labelled.metadata.resourceVersion);
    const status = await s.updateStatus({ ...labelled, status: { synced: true, observedGeneration: 1 } });
    expect(status.metadata.generation).toBe(1);
    const specChanged = await s.update({ ...status, spec: { ...status.spec, forceSync: true } });
    expect(specChanged.metadata.generation).toBe(2);
    const patched = await s.patch<ModuleObject>(Module, "team", "vpc", { type: "merge", patch: { spec: { forceSync: false } } });
    expect(patched.metadata.generation).toBe(3);
    const statusPatched = await s.patch<ModuleObject>(Module, "team", "vpc", { type: "merge", patch: { status: { latestVersion: "v1.0.0" } } }, { subresource: "status" });
    expect(statusPatched.metadata.generation).toBe(3);
    expect(statusPatched.status).toEqual({ synced: true, observedGeneration: 1, latestVersion: "v1.0.0" });
  });

  test("update keeps stored status; status writes change only status", async () => {
    const s = open();
    const created = await s.create(moduleObj("vpc"));
    const withStatus = await s.updateStatus({ ...created, status: { synced: true } });
    const updated = await s.update({ ...withStatus, status: { synced: false }, metadata: { ...withStatus.metadata, labels: { x: "y" } } });
    expect(updated.status).toEqual({ synced: true });
    const statusOnly = await s.updateStatus({ ...updated, spec: { ...updated.spec, versions: [] }, metadata: { ...updated.metadata, labels: {} }, status: { synced: false } });
    expect(statusOnly.status).toEqual({ synced: false });
    expect(statusOnly.spec.versions).toHaveLength(1);
    expect(statusOnly.metadata.labels).toEqual({ x: "y" });
    // Main-resource patches ignore status, like the API server with a status subresource.
    const p = await s.patch<ModuleObject>(Module, "team", "vpc", { type: "merge", patch: { status: { synced: true }, metadata: { labels: { x: "z" } } } });
    expect(p.status).toEqual({ synced: false });
    expect(p.metadata.labels).toEqual({ x: "z" });
    const bad = await reason(s.updateStatus({ ...p, status: { synced: "yes" } }));
    expect(bad).toBe("Invalid");
    expect(await reason(s.updateStatus({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" } }))).toBe("Invalid");
  });

  test("server-owned metadata cannot be changed by update or patch", async () => {
    const s = open();
    const created = await s.create(moduleObj("vpc"));
    const u = await s.update({ ...created, metadata: { ...created.metadata, generation: 42, creationTimestamp: "2000-01-01T00:00:00Z", labels: { a: "b" } } });
    expect(u.metadata.generation).toBe(1);
    expect(u.metadata.creationTimestamp).toBe(created.metadata.creationTimestamp!);
    expect(await reason(s.update({ ...u, metadata: { ...u.metadata, uid: "other" } }))).toBe("Conflict");
    expect(await reason(s.patch(Module, "team", "vpc", { type: "merge", patch: { metadata: { name: "renamed" } } }))).toBe("Invalid");
  });

  test("json patch with test on resourceVersion, and merge patch preconditions", async () => {
    const s = open();
    const created = await s.create(moduleObj("vpc"));
    const rv = created.metadata.resourceVersion!;
    const p = await s.patch<ModuleObject>(Module, "team", "vpc", {
      type: "json",
      patch: [
        { op: "test", path: "/metadata/resourceVersion", value: rv },
        { op: "add", path: "/spec/versions/-", value: { version: "2.0.0" } },
        { op: "add", path: "/metadata/labels", value: { "a.b": "c" } },
      ],
    });
    expect(p.spec.versions.map((v) => v.version)).toEqual(["1.0.0", "2.0.0"]);
    expect(await reason(s.patch(Module, "team", "vpc", { type: "json", patch: [{ op: "test", path: "/metadata/resourceVersion", value: rv }] }))).toBe("Invalid");
    expect(await reason(s.patch(Module, "team", "vpc", { type: "merge", patch: { metadata: { resourceVersion: rv }, spec: { forceSync: true } } }))).toBe("Conflict");
    expect(await reason(s.patch(Module, "team", "vpc", { type: "merge", patch: { spec: { versions: [{ version: 1 }] } } }))).toBe("Invalid");
  });

  test("core kinds keep all their fields", async () => {
    const s = open();
    const cm = await s.create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "readme" }, data: { "README.md": "# hi" } });
    const updated = await s.update({ ...cm, data: { "README.md": "# bye" } });
    expect(updated.data).toEqual({ "README.md": "# bye" });
    expect((await s.get(ConfigMap, "default", "readme"))?.data).toEqual({ "README.md": "# bye" });
  });
});

describe("deletion", () => {
  test("finalizers hold the object with a deletionTimestamp until the last one goes", async () => {
    const s = open();
    const created = await s.create(moduleObj("vpc", { finalizers: [FINALIZER, "other/x"] }));
    await s.delete(Module, "team", "vpc");
    const marked = (await s.get<ModuleObject>(Module, "team", "vpc"))!;
    expect(marked.metadata.deletionTimestamp).toMatch(/Z$/);
    expect(marked.metadata.generation).toBe(created.metadata.generation!);
    // A second delete does not move the timestamp or the resourceVersion.
    await s.delete(Module, "team", "vpc");
    expect((await s.get(Module, "team", "vpc"))?.metadata.resourceVersion).toBe(marked.metadata.resourceVersion);
    expect(await reason(s.update({ ...marked, metadata: { ...marked.metadata, finalizers: [FINALIZER, "other/x", "new/one"] } }))).toBe("Invalid");
    const one = await s.update({ ...marked, metadata: { ...marked.metadata, finalizers: ["other/x"] } });
    expect(one.metadata.deletionTimestamp).toBe(marked.metadata.deletionTimestamp!);
    await s.patch(Module, "team", "vpc", { type: "json", patch: [{ op: "remove", path: "/metadata/finalizers/0" }] });
    expect(await s.get(Module, "team", "vpc")).toBeUndefined();
  });

  test("deleting an owner collects its dependents (cascade by ownerReferences uid)", async () => {
    const s = open();
    const mod = await s.create(moduleObj("vpc"));
    const other = await s.create(moduleObj("other"));
    await s.create(versionObj("vpc-1-0-0", mod));
    await s.create(versionObj("vpc-2-0-0", mod));
    const held = await s.create({ ...versionObj("vpc-3-0-0", mod), metadata: { ...versionObj("vpc-3-0-0", mod).metadata, finalizers: [FINALIZER] } });
    const shared = versionObj("shared", mod);
    shared.metadata.ownerReferences!.push({ apiVersion: API_VERSION, kind: "Module", name: "other", uid: other.metadata.uid! });
    await s.create(shared);
    await s.create(versionObj("unrelated", other));
    // A grandchild: collected once its owning Version is.
    const cm = await s.create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "readme", namespace: "team" }, data: {} });
    await s.update({ ...cm, metadata: { ...cm.metadata, ownerReferences: [{ apiVersion: API_VERSION, kind: "Version", name: "vpc-1-0-0", uid: (await s.get(Version, "team", "vpc-1-0-0"))!.metadata.uid! }] } });

    await s.delete(Module, "team", "vpc");
    const names = (await s.list(Version)).items.map((v) => v.metadata.name);
    expect(names).toEqual(["shared", "unrelated", "vpc-3-0-0"]);
    expect(await s.get(ConfigMap, "team", "readme")).toBeUndefined(); // owned by a collected Version
    const sharedNow = (await s.get(Version, "team", "shared"))!;
    expect(sharedNow.metadata.ownerReferences!.map((r) => r.name)).toEqual(["other"]);
    const heldNow = (await s.get(Version, "team", "vpc-3-0-0"))!;
    expect(heldNow.metadata.deletionTimestamp).toBeDefined();
    await s.update({ ...heldNow, metadata: { ...heldNow.metadata, finalizers: [] } });
    expect(await s.get(Version, "team", held.metadata.name)).toBeUndefined();
  });
});

describe("persistence", () => {
  test("reopening the file gives the same objects and continues the revision", async () => {
    const dir = mkdtempSync(join(tmpdir(), "opendepot-store-"));
    dirs.push(dir);
    const path = join(dir, "store.db");
    const first = EmbeddedStore.open(path, { requireNamespaces: false });
    const created = await first.create(moduleObj("vpc"));
    await first.updateStatus({ ...created, status: { synced: true } });
    await first.create(moduleObj("gone"));
    await first.delete(Module, "team", "gone");
    const rvBefore = first.resourceVersion;
    expect(rvBefore).toBe("4");
    await first.close();
    expect(await reason(first.get(Module, "team", "vpc"))).toBe("Unavailable");

    const second = open(path);
    expect(second.resourceVersion).toBe(rvBefore);
    const got = await second.get<ModuleObject>(Module, "team", "vpc");
    expect(got?.metadata.uid).toBe(created.metadata.uid!);
    expect(got?.status).toEqual({ synced: true });
    expect(await second.get(Module, "team", "gone")).toBeUndefined();
    const next = await second.create(moduleObj("new"));
    expect(next.metadata.resourceVersion).toBe("5");
    // History before the restart is not replayable: watching from before it is Gone.
    const w = second.watch(Module, { resourceVersion: "2" }, () => {});
    expect(await reason(w.done)).toBe("Gone");
  });
});

describe("releasing memory", () => {
  test("releaseMemory (SQLite's page cache) leaves every object readable and writable, and is a no-op once closed", async () => {
    const dir = mkdtempSync(join(tmpdir(), "opendepot-store-"));
    dirs.push(dir);
    const path = join(dir, "store.db");
    const store = EmbeddedStore.open(path, { requireNamespaces: false });
    for (let i = 0; i < 300; i++) await store.create(moduleObj(`m-${i}`));
    const before = (await store.list<ModuleObject>(Module)).items;
    const seen: string[] = [];
    const w = store.watch(Module, { resourceVersion: store.resourceVersion }, (e) => void seen.push(`${e.type} ${e.object.metadata.name}`));
    store.releaseMemory();
    expect((await store.list<ModuleObject>(Module)).items).toEqual(before);
    await store.create(moduleObj("after-release"));
    expect((await store.get<ModuleObject>(Module, "team", "after-release"))?.metadata.name).toBe("after-release");
    await Bun.sleep(0);
    expect(seen).toEqual(["ADDED after-release"]);
    w.stop();
    await store.close();
    expect(() => store.releaseMemory()).not.toThrow();
    // Reopened, the file holds all of it.
    const again = open(path);
    expect((await again.list(Module)).items).toHaveLength(301);
  });
});

describe("what the API server refuses", () => {
  const strict = () => {
    const s = EmbeddedStore.open(":memory:");
    stores.push(s);
    return s;
  };

  test("a cluster's namespaces exist from the start; objects in a missing namespace are NotFound", async () => {
    const s = strict();
    expect((await s.list(Namespace)).items.map((n) => n.metadata.name)).toEqual(["default", "kube-node-lease", "kube-public", "kube-system"]);
    const e = await s.create(moduleObj("vpc")).catch((x: StoreError) => x);
    expect(e).toMatchObject({ reason: "NotFound", message: 'namespaces "team" not found' });
    await s.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "team" } });
    expect((await s.create(moduleObj("vpc"))).metadata.namespace).toBe("team");
    expect((await s.create<ModuleObject>({ ...moduleObj("x"), metadata: { name: "x" } })).metadata.namespace).toBe("default");
  });

  test("label values over 63 characters, bad label keys, oversized annotations and ConfigMaps are Invalid", async () => {
    const s = EmbeddedStore.open(":memory:", { namespaces: ["team"] });
    stores.push(s);
    const bad = async (o: KubeObject) => (await s.create(o).catch((x: StoreError) => x)) as StoreError;
    const e1 = await bad(moduleObj("a", { labels: { "opendepot.defdev.io/module": "m".repeat(64) } }));
    expect(e1.reason).toBe("Invalid");
    expect(e1.message).toContain("must be no more than 63 characters");
    expect((await bad(moduleObj("b", { labels: { "Bad_Prefix/x": "y" } }))).reason).toBe("Invalid");
    expect((await bad(moduleObj("c", { labels: { ok: "-starts-with-dash" } }))).reason).toBe("Invalid");
    expect((await bad(moduleObj("d", { annotations: { big: "x".repeat(256 * 1024) } }))).message).toContain("metadata.annotations: Too long");
    const cm = (data: Record<string, string>, extra: Record<string, unknown> = {}) => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cm", namespace: "team" }, data, ...extra }) as KubeObject;
    expect((await bad(cm({ a: "x".repeat(1024 * 1024 + 1) }))).message).toContain("[]: Too long: must have at most 1048576 bytes");
    expect((await bad(cm({}, { binaryData: { a: Buffer.alloc(1024 * 1024 + 1).toString("base64") } }))).reason).toBe("Invalid");
    expect((await s.create(cm({ a: "x".repeat(1000 * 1024) }))).metadata.name).toBe("cm");
    expect((await s.create(moduleObj("ok", { labels: { "opendepot.defdev.io/module": "m".repeat(63) } }))).metadata.name).toBe("ok");
  });
});
