// The catalog is filled at its first read, not at construction: what changed in its feeds before that read is
// there exactly as if it had followed every change, and changes after it are followed as before.
import { expect, test } from "bun:test";
import type { DepotObject, ModuleObject, ProviderObject, VersionObject } from "../../api/kinds.ts";
import { API_VERSION, LABELS, type KubeObject } from "../../api/meta.ts";
import { moduleVersionName } from "../../api/naming.ts";
import { StaticFeed } from "../../../test/support/static-feed.ts";
import { BrowseCatalog, catalogBuilds, type ConfigMapObject } from "./catalog.ts";

const mod = (name: string): ModuleObject => ({ apiVersion: API_VERSION, kind: "Module", metadata: { name, namespace: "team" }, spec: { moduleConfig: { provider: "aws", repoOwner: "acme" }, versions: [] } });
const ver = (module: string, version: string): VersionObject => ({
  apiVersion: API_VERSION,
  kind: "Version",
  metadata: { name: moduleVersionName(module, version), namespace: "team", labels: { [LABELS.module]: module } },
  spec: { type: "Module", version, fileName: "f.zip", moduleConfigRef: { name: module } },
  status: { synced: true, checksum: "x" },
});
const ns = (name: string, pub: boolean): KubeObject => ({ apiVersion: "v1", kind: "Namespace", metadata: { name, ...(pub ? { labels: { [LABELS.public]: "true" } } : {}) } });

function feeds() {
  return {
    modules: new StaticFeed<ModuleObject>([mod("vpc"), mod("dns")]),
    providers: new StaticFeed<ProviderObject>(),
    versions: new StaticFeed<VersionObject>([ver("vpc", "1.0.0"), ver("dns", "1.0.0")]),
    depots: new StaticFeed<DepotObject>(),
    namespaces: new StaticFeed<KubeObject>([ns("team", false)]),
    configMaps: new StaticFeed<ConfigMapObject>(),
  };
}
const names = (c: BrowseCatalog) => c.summaries().map((s) => `${s.name}:${s.statsVersions.map((v) => v.version).sort().join(",")}`).sort();

test("nothing is built until the first read; changes before it are reflected, changes after it followed", () => {
  const f = feeds();
  const before = catalogBuilds();
  const catalog = new BrowseCatalog(f);
  f.modules.remove(mod("dns"));
  f.versions.remove(ver("dns", "1.0.0"));
  f.versions.put(ver("vpc", "1.1.0"));
  f.namespaces.put(ns("team", true));
  expect(catalogBuilds()).toBe(before);

  expect(names(catalog)).toEqual(["vpc:1.0.0,1.1.0"]);
  expect(catalog.isNamespacePublic("team")).toBe(true);
  expect(catalogBuilds()).toBe(before + 1);

  const generation = catalog.generation;
  f.modules.put(mod("dns"));
  f.versions.put(ver("dns", "2.0.0"));
  expect(catalog.generation).toBe(generation + 2);
  expect(names(catalog)).toEqual(["dns:2.0.0", "vpc:1.0.0,1.1.0"]);
  expect(catalogBuilds()).toBe(before + 1);
  catalog.close();
});

test("the generation is a read too (memo keys built on it see the filled catalog); a closed catalog follows nothing", () => {
  const f = feeds();
  const catalog = new BrowseCatalog(f);
  const before = catalogBuilds();
  void catalog.generation;
  expect(catalogBuilds()).toBe(before + 1);
  catalog.close();
  const g = catalog.generation;
  f.modules.put(mod("new"));
  expect(catalog.generation).toBe(g);

  const unread = feeds();
  const never = new BrowseCatalog(unread);
  never.close();
  expect(names(never)).toEqual(["dns:1.0.0", "vpc:1.0.0"]);
  unread.modules.put(mod("later"));
  expect(names(never)).toEqual(["dns:1.0.0", "vpc:1.0.0"]);
});
