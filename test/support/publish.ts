// Publishes artifacts the way a controller does, through the store and storage interfaces: upload the archive,
// then create the Version and mark it synced with the checksum of the stored bytes.
import { zipSync, type Zippable } from "fflate";
import type { VersionObject } from "../../src/api/kinds.ts";
import { API_VERSION, LABELS } from "../../src/api/meta.ts";
import { artifactFileName, moduleVersionName, providerVersionName } from "../../src/api/naming.ts";
import type { StorageConfig } from "../../src/api/types.ts";
import { hashProviderZip } from "../../src/artifacts/h1.ts";
import type { ResourceStore } from "../../src/store/types.ts";
import { locateArtifact, type StorageFor } from "../../src/storage/locate.ts";

const FIXED_MTIME = new Date("1980-01-01T00:00:00Z");

export function zipFiles(files: Record<string, string | { content: string | Uint8Array; mode?: number }>): Uint8Array {
  const tree: Zippable = {};
  for (const [path, f] of Object.entries(files)) {
    const content = typeof f === "string" ? f : f.content;
    const data = typeof content === "string" ? new TextEncoder().encode(content) : content;
    const mode = typeof f === "string" ? 0o644 : (f.mode ?? 0o644);
    // os 3 (Unix) + external attributes carry the file mode, which Terraform keeps for provider binaries.
    tree[path] = [data, { mtime: FIXED_MTIME, os: 3, attrs: ((0o100000 | mode) << 16) >>> 0 }];
  }
  return zipSync(tree, { level: 6 });
}

async function publish(store: ResourceStore, storageFor: StorageFor, version: VersionObject, bytes: Uint8Array, extraStatus: Record<string, unknown> = {}) {
  const created = await store.create<VersionObject>(version);
  const { storage, key } = locateArtifact(created, storageFor);
  const put = await storage.put(key, new Blob([bytes]).stream(), { size: bytes.length });
  return store.updateStatus<VersionObject>({
    ...created,
    status: { synced: true, syncStatus: "Successfully synced version", checksum: put.sha256, archiveSizeBytes: put.size, ...extraStatus },
  });
}

export async function publishModule(
  store: ResourceStore,
  storageFor: StorageFor,
  m: { namespace: string; module: string; version: string; files: Record<string, string>; storageConfig?: StorageConfig },
) {
  const version: VersionObject = {
    apiVersion: API_VERSION,
    kind: "Version",
    metadata: { name: moduleVersionName(m.module, m.version), namespace: m.namespace, labels: { [LABELS.module]: m.module, [LABELS.namespace]: m.namespace } },
    spec: { type: "Module", version: m.version, fileName: artifactFileName(".zip"), moduleConfigRef: { name: m.module, fileFormat: "zip", storageConfig: m.storageConfig } },
  };
  return publish(store, storageFor, version, zipFiles(m.files));
}

export async function publishProvider(
  store: ResourceStore,
  storageFor: StorageFor,
  p: { namespace: string; provider: string; version: string; os: string; arch: string; binary: string; protocols?: string[]; storageConfig?: StorageConfig },
) {
  const version: VersionObject = {
    apiVersion: API_VERSION,
    kind: "Version",
    metadata: {
      name: providerVersionName(p.provider, p.version, p.os, p.arch),
      namespace: p.namespace,
      labels: { [LABELS.provider]: p.provider, [LABELS.namespace]: p.namespace, [LABELS.providerOS]: p.os, [LABELS.providerArch]: p.arch },
    },
    spec: { type: "Provider", version: p.version, operatingSystem: p.os, architecture: p.arch, fileName: artifactFileName(".zip"), providerConfigRef: { name: p.provider, storageConfig: p.storageConfig } },
  };
  const zip = zipFiles({ [`terraform-provider-${p.provider}_v${p.version}`]: { content: p.binary, mode: 0o755 } });
  // The package hash, as the provider controller records it (status.h1) from the upstream zip.
  const { h1 } = await hashProviderZip(new Blob([zip]).stream());
  return publish(store, storageFor, version, zip, { protocols: p.protocols ?? ["5.0"], h1 });
}
