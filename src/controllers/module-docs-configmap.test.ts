// Writing a Version's docs ConfigMap, against the embedded store: contract name and key, ownership, labels that a
// real API server would accept, no write when unchanged, and every failure turned into a condition, not a throw.
import { afterAll, describe, expect, test } from "bun:test";
import { ConfigMap, Version, type VersionObject } from "../api/kinds.ts";
import { API_VERSION, LABELS, type KubeObject } from "../api/meta.ts";
import { MODULE_DOCS_KEY, moduleDocsConfigMapName, type ModuleDocs } from "../api/module-docs.ts";
import { silentLogger } from "../log.ts";
import { EmbeddedStore } from "../store/embedded.ts";
import type { ResourceStore } from "../store/types.ts";
import { documentModuleVersion, DOCS_CONDITION } from "./module-docs-configmap.ts";

const store = EmbeddedStore.open(":memory:");
afterAll(() => store.close());

const enc = (s: string) => new TextEncoder().encode(s);
const sources = (files: Record<string, string>) => ({ files: Object.entries(files).map(([path, text]) => ({ path, content: enc(text) })), skipped: [] });

async function version(name: string): Promise<VersionObject> {
  await store.create({
    apiVersion: API_VERSION,
    kind: "Version",
    metadata: { name, namespace: "default", labels: { [LABELS.module]: "network" } },
    spec: { type: "Module", version: "1.0.0", moduleConfigRef: { name: "network", repoOwner: "acme", provider: "aws" } },
  } as VersionObject);
  return (await store.get<VersionObject>(Version, "default", name))!;
}
const configMap = (name: string) => store.get<KubeObject & { data?: Record<string, string> }>(ConfigMap, "default", name);

describe("the docs ConfigMap", () => {
  test("named <version>-docs with key docs.json, owned by the Version, written once per content", async () => {
    const v = await version("network-1-0-0");
    const condition = await documentModuleVersion(store, v, sources({ "main.tf": 'variable "a" {}\noutput "b" {\n  value = 1\n}\n' }), silentLogger);
    expect(condition).toEqual({ type: DOCS_CONDITION, status: "True", reason: "Extracted", message: "1 inputs, 1 outputs, 0 submodules, 0 examples in ConfigMap network-1-0-0-docs" });
    const cm = (await configMap("network-1-0-0-docs"))!;
    expect(cm.metadata.ownerReferences?.[0]).toMatchObject({ kind: "Version", name: v.metadata.name, uid: v.metadata.uid, controller: true });
    expect(cm.metadata.labels).toEqual({ [LABELS.module]: "network", [LABELS.namespace]: "default", [LABELS.version]: "network-1-0-0" });
    const docs = JSON.parse(cm.data![MODULE_DOCS_KEY]!) as ModuleDocs;
    expect(docs.root.inputs.map((i) => i.name)).toEqual(["a"]);

    await documentModuleVersion(store, v, sources({ "main.tf": 'variable "a" {}\noutput "b" {\n  value = 1\n}\n' }), silentLogger);
    expect((await configMap("network-1-0-0-docs"))!.metadata.resourceVersion).toBe(cm.metadata.resourceVersion);

    await documentModuleVersion(store, v, sources({ "main.tf": 'variable "renamed" {}\n' }), silentLogger);
    const updated = (await configMap("network-1-0-0-docs"))!;
    expect(updated.metadata.resourceVersion).not.toBe(cm.metadata.resourceVersion);
    expect((JSON.parse(updated.data![MODULE_DOCS_KEY]!) as ModuleDocs).root.inputs.map((i) => i.name)).toEqual(["renamed"]);
  });

  test("a Version name too long for a label value keeps the other labels (a real API server refuses > 63)", async () => {
    const name = `network-${"x".repeat(70)}`;
    const v = await version(name);
    await documentModuleVersion(store, v, sources({ "main.tf": 'variable "a" {}\n' }), silentLogger);
    expect((await configMap(`${name}-docs`))!.metadata.labels).toEqual({ [LABELS.module]: "network", [LABELS.namespace]: "default" });
  });

  test("a Version name that leaves no room for the -docs suffix gets a hash-cut name (like its README ConfigMap), distinct per Version", async () => {
    const a = await version(`n${"x".repeat(250)}`);
    const b = await version(`n${"x".repeat(249)}y`);
    for (const v of [a, b]) expect(await documentModuleVersion(store, v, sources({ "main.tf": 'variable "a" {}\n' }), silentLogger)).toMatchObject({ type: DOCS_CONDITION, status: "True" });
    const [na, nb] = [moduleDocsConfigMapName(a.metadata.name), moduleDocsConfigMapName(b.metadata.name)];
    expect(na).not.toBe(nb);
    for (const n of [na, nb]) {
      expect(n.length).toBeLessThanOrEqual(253);
      expect(n.endsWith("-docs")).toBe(true);
      expect(await store.get(ConfigMap, "default", n)).toBeDefined();
    }
  });

  test("a store that refuses the write gives DocsNotStored, not a failed sync", async () => {
    const v = await version("network-2-0-0");
    const refusing = new Proxy(store, {
      get(target, prop, receiver) {
        if (prop === "create") return async () => { throw new Error("configmaps is forbidden: User cannot create resource"); };
        const value = Reflect.get(target, prop, receiver);
        return typeof value === "function" ? value.bind(target) : value;
      },
    }) as ResourceStore;
    const condition = await documentModuleVersion(refusing, v, sources({ "main.tf": 'variable "a" {}\n' }), silentLogger);
    expect(condition).toEqual({ type: DOCS_CONDITION, status: "False", reason: "DocsNotStored", message: "ConfigMap network-2-0-0-docs: configmaps is forbidden: User cannot create resource" });
  });

  test("parse errors and limits show in the condition; the rest is still stored", async () => {
    const v = await version("network-3-0-0");
    const condition = await documentModuleVersion(store, v, { files: [{ path: "broken.tf", content: enc('variable "a" {') }, { path: "ok.tf", content: enc('variable "b" {}\n') }], skipped: [{ file: "big.tf", message: "too big" }] }, silentLogger);
    expect(condition.status).toBe("False");
    expect(condition.reason).toBe("ParseErrors");
    expect(condition.message).toStartWith("1 file(s) not documented: broken.tf: broken.tf:1,14-15: Unclosed configuration block;");
    expect((JSON.parse((await configMap("network-3-0-0-docs"))!.data![MODULE_DOCS_KEY]!) as ModuleDocs).root.inputs.map((i) => i.name)).toEqual(["b"]);

    const truncated = await documentModuleVersion(store, v, { files: [{ path: "ok.tf", content: enc('variable "b" {}\n') }], skipped: [{ file: "big.tf", message: "too big" }] }, silentLogger);
    expect(truncated).toMatchObject({ status: "True", reason: "Truncated" });
    expect(truncated.message).toStartWith("Documentation is partial: 1 file(s) skipped, first big.tf: too big");
  });
});
