import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigMap, Depot, Module, Namespace, type ModuleObject } from "../api/kinds.ts";
import { APPLIED_FROM_ANNOTATION, LABELS } from "../api/meta.ts";
import { APPLIED_FROM_DIRECTORY_ANNOTATION } from "../api/ownership.ts";
import { EmbeddedStore } from "./embedded.ts";
import { conflict } from "./errors.ts";
import { splitDocuments } from "./manifest-parse.ts";
import { ManifestLoader, type ManifestIssue, type ManifestLoaderOptions } from "./manifests.ts";
import type { ResourceStore, StoreLogger } from "./types.ts";
import { waitFor } from "../../test/support/ports.ts";

const quiet: StoreLogger = { info: () => {}, warn: () => {}, error: () => {} };
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

function setup(options: ManifestLoaderOptions = {}, storeOverride?: (s: EmbeddedStore) => ResourceStore, namespaces = ["team"]) {
  const dir = mkdtempSync(join(tmpdir(), "opendepot-manifests-"));
  const store = EmbeddedStore.open(":memory:", { log: quiet, namespaces });
  const reported: ManifestIssue[] = [];
  const write = (rel: string, text: string) => {
    mkdirSync(join(dir, rel, ".."), { recursive: true });
    writeFileSync(join(dir, rel), text);
  };
  const loader = (extra: ManifestLoaderOptions = {}) => {
    const l = new ManifestLoader(storeOverride ? storeOverride(store) : store, dir, { log: quiet, report: (i) => reported.push(i), watch: false, rescanIntervalMs: 0, ...options, ...extra });
    cleanup.push(() => l.stop());
    return l;
  };
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  cleanup.push(() => store.close());
  return { dir, store, reported, write, loader };
}

const moduleYaml = (name: string, version = "1.0.0", extra = "") => `apiVersion: opendepot.defdev.io/v1alpha1
kind: Module
metadata:
  name: ${name}
  namespace: team${extra}
spec:
  moduleConfig:
    provider: aws
  versions:
    - version: "${version}"
`;

const until = (cond: () => boolean | Promise<boolean>, timeoutMs = 3000) => waitFor(cond, timeoutMs, "condition", 10);

test("splitDocuments: --- lines only, leading comment block is not a document", () => {
  expect(splitDocuments("# header\n---\na: 1\n---\n---  \nb: 2\n")).toEqual(["a: 1", "", "b: 2\n"]);
  expect(splitDocuments("a: 1\n--- # not a separator for us\nb: 2")).toEqual(["a: 1\n--- # not a separator for us\nb: 2"]);
  expect(splitDocuments("a: 1\r\n---\r\nb: 2")).toEqual(["a: 1", "b: 2"]);
});

describe("ManifestLoader", () => {
  test("applies multi-document files, namespaces first, recording where each object came from", async () => {
    const t = setup({}, undefined, []);
    t.write(
      "registry.yaml",
      `# the registry\n---\n${moduleYaml("vpc")}---\n# an empty document\n---\napiVersion: opendepot.defdev.io/v1alpha1\nkind: Depot\nmetadata:\n  name: main\nspec:\n  pollingIntervalMinutes: 5\n`,
    );
    t.write("sub/ns.yml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team\n");
    t.write("sub/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: team\ndata:\n  a: b\n");
    t.write(".hidden.yaml", moduleYaml("hidden"));
    t.write("notes.txt", "not yaml");
    const created: string[] = [];
    const since = t.store.resourceVersion;
    t.store.watch(Namespace, { resourceVersion: since }, (e) => created.push(`${e.object.kind}`));
    t.store.watch(Module, { resourceVersion: since }, (e) => created.push(`${e.object.kind}`));
    const result = await t.loader().start();
    expect(result).toEqual({ applied: 4, unchanged: 0, deleted: 0, keptFromElsewhere: 0, errors: [] });
    const vpc = (await t.store.get<ModuleObject>(Module, "team", "vpc"))!;
    expect(vpc.metadata.annotations?.[APPLIED_FROM_ANNOTATION]).toBe("registry.yaml");
    expect(vpc.spec.versions).toEqual([{ version: "1.0.0" }]);
    expect((await t.store.get(Depot, "default", "main"))?.metadata.annotations?.[APPLIED_FROM_ANNOTATION]).toBe("registry.yaml");
    expect((await t.store.get(Namespace, undefined, "team"))?.metadata.annotations?.[APPLIED_FROM_ANNOTATION]).toBe("sub/ns.yml");
    expect((await t.store.get(ConfigMap, "team", "settings"))?.data).toEqual({ a: "b" });
    expect(await t.store.get(Module, "team", "hidden")).toBeUndefined();
    await until(() => created.length === 2);
    expect(created).toEqual(["Namespace", "Module"]);
  });

  test("a second pass over unchanged files writes nothing", async () => {
    const t = setup();
    t.write("m.yaml", moduleYaml("vpc") + "---\n" + moduleYaml("eks"));
    const loader = t.loader();
    await loader.start();
    const rv = t.store.resourceVersion;
    expect(await loader.rescan()).toEqual({ applied: 0, unchanged: 2, deleted: 0, keptFromElsewhere: 0, errors: [] });
    expect(t.store.resourceVersion).toBe(rv);
  });

  test("invalid documents are reported with file, document and field; the others load", async () => {
    const t = setup();
    t.write(
      "bad.yaml",
      [
        moduleYaml("good"),
        moduleYaml("typed").replace(`"1.0.0"`, "5"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: [unclosed\n",
        moduleYaml("unknown-field").replace("spec:\n", "spec:\n  colour: blue\n"),
        "apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata:\n  name: l\n",
        "- just\n- a list\n",
        moduleYaml("good"),
      ].join("---\n"),
    );
    t.write("ok.yaml", moduleYaml("fine"));
    const result = await t.loader().start();
    const bad = join(t.dir, "bad.yaml");
    expect(result.errors.map((e) => e.text)).toEqual([
      `${bad} doc 2: spec.versions[0].version: Expected string`,
      // The line and column are the file's (doc 3 starts on line 23), where the unclosed flow sequence ends.
      `${bad} doc 3: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ] (line 25, column 20)`,
      `${bad} doc 4: spec.colour: unknown field`,
      `${bad} doc 5: kind: Lease cannot be applied from a manifest; allowed kinds: Depot, Module, Provider, Version, GroupBinding, Namespace, Secret, ConfigMap`,
      `${bad} doc 6: a manifest must be a YAML mapping (an object with apiVersion, kind and metadata)`,
      `${bad} doc 7: Module team/good is already defined in ${bad} doc 1`,
    ]);
    expect(result.errors[0]).toMatchObject({ file: bad, doc: 2, field: "spec.versions[0].version", message: "Expected string" });
    expect(t.reported).toEqual(result.errors);
    expect(result.applied).toBe(2);
    expect((await t.store.list(Module)).items.map((m) => m.metadata.name)).toEqual(["fine", "good"]);
  });

  test("an invalid edit keeps the last good objects; the fix then applies and prunes", async () => {
    const t = setup();
    t.write("m.yaml", moduleYaml("vpc") + "---\n" + moduleYaml("eks"));
    const loader = t.loader();
    await loader.start();
    // Broken: the first document is now a schema error and the second vanished behind a syntax error.
    t.write("m.yaml", moduleYaml("vpc", "2.0.0").replace("provider: aws", "provider: [aws") + "---\n" + moduleYaml("eks", "3.0.0"));
    const broken = await loader.rescan();
    expect(broken.errors).toHaveLength(1);
    expect(broken.errors[0]!.text).toStartWith(`${join(t.dir, "m.yaml")} doc 1: invalid YAML`);
    expect(broken.deleted).toBe(0);
    expect((await t.store.get<ModuleObject>(Module, "team", "vpc"))?.spec.versions).toEqual([{ version: "1.0.0" }]);
    expect((await t.store.get<ModuleObject>(Module, "team", "eks"))?.spec.versions).toEqual([{ version: "3.0.0" }]);
    expect(loader.lastResult()).toBe(broken);
    // Fixed, and vpc removed on purpose.
    t.write("m.yaml", moduleYaml("eks", "3.0.0"));
    expect(await loader.rescan()).toEqual({ applied: 0, unchanged: 1, deleted: 1, keptFromElsewhere: 0, errors: [] });
    expect(await t.store.get(Module, "team", "vpc")).toBeUndefined();
  });

  test("deleting a file deletes its objects, not objects made elsewhere", async () => {
    const t = setup();
    t.write("a.yaml", moduleYaml("a"));
    t.write("b.yaml", moduleYaml("b"));
    await t.store.create({ apiVersion: "opendepot.defdev.io/v1alpha1", kind: "Module", metadata: { name: "api-made", namespace: "team" }, spec: { moduleConfig: {}, versions: [] } });
    const loader = t.loader();
    await loader.start();
    unlinkSync(join(t.dir, "a.yaml"));
    expect(await loader.rescan()).toMatchObject({ deleted: 1, unchanged: 1 });
    expect((await t.store.list(Module)).items.map((m) => m.metadata.name)).toEqual(["api-made", "b"]);
  });

  test("objects whose file went away while not running are deleted at start", async () => {
    const t = setup();
    t.write("a.yaml", moduleYaml("a"));
    const first = t.loader();
    await first.start();
    await first.stop();
    unlinkSync(join(t.dir, "a.yaml"));
    expect(await t.loader().start()).toMatchObject({ deleted: 1 });
    expect(await t.store.get(Module, "team", "a")).toBeUndefined();
  });

  test("an unreadable directory is an error and prunes nothing", async () => {
    const t = setup();
    t.write("a.yaml", moduleYaml("a"));
    await t.loader().start();
    rmSync(t.dir, { recursive: true });
    const result = await t.loader().start();
    expect(result.errors[0]!.text).toContain("cannot read the manifests directory");
    expect(result.deleted).toBe(0);
    expect(await t.store.get(Module, "team", "a")).toBeDefined();
  });

  test("updates keep status and controller-made fields outside the manifest's reach", async () => {
    const t = setup();
    t.write("a.yaml", moduleYaml("a", "1.0.0", "\n  labels:\n    tier: gold"));
    const loader = t.loader();
    await loader.start();
    const a = (await t.store.get<ModuleObject>(Module, "team", "a"))!;
    await t.store.updateStatus({ ...a, status: { synced: true, latestVersion: "v1.0.0" } });
    t.write("a.yaml", moduleYaml("a", "2.0.0"));
    expect(await loader.rescan()).toMatchObject({ applied: 1 });
    const after = (await t.store.get<ModuleObject>(Module, "team", "a"))!;
    expect(after.spec.versions).toEqual([{ version: "2.0.0" }]);
    expect(after.status).toEqual({ synced: true, latestVersion: "v1.0.0" });
    expect(after.metadata.labels).toBeUndefined();
    expect(after.metadata.uid).toBe(a.metadata.uid!);
    expect(after.metadata.generation).toBe(2);
  });

  test("a Depot's spec.depotVersions and label survive a re-applied manifest; a manifest that names them wins", async () => {
    const t = setup();
    t.write("a.yaml", moduleYaml("a", "2.1.0"));
    const loader = t.loader();
    await loader.start();
    const a = (await t.store.get<ModuleObject>(Module, "team", "a"))!;
    await t.store.update({ ...a, metadata: { ...a.metadata, labels: { [LABELS.depot]: "mirror" } }, spec: { ...a.spec, depotVersions: [{ version: "2.2.0" }] } });
    t.write("a.yaml", moduleYaml("a", "2.1.0", "\n  labels:\n    tier: gold"));
    expect(await loader.rescan()).toMatchObject({ applied: 1, errors: [] });
    const after = (await t.store.get<ModuleObject>(Module, "team", "a"))!;
    expect(after.spec.versions).toEqual([{ version: "2.1.0" }]);
    expect(after.spec.depotVersions).toEqual([{ version: "2.2.0" }]);
    expect(after.metadata.labels).toEqual({ tier: "gold", [LABELS.depot]: "mirror" });
    t.write("a.yaml", moduleYaml("a", "2.1.0").replace("  versions:", "  depotVersions: []\n  versions:"));
    await loader.rescan();
    expect((await t.store.get<ModuleObject>(Module, "team", "a"))!.spec.depotVersions).toEqual([]);
  });

  test("prunes only what this directory applied: another directory's objects stay (reported once); prune: false keeps all", async () => {
    const t = setup();
    t.write("a.yaml", moduleYaml("a"));
    await t.loader().start();
    expect((await t.store.get<ModuleObject>(Module, "team", "a"))!.metadata.annotations?.[APPLIED_FROM_DIRECTORY_ANNOTATION]).toBe(realpathSync(t.dir));
    const other = mkdtempSync(join(tmpdir(), "opendepot-manifests-other-"));
    cleanup.push(() => rmSync(other, { recursive: true, force: true }));
    writeFileSync(join(other, "b.yaml"), moduleYaml("b"));
    const warnings: string[] = [];
    const log: StoreLogger = { ...quiet, warn: (msg) => warnings.push(msg) };
    const second = new ManifestLoader(t.store, other, { log, watch: false, rescanIntervalMs: 0 });
    cleanup.push(() => second.stop());
    expect(await second.start()).toMatchObject({ applied: 1, deleted: 0, keptFromElsewhere: 1 });
    expect(await second.rescan()).toMatchObject({ deleted: 0, keptFromElsewhere: 1 });
    expect(warnings.filter((w) => w.startsWith("manifests directory changed"))).toHaveLength(1);
    expect(await t.store.get(Module, "team", "a")).toBeDefined();

    writeFileSync(join(other, "b.yaml"), "");
    const keeper = new ManifestLoader(t.store, other, { log: quiet, watch: false, rescanIntervalMs: 0, prune: false });
    cleanup.push(() => keeper.stop());
    expect(await keeper.start()).toMatchObject({ deleted: 0 });
    expect(await t.store.get(Module, "team", "b")).toBeDefined();
    expect(await second.rescan()).toMatchObject({ deleted: 1 });
    expect(await t.store.get(Module, "team", "b")).toBeUndefined();
    expect(await t.store.get(Module, "team", "a")).toBeDefined();
  });

  test("conflicting writes are retried", async () => {
    let failures = 1;
    const t = setup({}, (inner) =>
      Object.assign(Object.create(inner) as EmbeddedStore, {
        update: async (o: ModuleObject) => {
          if (failures-- > 0) throw conflict("Module", o.metadata.name);
          return inner.update(o);
        },
      }),
    );
    t.write("a.yaml", moduleYaml("a"));
    const loader = t.loader();
    await loader.start();
    t.write("a.yaml", moduleYaml("a", "2.0.0"));
    expect(await loader.rescan()).toMatchObject({ applied: 1, errors: [] });
    expect(failures).toBe(-1);
    expect((await t.store.get<ModuleObject>(Module, "team", "a"))?.spec.versions).toEqual([{ version: "2.0.0" }]);
  });

  test("edits are picked up while running through fs.watch", async () => {
    const t = setup({ watch: true, debounceMs: 20, rescanIntervalMs: 0 });
    t.write("a.yaml", moduleYaml("a"));
    const loader = t.loader();
    await loader.start();
    t.write("a.yaml", moduleYaml("a", "2.0.0"));
    t.write("new/b.yaml", moduleYaml("b"));
    await until(async () => (await t.store.get<ModuleObject>(Module, "team", "a"))?.spec.versions[0]?.version === "2.0.0" && (await t.store.get(Module, "team", "b")) !== undefined);
    unlinkSync(join(t.dir, "a.yaml"));
    await until(async () => (await t.store.get(Module, "team", "a")) === undefined);
  });

  test("edits are picked up by the periodic rescan when fs.watch is not available", async () => {
    const t = setup({ watch: false, rescanIntervalMs: 30 });
    t.write("a.yaml", moduleYaml("a"));
    const loader = t.loader();
    await loader.start();
    t.write("a.yaml", moduleYaml("a", "2.0.0") + "---\n" + "kind: Module\n");
    await until(async () => (await t.store.get<ModuleObject>(Module, "team", "a"))?.spec.versions[0]?.version === "2.0.0");
    await until(() => loader.lastResult()?.errors.length === 1);
    expect(loader.lastResult()!.errors[0]!.text).toBe(`${join(t.dir, "a.yaml")} doc 2: apiVersion: is required`);
    // Unchanged files are not re-applied or re-reported on every tick.
    const reports = t.reported.length;
    await Bun.sleep(100);
    expect(t.reported.length).toBe(reports);
  });
});
