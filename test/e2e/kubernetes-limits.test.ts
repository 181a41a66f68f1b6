// What only a real API server's limits reveal, end to end against the embedded store (which refuses what the API
// server refuses: label values over 63 characters, names over 253, ConfigMaps over 1 MiB, missing namespaces):
// owner names of 63, 64, 200 and 253 characters sync and are served, or are refused with a condition, and never
// loop on refused creates; a 900 KiB README syncs and can be read back.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ConfigMap, Depot, Module, Provider, Version, type DepotObject, type ModuleObject, type ProviderObject, type VersionObject } from "../../src/api/kinds.ts";
import { API_VERSION, LABELS, type KubeObject } from "../../src/api/meta.ts";
import { isLabelValue, isObjectName, moduleVersionName, providerVersionName } from "../../src/api/naming.ts";
import { readmeFromConfigMap } from "../../src/api/readme-configmap.ts";
import type { ResourceStore } from "../../src/store/types.ts";
import { sampleModuleFiles, startSampleUpstreams, type SampleUpstreams } from "../../fixtures/upstream-fakes.ts";
import { startHarness, type Harness } from "../support/registry-harness.ts";
import { waitFor } from "../support/ports.ts";

let upstreams: SampleUpstreams;
let h: Harness;
/** Create attempts the controllers made, by kind/name (successful or not). */
const creates = new Map<string, number>();

function countingCreates(store: ResourceStore): ResourceStore {
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === "create") {
        return (obj: KubeObject, ...rest: unknown[]) => {
          const key = `${obj.kind}/${obj.metadata.name}`;
          creates.set(key, (creates.get(key) ?? 0) + 1);
          return (target.create as (...args: unknown[]) => Promise<KubeObject>)(obj, ...rest);
        };
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}

/** A valid object name of exactly `length` characters (no dots), distinct per prefix. */
const nameOf = (prefix: string, length: number) => {
  const body = `${prefix}-${"abcdefghij".repeat(30)}`.slice(0, length - 1);
  return `${body.replace(/-$/, "x")}z`;
};
const LENGTHS = [63, 64, 200, 253];
const README = `# Big module\n\n${Array.from({ length: 15_000 }, (_, i) => `- line ${i}: ${"lorem ipsum dolor sit amet ".repeat(2)}`).join("\n")}\n`;

const moduleObject = (name: string, version = "1.2.0", ns = "default"): ModuleObject => ({
  apiVersion: API_VERSION,
  kind: "Module",
  metadata: { name, namespace: ns },
  spec: { moduleConfig: { name: "terraform-aws-vpc", repoOwner: "acme", provider: "aws", fileFormat: "zip" }, versions: [{ version }] },
});
const providerObject = (name: string): ProviderObject => ({
  apiVersion: API_VERSION,
  kind: "Provider",
  metadata: { name, namespace: "default" },
  spec: { providerConfig: { name: "aws", operatingSystems: ["linux"], architectures: ["amd64"] }, versions: [{ version: "5.80.0" }] },
});
/** Wait for `count` more successful reconciles of one object (the harness resyncs every second). */
async function moreReconciles(controller: string, name: string, count: number) {
  const seen = () => h.logs.filter((l) => l.msg === "reconciled" && l.controller === controller && l.name === name).length;
  const start = seen();
  await waitFor(() => seen() >= start + count || undefined, 20_000, `${count} more reconciles of ${name}`);
}
const synced = (o: { status?: { synced?: boolean } }) => o.status?.synced === true;
const ready = (o: ModuleObject | ProviderObject | DepotObject) => o.status?.conditions?.find((c) => c.type === "Ready");

beforeAll(async () => {
  upstreams = await startSampleUpstreams();
  upstreams.github.addRepo("acme", "terraform-big-readme", { releases: ["v1.0.0"], files: (tag) => ({ ...sampleModuleFiles(tag), "README.md": README }) });
  h = await startHarness({ env: upstreams.env, namespaces: LENGTHS.map((n) => `depot-${n}`), controllerStore: countingCreates });
});

afterAll(async () => {
  await h?.stop();
  await upstreams?.stop();
});

describe("owner names up to 253 characters", () => {
  test.each(LENGTHS)("a Module named with %i characters syncs and is served, with one Version create", async (length) => {
    const name = nameOf(`mod${length}`, length);
    expect(name).toHaveLength(length);
    await h.store.create(moduleObject(name));
    const module = await h.until<ModuleObject>(Module, name, synced, 60_000);
    expect(ready(module)?.status).toBe("True");
    const versionName = moduleVersionName(name, "1.2.0");
    expect(isObjectName(versionName)).toBe(true);
    const v = (await h.get<VersionObject>(Version, versionName))!;
    expect(isLabelValue(v.metadata.labels![LABELS.module]!)).toBe(true);
    // The full name survives where the label had to be cut.
    if (length > 63) expect(v.metadata.annotations?.[LABELS.module]).toBe(name);
    const versions = await fetch(`${h.url}/opendepot/modules/v1/default/${name}/aws/versions`).then((r) => r.json() as Promise<any>);
    expect(versions.modules[0].versions.map((x: { version: string }) => x.version)).toEqual(["1.2.0"]);
    const download = await fetch(`${h.url}/opendepot/modules/v1/default/${name}/aws/1.2.0/download`);
    expect(download.status).toBe(204);
    const readmeName = v.status!.readmeConfigMapRef!.name;
    expect(isObjectName(readmeName)).toBe(true);
    expect(readmeFromConfigMap(await h.store.get(ConfigMap, "default", readmeName))?.content).toContain("terraform-aws-vpc (v1.2.0)");
    expect(creates.get(`Version/${versionName}`)).toBe(1);
  }, 90_000);

  test.each(LENGTHS)("a Provider named with %i characters syncs and is served, with one Version create", async (length) => {
    const name = nameOf(`prov${length}`, length);
    await h.store.create(providerObject(name));
    const provider = await h.until<ProviderObject>(Provider, name, synced, 60_000);
    expect(ready(provider)?.status).toBe("True");
    const versionName = providerVersionName(name, "5.80.0", "linux", "amd64");
    expect(isObjectName(versionName)).toBe(true);
    const versions = await fetch(`${h.url}/opendepot/providers/v1/default/${name}/versions`).then((r) => r.json() as Promise<any>);
    expect(versions.versions.map((x: { version: string }) => x.version)).toEqual(["5.80.0"]);
    const download = await fetch(`${h.url}/opendepot/providers/v1/default/${name}/5.80.0/download/linux/amd64`);
    expect(download.status).toBe(200);
    expect(creates.get(`Version/${versionName}`)).toBe(1);
  }, 90_000);

  test.each(LENGTHS)("a Depot named with %i characters manages its Module (label cut, full name annotated)", async (length) => {
    const name = nameOf(`depot${length}`, length);
    const ns = `depot-${length}`;
    const depot: DepotObject = {
      apiVersion: API_VERSION,
      kind: "Depot",
      metadata: { name, namespace: ns },
      spec: { global: { storageConfig: { fileSystem: {} }, moduleConfig: { fileFormat: "zip" } }, moduleConfigs: [{ name: "terraform-aws-s3", provider: "aws", repoOwner: "acme", versionConstraints: "~> 1.0" }] },
    } as DepotObject;
    await h.store.create(depot);
    const m = await waitFor(async () => {
      const x = await h.store.get<ModuleObject>(Module, ns, "terraform-aws-s3");
      return x && synced(x) ? x : undefined;
    }, 60_000, "the Depot's Module synced");
    expect(isLabelValue(m.metadata.labels![LABELS.depot]!)).toBe(true);
    if (length > 63) expect(m.metadata.annotations?.[LABELS.depot]).toBe(name);
    const d = await waitFor(async () => {
      const x = await h.store.get<DepotObject>(Depot, ns, name);
      return x && ready(x)?.status === "True" ? x : undefined;
    }, 30_000, "Depot ready");
    expect(d.status?.modules).toEqual(["terraform-aws-s3"]);
    // managedFields: the Depot's writes (spec.versions) are its own, the controllers' status theirs.
    const managed = (m.metadata.managedFields ?? []) as { manager: string; subresource?: string; fieldsV1: Record<string, any> }[];
    expect(managed.find((e) => e.manager === "opendepot-depot" && !e.subresource)?.fieldsV1["f:spec"]?.["f:versions"]).toEqual({});
    expect(managed.some((e) => e.manager === "opendepot-controller" && e.subresource === "status")).toBe(true);
    expect(creates.get("Module/terraform-aws-s3")).toBeGreaterThanOrEqual(1);
  }, 90_000);
});

describe("names the registry can never serve are refused with a condition, once", () => {
  test("a dotted Module name: InvalidSpec and no Version create, also after resyncs", async () => {
    const name = "has.dots";
    await h.store.create(moduleObject(name));
    const m = await h.until<ModuleObject>(Module, name, (x) => ready(x)?.reason === "InvalidSpec");
    expect(ready(m)?.message).toContain("'.'");
    expect(m.status?.synced).toBe(false);
    const rv = m.metadata.resourceVersion;
    // The harness resyncs every second: three more reconciles later nothing was attempted or rewritten.
    await moreReconciles("module", name, 3);
    expect([...creates.keys()].filter((k) => k.startsWith(`Version/${name}`))).toEqual([]);
    expect((await h.get<ModuleObject>(Module, name))!.metadata.resourceVersion).toBe(rv);
  }, 30_000);

  test("a version whose Version name the API refuses: InvalidSpec, one create attempt, no retry loop", async () => {
    const name = "build-metadata";
    await h.store.create(moduleObject(name, "1.2.0+build.7"));
    const m = await h.until<ModuleObject>(Module, name, (x) => ready(x)?.reason === "InvalidSpec");
    expect(ready(m)?.message).toContain("is invalid");
    await moreReconciles("module", name, 3);
    expect(creates.get(`Version/${moduleVersionName(name, "1.2.0+build.7")}`)).toBe(1);
  }, 30_000);
});

describe("a 900 KiB README", () => {
  test("the Version syncs and the README is stored compressed within the ConfigMap limit and reads back whole", async () => {
    expect(Buffer.byteLength(README)).toBeGreaterThan(900 * 1024);
    const mod = moduleObject("terraform-big-readme", "1.0.0");
    mod.spec.moduleConfig.name = "terraform-big-readme";
    await h.store.create(mod);
    await h.until<ModuleObject>(Module, "terraform-big-readme", synced, 60_000);
    const v = (await h.get<VersionObject>(Version, "terraform-big-readme-1-0-0"))!;
    expect(v.status?.synced).toBe(true);
    const cm = await h.store.get<KubeObject>(ConfigMap, "default", v.status!.readmeConfigMapRef!.name);
    expect(readmeFromConfigMap(cm as never)?.content).toBe(README);
  }, 90_000);
});
