// The data set of the standalone benchmarks: N modules × M versions (synced, checksummed) and one provider with M
// versions × 2 platforms, written straight into an embedded store file.
import { join } from "node:path";
import type { ModuleObject, ProviderObject, VersionObject } from "../src/api/kinds.ts";
import { API_VERSION, LABELS } from "../src/api/meta.ts";
import { artifactFileName, moduleVersionName, providerVersionName } from "../src/api/naming.ts";
import { EmbeddedStore } from "../src/store/embedded.ts";

const checksum = (seed: string) => new Bun.CryptoHasher("sha256").update(seed).digest("base64");

export async function populateStandalone(dataDir: string, modules: number, versions: number, ns = "bench"): Promise<void> {
  const store = EmbeddedStore.open(join(dataDir, "store.db"), { namespaces: [ns] }); // namespaces must exist before anything goes in
  for (let m = 0; m < modules; m++) {
    const name = `module-${m}`;
    await store.create<ModuleObject>({ apiVersion: API_VERSION, kind: "Module", metadata: { name, namespace: ns }, spec: { moduleConfig: { provider: "aws", repoOwner: "acme" }, versions: [] } });
    for (let v = 0; v < versions; v++) {
      const version = `1.${v}.0`;
      const created = await store.create<VersionObject>({
        apiVersion: API_VERSION,
        kind: "Version",
        metadata: { name: moduleVersionName(name, version), namespace: ns, labels: { [LABELS.module]: name, [LABELS.namespace]: ns } },
        spec: { type: "Module", version, fileName: artifactFileName(".zip"), moduleConfigRef: { name } },
      });
      await store.updateStatus({ ...created, status: { synced: true, checksum: checksum(`${name}${version}`), syncStatus: "Successfully synced version" } });
    }
  }
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
