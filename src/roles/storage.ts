// The StorageFor of a process: a Version's storageConfig picks the backend; no config means the process default
// (standalone: filesystem under the data dir). Backends are cached per distinct configuration.
import type { StorageConfig } from "../api/types.ts";
import { FilesystemStorage } from "../storage/filesystem.ts";
import type { StorageFor } from "../storage/locate.ts";
import { StorageError, type ArtifactStorage } from "../storage/types.ts";

export function storageFactory(options: { defaultRoot: string }): StorageFor {
  const cache = new Map<string, ArtifactStorage>();
  const cached = (id: string, make: () => ArtifactStorage) => {
    let s = cache.get(id);
    if (!s) cache.set(id, (s = make()));
    return s;
  };
  return (config: StorageConfig | undefined) => {
    if (!config || (!config.fileSystem && !config.s3 && !config.azureStorage && !config.gcs)) {
      return cached(`fs:${options.defaultRoot}`, () => new FilesystemStorage(options.defaultRoot));
    }
    if (config.fileSystem) {
      const dir = config.fileSystem.directoryPath || options.defaultRoot;
      return cached(`fs:${dir}`, () => new FilesystemStorage(dir));
    }
    throw new StorageError("Unsupported", "this build serves filesystem storage only");
  };
}
