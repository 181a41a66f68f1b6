// The browse tests' world: namespace "pub" is public, "team" and "secret" are not; modules, providers, versions,
// depots, README/docs ConfigMaps and download counts as hand-fed caches, and the real app (createApp) over them.
import type { DepotObject, ModuleObject, ProviderObject, VersionObject } from "../../src/api/kinds.ts";
import { API_VERSION, LABELS, type KubeObject } from "../../src/api/meta.ts";
import { moduleVersionName, providerVersionName } from "../../src/api/naming.ts";
import { silentLogger } from "../../src/log.ts";
import { StatsSnapshot, dayOf } from "../../src/stats/types.ts";
import type { JsonResponse } from "./ports.ts";
import { StaticFeed } from "./static-feed.ts";
import { createApp } from "../../src/server/app.ts";
import { ArtifactDelivery } from "../../src/server/artifact-delivery.ts";
import { RegistryIndex } from "../../src/server/registry-index.ts";
import { UrlSigner } from "../../src/server/url-signer.ts";
import { BrowseCatalog, type ConfigMapObject } from "../../src/server/browse/catalog.ts";
import { BrowseReadModel } from "../../src/server/browse/read-model.ts";
import { type BrowseAuth } from "../../src/server/browse/viewer.ts";

export const PUBLIC = { [LABELS.public]: "true" };
export const ns = (name: string, pub = false): KubeObject => ({ apiVersion: "v1", kind: "Namespace", metadata: { name, ...(pub ? { labels: PUBLIC } : {}) } });
export const mod = (namespace: string, name: string, extra: Partial<ModuleObject["metadata"]> = {}, spec: Partial<ModuleObject["spec"]["moduleConfig"]> = {}): ModuleObject => ({
  apiVersion: API_VERSION,
  kind: "Module",
  metadata: { name, namespace, ...extra },
  spec: { moduleConfig: { provider: "aws", repoOwner: "acme", ...spec }, versions: [] },
});
export const prov = (namespace: string, name: string, labels?: Record<string, string>): ProviderObject => ({
  apiVersion: API_VERSION,
  kind: "Provider",
  metadata: { name, namespace, ...(labels ? { labels } : {}) },
  spec: { providerConfig: { namespace: "hashicorp", storageConfig: { s3: { bucket: "b", region: "eu-west-1" } } }, versions: [] },
});
export const finding = (id: string, severity: string) => ({ vulnerabilityID: id, pkgName: "p", installedVersion: "1", severity });
export function modVersion(namespace: string, module: string, version: string, status: VersionObject["status"] = { synced: true, checksum: "x", syncStatus: "Successfully synced" }): VersionObject {
  return {
    apiVersion: API_VERSION,
    kind: "Version",
    metadata: { name: moduleVersionName(module, version), namespace, labels: { [LABELS.module]: module } },
    spec: { type: "Module", version, fileName: "f.zip", moduleConfigRef: { name: module } },
    status,
  };
}
export function provVersion(namespace: string, provider: string, version: string, os: string, arch: string, status: VersionObject["status"] = { synced: true, checksum: "x" }): VersionObject {
  return {
    apiVersion: API_VERSION,
    kind: "Version",
    metadata: { name: providerVersionName(provider, version, os, arch), namespace, labels: { [LABELS.provider]: provider } },
    spec: { type: "Provider", version, operatingSystem: os, architecture: arch, fileName: "f.zip", providerConfigRef: { name: provider } },
    status,
  };
}
export const readmeCm = (namespace: string, version: string, text: string): ConfigMapObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name: `${version}-readme`, namespace, labels: { [LABELS.version]: version } },
  data: { "README.md": Buffer.from(text).toString("base64") },
});
export const docsCm = (namespace: string, version: string, json: string): ConfigMapObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name: `${version}-docs`, namespace, labels: { [LABELS.version]: version } },
  data: { "docs.json": json },
});
export const depot = (namespace: string, name: string, modules: string[], providers: string[], labels?: Record<string, string>): DepotObject => ({
  apiVersion: API_VERSION,
  kind: "Depot",
  metadata: { name, namespace, ...(labels ? { labels } : {}) },
  spec: { global: { storageConfig: { s3: { bucket: "b", region: "r" } } }, pollingIntervalMinutes: 30 },
  status: { modules, providers },
});

// The world: namespace "pub" is public; "team" and "secret" are not.
export function world() {
  const modules = new StaticFeed<ModuleObject>([
    mod("pub", "vpc", { labels: { ...PUBLIC, [LABELS.depot]: "mirror" } }),
    mod("pub", "hidden-in-pub"), // not labelled: private although its namespace is public
    mod("team", "net-core"),
    mod("team", "net-edge"),
    mod("secret", "vault-config"),
  ]);
  const providers = new StaticFeed<ProviderObject>([prov("pub", "widget", PUBLIC), prov("secret", "gadget")]);
  const versions = new StaticFeed<VersionObject>([
    modVersion("pub", "vpc", "1.0.0"),
    modVersion("pub", "vpc", "1.10.0", { synced: true, checksum: "x", sourceScan: { scannedAt: "2026-11-01T00:00:00Z", findings: [finding("AVD-1", "HIGH"), finding("AVD-1", "HIGH"), finding("AVD-2", "LOW")] } }),
    modVersion("pub", "vpc", "2.0.0-rc.1", { synced: false, syncStatus: "Failed to fetch: 404" }),
    modVersion("pub", "vpc", "2.0.0", { synced: false, syncStatus: "Syncing" }),
    modVersion("team", "net-core", "0.1.0", { synced: true, checksum: "x", archiveSizeBytes: 1000 }),
    modVersion("secret", "vault-config", "3.0.0", { synced: true, checksum: "x", archiveSizeBytes: 5000, sourceScan: { scannedAt: "2026-11-02T00:00:00Z", findings: [finding("CVE-9", "CRITICAL")] } }),
    provVersion("pub", "widget", "1.0.0", "linux", "amd64", { synced: true, checksum: "x", binaryScan: { scannedAt: "2026-11-03T00:00:00Z", findings: [finding("CVE-1", "MEDIUM")] } }),
    provVersion("pub", "widget", "1.0.0", "darwin", "arm64"),
    provVersion("secret", "gadget", "9.0.0", "linux", "amd64"),
  ]);
  const depots = new StaticFeed<DepotObject>([depot("pub", "mirror", ["vpc", "hidden-in-pub"], ["widget"], PUBLIC), depot("secret", "vault-depot", ["vault-config"], ["gadget"])]);
  const namespaces = new StaticFeed<KubeObject>([ns("pub", true), ns("team"), ns("secret")]);
  const configMaps = new StaticFeed<ConfigMapObject>([
    readmeCm("pub", moduleVersionName("vpc", "1.10.0"), "# VPC 1.10"),
    readmeCm("pub", moduleVersionName("vpc", "1.0.0"), "# VPC 1.0"),
    docsCm("pub", moduleVersionName("vpc", "1.10.0"), JSON.stringify({ inputs: [{ name: "cidr", required: true }] })),
    docsCm("pub", moduleVersionName("vpc", "1.0.0"), "{not json"),
  ]);
  const snapshot = new StatsSnapshot();
  const today = dayOf(Date.now());
  snapshot.add("pub", "module", "vpc", "1.10.0", 7, Date.parse("2026-11-20T10:00:00Z"), today);
  snapshot.add("secret", "module", "vault-config", "3.0.0", 1000, Date.parse("2026-11-21T10:00:00Z"), today);
  snapshot.add("pub", "provider", "widget", "1.0.0", 3, Date.parse("2026-11-19T10:00:00Z"), today);
  return { modules, providers, versions, depots, namespaces, configMaps, snapshot };
}

export function appFor(w: ReturnType<typeof world>, auth: BrowseAuth) {
  const catalog = new BrowseCatalog(w);
  const model = new BrowseReadModel(catalog, () => w.snapshot);
  const app = createApp({
    index: new RegistryIndex(w),
    delivery: new ArtifactDelivery(() => undefined as never, silentLogger),
    urls: new UrlSigner(new Uint8Array(32), 600),
    signer: { keyId: "0", publicKeyArmored: "", sign: async () => new Uint8Array() },
    gatekeeper: { authorize: async () => undefined },
    log: silentLogger,
    ready: () => true,
    browse: { catalog, model, auth },
  });
  return (path: string, token?: string) => app.handle(new Request(`http://localhost/opendepot/ui/v1${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {})) as Promise<JsonResponse>;
}
