// Where a Version's artifact lives: which storage backend (from the storageConfig the Version carries) and which key.
// Controllers write there and the server reads there, so both call this one function.
import type { VersionObject } from "../api/kinds.ts";
import { canonicalStorageConfig } from "../api/storage-aliases.ts";
import type { StorageConfig } from "../api/types.ts";
import { StorageNotAllowedError } from "./endpoint-guard.ts";
import { objectKey } from "./keys.ts";
import { StorageError, type ArtifactStorage } from "./types.ts";

export interface ArtifactLocation {
  storage: ArtifactStorage;
  key: string;
  storageConfig: StorageConfig | undefined;
}

/**
 * Builds (and caches) a backend for a storage config used by a resource of `namespace`; undefined config = the
 * process's default storage. Throws StorageNotAllowedError when the storage policy refuses the config.
 */
export type StorageFor = (config: StorageConfig | undefined, namespace?: string) => ArtifactStorage;

/** The Version's storageConfig with the blog's aliases (azureBlob, filesystem.path) folded into canonical fields. */
export function storageConfigOf(v: VersionObject): StorageConfig | undefined {
  return canonicalStorageConfig(v.spec.type === "Module" ? v.spec.moduleConfigRef?.storageConfig : v.spec.providerConfigRef?.storageConfig);
}

export function locateArtifact(v: VersionObject, storageFor: StorageFor): ArtifactLocation {
  const fileName = v.spec.fileName;
  if (!fileName) throw new StorageError("Invalid", `Version ${v.metadata.name} has no file name yet`);
  const storageConfig = storageConfigOf(v);
  const namespace = v.metadata.namespace ?? "default";
  const key = objectKey({
    prefix: storageConfig?.s3?.key,
    namespace,
    kind: v.spec.type,
    name: v.metadata.name,
    fileName,
  });
  let storage: ArtifactStorage;
  try {
    storage = storageFor(storageConfig, namespace);
  } catch (e) {
    if (e instanceof StorageNotAllowedError) throw e.under(v.spec.type === "Module" ? "spec.moduleConfigRef.storageConfig" : "spec.providerConfigRef.storageConfig");
    throw e;
  }
  return { storage, key, storageConfig };
}
