// The data set of the standalone benchmarks: N modules × M versions (synced, checksummed) and one provider with M
// versions × 2 platforms, written straight into an embedded store file.
import { join } from "node:path";
import type { ModuleObject, ProviderObject, VersionObject } from "../src/api/kinds.ts";
import { API_VERSION, LABELS } from "../src/api/meta.ts";
import { artifactFileName, moduleVersionName, providerVersionName } from "../src/api/naming.ts";
import { EmbeddedStore } from "../src/store/embedded.ts";

const checksum = (seed: string) => new Bun.CryptoHasher("sha256").update(seed).digest("base64");

/**
 * N modules × M synced versions in `ns` (the namespace must exist). `labelsOf` labels module m; `statusOf` adds to
 * the status of module m's version v (sizes, scan results: what the browse benches show).
 */
export async function addModules(
  store: EmbeddedStore,
  o: { ns: string; modules: number; versions: number; labelsOf?: (m: number) => Record<string, string> | undefined; statusOf?: (m: number, v: number) => Record<string, unknown> },
): Promise<void> {
  const { ns } = o;
  for (let m = 0; m < o.modules; m++) {
    const name = `module-${m}`;
    const labels = o.labelsOf?.(m);
    await store.create<ModuleObject>({ apiVersion: API_VERSION, kind: "Module", metadata: { name, namespace: ns, ...(labels ? { labels } : {}) }, spec: { moduleConfig: { provider: "aws", repoOwner: "acme" }, versions: [] } });
    for (let v = 0; v < o.versions; v++) {
      const version = `1.${v}.0`;
      const created = await store.create<VersionObject>({
        apiVersion: API_VERSION,
        kind: "Version",
        metadata: { name: moduleVersionName(name, version), namespace: ns, labels: { [LABELS.module]: name, [LABELS.namespace]: ns } },
        spec: { type: "Module", version, fileName: artifactFileName(".zip"), moduleConfigRef: { name } },
      });
      await store.updateStatus({ ...created, status: { synced: true, checksum: checksum(`${name}${version}`), syncStatus: "Successfully synced version", ...o.statusOf?.(m, v) } });
    }
  }
}

/** What the browse benches add to a module's last version: a size and a source scan with one finding. */
export const scannedLastVersion = (versions: number) => (m: number, v: number) => ({
  archiveSizeBytes: 4096,
  ...(v === versions - 1 ? { sourceScan: { scannedAt: "2026-11-01T00:00:00Z", findings: [{ vulnerabilityID: `AVD-${m}`, pkgName: "x", installedVersion: "1", severity: m % 3 ? "HIGH" : "LOW" }] } } : {}),
});

export async function populateStandalone(dataDir: string, modules: number, versions: number, ns = "bench"): Promise<void> {
  const store = EmbeddedStore.open(join(dataDir, "store.db"), { namespaces: [ns] }); // namespaces must exist before anything goes in
  await addModules(store, { ns, modules, versions });
  await store.create<ProviderObject>({ apiVersion: API_VERSION, kind: "Provider", metadata: { name: "widget", namespace: ns }, spec: { providerConfig: {}, versions: [] } });
  for (const [os, arch] of [["linux", "amd64"], ["darwin", "arm64"]] as const) {
    for (let v = 0; v < versions; v++) {
      const version = `2.${v}.0`;
      const created = await store.create<VersionObject>({
        apiVersion: API_VERSION,
        kind: "Version",
        metadata: { name: providerVersionName("widget", version, os, arch), namespace: ns, labels: { [LABELS.provider]: "widget", [LABELS.namespace]: ns } },
        spec: { type: "Provider", version, operatingSystem: os, architecture: arch, fileName: artifactFileName(".zip"), providerConfigRef: { name: "widget" } },
      });
      await store.updateStatus({ ...created, status: { synced: true, checksum: checksum(`widget${version}${os}`), protocols: ["5.0"] } });
    }
  }
  await store.close();
}
