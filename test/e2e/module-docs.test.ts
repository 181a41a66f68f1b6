// Module documentation through the controllers: Modules served by the fake GitHub, synced by the real controllers
// into an embedded store, the docs read back from ConfigMap `<version>-docs` — and a module with a file that does
// not parse still syncs, serves, and says which file in its DocsExtracted condition.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ConfigMap, Module, Version, type ModuleObject, type VersionObject } from "../../src/api/kinds.ts";
import { API_VERSION, LABELS, type KubeObject } from "../../src/api/meta.ts";
import { MODULE_DOCS_KEY, type ModuleDocs } from "../../src/api/module-docs.ts";
import { extractModuleDocsFromEntries } from "../../src/artifacts/module-docs.ts";
import { archiveEntries, moduleDocsFixtureFiles, moduleDocsFixtureTree } from "../../fixtures/module-docs/index.ts";
import { startSampleUpstreams, type SampleUpstreams } from "../../fixtures/upstream-fakes.ts";
import { startHarness, type Harness } from "../support/registry-harness.ts";
import { waitFor } from "../support/ports.ts";

let upstreams: SampleUpstreams;
let h: Harness;

type ConfigMapObject = KubeObject & { data?: Record<string, string> };

const moduleObject = (name: string, version: string, fileFormat: "zip" | "tar.gz"): ModuleObject => ({
  apiVersion: API_VERSION,
  kind: "Module",
  metadata: { name, namespace: "default" },
  spec: { moduleConfig: { repoOwner: "acme", provider: "aws", fileFormat }, versions: [{ version }] },
});

const docsConfigMap = (version: string) => h.store.get<ConfigMapObject>(ConfigMap, "default", `${version}-docs`);
const docsOf = async (version: string) => JSON.parse((await docsConfigMap(version))!.data![MODULE_DOCS_KEY]!) as ModuleDocs;
const condition = (v: VersionObject, type: string) => v.status?.conditions?.find((c) => c.type === type);
const synced = (v: VersionObject) => v.status?.synced === true;

beforeAll(async () => {
  upstreams = await startSampleUpstreams();
  upstreams.github.addRepo("acme", "terraform-aws-vpc-full", { releases: ["v5.1.0"], files: () => moduleDocsFixtureTree("terraform-aws-vpc") });
  upstreams.github.addRepo("acme", "terraform-azurerm-network", { releases: ["v2.0.0"], files: () => moduleDocsFixtureTree("terraform-azurerm-network") });
  h = await startHarness({ env: upstreams.env });
  await h.store.create(moduleObject("terraform-aws-vpc-full", "v5.1.0", "tar.gz"));
  await h.store.create(moduleObject("terraform-azurerm-network", "v2.0.0", "zip"));
});

afterAll(async () => {
  await h?.stop();
  await upstreams?.stop();
});

describe("module documentation at sync time", () => {
  test("a module like terraform-aws-modules/vpc: its docs land in <version>-docs, owned by the Version", async () => {
    const v = await h.until<VersionObject>(Version, "terraform-aws-vpc-full-5-1-0", (o) => synced(o) && !!condition(o, "DocsExtracted"), 60_000);
    const cm = (await docsConfigMap(v.metadata.name))!;
    expect(cm.metadata.ownerReferences).toEqual([{ apiVersion: API_VERSION, kind: "Version", name: v.metadata.name, uid: v.metadata.uid!, controller: true, blockOwnerDeletion: true }]);
    expect(cm.metadata.labels?.[LABELS.version]).toBe(v.metadata.name);
    expect(Object.keys(cm.data!)).toEqual([MODULE_DOCS_KEY]);

    // Exactly what the extractor makes of the fixture's files: the repackaged archive held the same tree.
    const expected = await extractModuleDocsFromEntries(archiveEntries(moduleDocsFixtureFiles("terraform-aws-vpc")));
    expect(cm.data![MODULE_DOCS_KEY]).toBe(JSON.stringify(expected));
    const docs = await docsOf(v.metadata.name);
    expect(docs.root.inputs.find((i) => i.name === "vpn_preshared_key")).toMatchObject({ sensitive: true, required: false });
    expect(docs.submodules.map((m) => m.path)).toEqual(["modules/flow-log", "modules/vpc-endpoints"]);
    expect(docs.examples.map((m) => m.path)).toEqual(["examples/complete", "examples/ipv6-only", "examples/simple"]);
    expect(docs.errors).toEqual([]);

    expect(condition(v, "DocsExtracted")).toMatchObject({ status: "True", reason: "Extracted", message: "38 inputs, 12 outputs, 2 submodules, 3 examples in ConfigMap terraform-aws-vpc-full-5-1-0-docs" });
    expect(condition(v, "Ready")?.status).toBe("True");
  }, 90_000);

  test("a file with a syntax error: the version still syncs and serves; the condition names the file and the error", async () => {
    const v = await h.until<VersionObject>(Version, "terraform-azurerm-network-2-0-0", (o) => synced(o) && !!condition(o, "DocsExtracted"), 60_000);
    expect(condition(v, "Ready")).toMatchObject({ status: "True", reason: "Synced" });
    expect(condition(v, "Synced")).toMatchObject({ status: "True", reason: "Synced" });
    const docsCondition = condition(v, "DocsExtracted")!;
    expect(docsCondition.status).toBe("False");
    expect(docsCondition.reason).toBe("ParseErrors");
    expect(docsCondition.message).toContain("3 file(s) not documented: modules/subnet/delegation.tf.json: modules/subnet/delegation.tf.json: invalid JSON:");
    expect(docsCondition.message).toContain("network_security.tf: network_security.tf:15,18-16,1: Invalid expression; Expected the start of an expression");
    expect(docsCondition.message).toContain('variables.tf: duplicate variable "tags"');

    const docs = await docsOf(v.metadata.name);
    expect(docs.errors.map((e) => e.file)).toEqual(["modules/subnet/delegation.tf.json", "network_security.tf", "variables.tf"]);
    expect(docs.root.inputs.map((i) => i.name)).toContain("resource_group_name");
    expect(docs.submodules[0]?.inputs.map((i) => i.name)).toEqual(["name", "service_endpoints"]);

    // Served: the registry answers the download and the archive's bytes are the published checksum.
    const download = await fetch(`${h.url}/opendepot/modules/v1/default/terraform-azurerm-network/aws/2.0.0/download`);
    expect(download.status).toBe(204);
    const archive = await fetch(new URL(download.headers.get("x-terraform-get")!, h.url));
    expect(archive.status).toBe(200);
    const bytes = new Uint8Array(await archive.arrayBuffer());
    expect(new Bun.CryptoHasher("sha256").update(bytes).digest("base64")).toBe(v.status!.checksum!);
    const module = await h.until<ModuleObject>(Module, "terraform-azurerm-network", (m) => m.status?.synced === true);
    expect(module.status?.conditions?.find((c) => c.type === "Ready")?.status).toBe("True");
  }, 90_000);

  test("a re-sync with the same content does not rewrite the ConfigMap; changed content does", async () => {
    const name = "terraform-aws-vpc-full-5-1-0";
    const before = (await docsConfigMap(name))!;
    const served = upstreams.github.stats.archivesServed;
    await h.store.patch(Version, "default", name, { type: "merge", patch: { spec: { forceSync: true } } });
    await h.until<VersionObject>(Version, name, (v) => v.spec.forceSync !== true && upstreams.github.stats.archivesServed > served);
    expect((await docsConfigMap(name))!.metadata.resourceVersion).toBe(before.metadata.resourceVersion);

    const files = moduleDocsFixtureTree("terraform-aws-vpc");
    files["variables-extra.tf"] = 'variable "added_upstream" {\n  description = "New in a re-tagged release"\n  type        = number\n  default     = 7\n}\n';
    upstreams.github.setTagContent("acme", "terraform-aws-vpc-full", "v5.1.0", files);
    await h.store.patch(Version, "default", name, { type: "merge", patch: { spec: { forceSync: true } } });
    const docs = await waitFor(async () => {
      const d = await docsOf(name);
      return d.root.inputs.some((i) => i.name === "added_upstream") ? d : undefined;
    }, 60_000, "docs with the new input");
    expect(docs.root.inputs.find((i) => i.name === "added_upstream")).toEqual({ name: "added_upstream", type: "number", description: "New in a re-tagged release", default: 7, required: false, sensitive: false, hasValidation: false, file: "variables-extra.tf" });
    const v = await h.until<VersionObject>(Version, name, (o) => condition(o, "DocsExtracted")?.message.startsWith("39 inputs") === true);
    expect(condition(v, "DocsExtracted")?.status).toBe("True");
  }, 120_000);

  test("a Version published before docs existed is documented once, from its stored archive, without a new fetch", async () => {
    const name = "terraform-aws-vpc-full-5-1-0";
    // Settled first: the reconcile after the last forceSync reset writes its status (conditions included) last.
    await h.until<VersionObject>(Version, name, (o) => o.spec.forceSync !== true && o.status?.observedGeneration === o.metadata.generation);
    const expected = (await docsConfigMap(name))!.data![MODULE_DOCS_KEY];
    const served = upstreams.github.stats.archivesServed;
    // What an upgrade finds: a synced Version with no docs ConfigMap and no DocsExtracted condition.
    await h.store.delete(ConfigMap, "default", `${name}-docs`);
    const v = (await h.get<VersionObject>(Version, name))!;
    const conditions = v.status!.conditions!.filter((c) => c.type !== "DocsExtracted");
    await h.store.patch(Version, "default", name, { type: "merge", patch: { status: { conditions } } }, { subresource: "status" });

    const again = await h.until<VersionObject>(Version, name, (o) => !!condition(o, "DocsExtracted"), 30_000);
    expect(condition(again, "DocsExtracted")).toMatchObject({ status: "True", reason: "Extracted" });
    expect((await docsConfigMap(name))?.data?.[MODULE_DOCS_KEY]).toBe(expected);
    expect(upstreams.github.stats.archivesServed).toBe(served);
    expect(again.status?.checksum).toBe(v.status!.checksum!);
  }, 60_000);

  test("deleting the module deletes its Version and the docs ConfigMap with it", async () => {
    await h.store.delete(Module, "default", "terraform-azurerm-network");
    await waitFor(async () => !(await h.get(Version, "terraform-azurerm-network-2-0-0")), 30_000, "Version deleted");
    await waitFor(async () => !(await docsConfigMap("terraform-azurerm-network-2-0-0")), 30_000, "docs ConfigMap deleted");
    expect(await h.store.get(ConfigMap, "default", "terraform-azurerm-network-2-0-0-readme")).toBeUndefined();
  }, 60_000);
});
