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
import type { EndpointGuard } from "./endpoint-guard.ts";
import type { StoragePolicy } from "./policy.ts";
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
  /**
   * The operator's storage policy (a getter: the policy can be reloaded). Without one every config is built as
   * given, and each client may reach only its configured endpoint.
   */
  policy?: StoragePolicy | (() => StoragePolicy);
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

function build(config: StorageConfig | undefined, o: StorageFactoryOptions, endpointGuard?: EndpointGuard): ArtifactStorage {
  if (!config) {
    if (!o.defaultRoot) throw new StorageError("Invalid", `${NO_BACKEND} (no storageConfig and no default directory)`);
    return new FilesystemStorage(o.defaultRoot);
  }
  const http = { ...o.http, ...(endpointGuard ? { endpointGuard } : {}) };
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

/**
 * Only the selected backend's fields identify an instance (presign settings and unused backends do not). Under a
 * policy the namespace is part of the key too: each client's HTTP-layer guard is that namespace's.
 */
function cacheKey(config: StorageConfig | undefined, namespace: string | undefined, policed: boolean): string {
  if (!config) return "default";
  const backend = backendOf(config);
  return JSON.stringify([backend, config[backend], ...(policed ? [namespace ?? null] : [])]);
}

/**
 * A StorageFor with its own instance cache. The policy is checked on every call, before the cache: a config
 * outside it throws StorageNotAllowedError and no client (nor credential chain) is ever built for it.
 * Construction errors are thrown on each call, never cached.
 */
export function storageFactory(options: StorageFactoryOptions = {}): StorageFor {
  const cache = new Map<string, ArtifactStorage>();
  const current = typeof options.policy === "function" ? options.policy : options.policy ? () => options.policy as StoragePolicy : undefined;
  return (config, namespace) => {
    const violation = current?.().check(namespace, config);
    if (violation) throw violation;
    const key = cacheKey(config, namespace, current !== undefined);
    let storage = cache.get(key);
    if (!storage) {
      const guard: EndpointGuard | undefined = current && config ? (url) => current().endpointGuard(namespace, config)(url) : undefined;
      storage = build(config, options, guard);
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
export function storageFor(config: StorageConfig | undefined, options: StorageFactoryOptions = {}, namespace?: string): ArtifactStorage {
  let factory: StorageFor | undefined;
  if (!options.env && !options.http && !options.policy) {
    const k = JSON.stringify([options.defaultRoot ?? null, options.azureContainer ?? null]);
    factory = defaults.get(k);
    if (!factory) defaults.set(k, (factory = storageFactory(options)));
  } else {
    factory = shared.get(options);
    if (!factory) shared.set(options, (factory = storageFactory(options)));
  }
  return factory(config, namespace);
}
