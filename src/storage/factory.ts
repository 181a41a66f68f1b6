// Chooses and builds the ArtifactStorage for a StorageConfig, with v0.9's precedence (fileSystem → s3 →
// azureStorage → gcs). Instances are cached per backend configuration: credential caches, keep-alive connections
// and the Azure container check are then shared by every Version that uses the same config.
import type { StorageConfig } from "../api/types.ts";
import { AzureBlobStorage } from "./azure.ts";
import type { Env } from "./credentials/http.ts";
import { FilesystemStorage } from "./filesystem.ts";
import { GcsStorage } from "./gcs.ts";
import type { HttpPolicy } from "./http.ts";
import { normalizePrefix } from "./keys.ts";
import type { StorageFor } from "./locate.ts";
import { S3Storage } from "./s3.ts";
import { StorageError, type ArtifactStorage } from "./types.ts";

export interface StorageFactoryOptions {
  /** Filesystem root for an absent config (standalone) and for `fileSystem` without `directoryPath`. */
  defaultRoot?: string;
  /** Environment for credential chains (process.env by default). */
  env?: Env;
  /** Timeouts, retries, fetch (tests). */
  http?: HttpPolicy;
  /** Azure container holding the artifacts of every Azure config (default "opendepot"). */
  azureContainer?: string;
}

export type BackendName = "fileSystem" | "s3" | "azureStorage" | "gcs";

export const NO_BACKEND = "at least one StorageConfig backend must be configured";

/** The backend a config selects, by v0.9's precedence. */
export function backendOf(config: StorageConfig): BackendName {
  if (config.fileSystem) return "fileSystem";
  if (config.s3) return "s3";
  if (config.azureStorage) return "azureStorage";
  if (config.gcs) return "gcs";
  throw new StorageError("Invalid", NO_BACKEND);
}

/** Key prefix for objects of this config (S3 `key`; none for the other backends). */
export function prefixFor(config: StorageConfig | undefined): string {
  return config && !config.fileSystem && config.s3 ? normalizePrefix(config.s3.key) : "";
}

function build(config: StorageConfig | undefined, o: StorageFactoryOptions): ArtifactStorage {
  if (!config) {
    if (!o.defaultRoot) throw new StorageError("Invalid", `${NO_BACKEND} (no storageConfig and no default directory)`);
    return new FilesystemStorage(o.defaultRoot);
  }
  const http = o.http ?? {};
  switch (backendOf(config)) {
    case "fileSystem": {
      const root = config.fileSystem?.directoryPath || o.defaultRoot;
      if (!root) throw new StorageError("Invalid", "fileSystem.directoryPath is required (no default directory configured)");
      return new FilesystemStorage(root);
    }
    case "s3": {
      const s3 = config.s3!;
      return new S3Storage({ ...http, bucket: s3.bucket, region: s3.region, endpoint: s3.endpoint, forcePathStyle: s3.forcePathStyle, env: o.env });
    }
    case "azureStorage": {
      const az = config.azureStorage!;
      return new AzureBlobStorage({ ...http, accountUrl: az.accountUrl, accountName: az.accountName, container: o.azureContainer, env: o.env });
    }
    case "gcs": {
      const gcs = config.gcs!;
      return new GcsStorage({ ...http, bucket: gcs.bucket, endpoint: gcs.endpoint, env: o.env });
    }
  }
}

/** Only the selected backend's fields identify an instance (presign settings and unused backends do not). */
function cacheKey(config: StorageConfig | undefined): string {
  if (!config) return "default";
  const backend = backendOf(config);
  return JSON.stringify([backend, config[backend]]);
}

/** A StorageFor with its own instance cache. Construction errors are thrown on each call, never cached. */
export function storageFactory(options: StorageFactoryOptions = {}): StorageFor {
  const cache = new Map<string, ArtifactStorage>();
  return (config) => {
    const key = cacheKey(config);
    let storage = cache.get(key);
    if (!storage) {
      storage = build(config, options);
      cache.set(key, storage);
    }
    return storage;
  };
}

const shared = new WeakMap<object, StorageFor>();
const defaults = new Map<string, StorageFor>();

/**
 * The storage for a config, cached per (config, options): callers that pass the same options object, or options
 * that only name a default root, share instances.
 */
export function storageFor(config: StorageConfig | undefined, options: StorageFactoryOptions = {}): ArtifactStorage {
  let factory: StorageFor | undefined;
  if (!options.env && !options.http) {
    const k = JSON.stringify([options.defaultRoot ?? null, options.azureContainer ?? null]);
    factory = defaults.get(k);
    if (!factory) defaults.set(k, (factory = storageFactory(options)));
  } else {
    factory = shared.get(options);
    if (!factory) shared.set(options, (factory = storageFactory(options)));
  }
  return factory(config);
}
