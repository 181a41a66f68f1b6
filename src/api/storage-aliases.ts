// The blog's storage spellings (`storageConfig.azureBlob`, `storageConfig.filesystem.path`) are accepted as aliases
// of v0.9's canonical `azureStorage` and `fileSystem.directoryPath`, so its snippets work when copied. This is the
// one place that knows them: validation calls aliasConflicts(), every reader of a storageConfig goes through
// canonicalStorageConfig() before choosing a backend, and the Version controller reports aliasNotes().
import type { StorageConfig } from "./types.ts";
import type { FieldError } from "./validate-metadata.ts";

interface Alias {
  alias: string;
  canonical: string;
  /** Whether the config spells this alias / the canonical field. */
  usesAlias(c: StorageConfig): boolean;
  usesCanonical(c: StorageConfig): boolean;
  /** The config with the alias moved to its canonical place. */
  fold(c: StorageConfig): StorageConfig;
}

const ALIASES: Alias[] = [
  {
    alias: "azureBlob",
    canonical: "azureStorage",
    usesAlias: (c) => c.azureBlob !== undefined,
    usesCanonical: (c) => c.azureStorage !== undefined,
    fold: ({ azureBlob, ...rest }) => ({ ...rest, azureStorage: azureBlob }),
  },
  {
    alias: "filesystem.path",
    canonical: "fileSystem.directoryPath",
    usesAlias: (c) => c.filesystem !== undefined,
    usesCanonical: (c) => c.fileSystem !== undefined,
    fold: ({ filesystem, ...rest }) => ({ ...rest, fileSystem: filesystem?.path !== undefined ? { directoryPath: filesystem.path } : {} }),
  },
];

/** Both spellings of one setting at once: an error naming both fields (prefix is the path to the storageConfig). */
export function aliasConflicts(c: StorageConfig | undefined, prefix: string): FieldError[] {
  if (!c || typeof c !== "object") return [];
  return ALIASES.filter((a) => a.usesAlias(c) && a.usesCanonical(c)).map((a) => ({
    field: `${prefix}.${a.alias.split(".")[0]}`,
    message: `${prefix}.${a.alias} and ${prefix}.${a.canonical} are the same setting: give only ${prefix}.${a.canonical}`,
  }));
}

/** The config with every alias folded into its canonical field (unchanged object when none is used). */
export function canonicalStorageConfig(c: StorageConfig | undefined): StorageConfig | undefined {
  if (!c) return c;
  let out = c;
  for (const a of ALIASES) if (a.usesAlias(out) && !a.usesCanonical(out)) out = a.fold(out);
  return out;
}

/** One line per alias used, recommending the canonical spelling. */
export function aliasNotes(c: StorageConfig | undefined): string[] {
  if (!c) return [];
  return ALIASES.filter((a) => a.usesAlias(c)).map((a) => `storageConfig.${a.alias} is an alias: write storageConfig.${a.canonical} instead`);
}

/** Every storageConfig a spec of ours can carry, with its field path (for validation). */
export function storageConfigsOf(kind: string, spec: Record<string, any> | undefined): { path: string; config: StorageConfig | undefined }[] {
  if (!spec || typeof spec !== "object") return [];
  const out: { path: string; config: StorageConfig | undefined }[] = [];
  if (kind === "Module") out.push({ path: "spec.moduleConfig.storageConfig", config: spec.moduleConfig?.storageConfig });
  if (kind === "Provider") out.push({ path: "spec.providerConfig.storageConfig", config: spec.providerConfig?.storageConfig });
  if (kind === "Version") {
    out.push({ path: "spec.moduleConfigRef.storageConfig", config: spec.moduleConfigRef?.storageConfig });
    out.push({ path: "spec.providerConfigRef.storageConfig", config: spec.providerConfigRef?.storageConfig });
  }
  if (kind === "Depot") {
    out.push({ path: "spec.global.storageConfig", config: spec.global?.storageConfig });
    out.push({ path: "spec.global.moduleConfig.storageConfig", config: spec.global?.moduleConfig?.storageConfig });
    (Array.isArray(spec.moduleConfigs) ? spec.moduleConfigs : []).forEach((m: any, i: number) => out.push({ path: `spec.moduleConfigs[${i}].storageConfig`, config: m?.storageConfig }));
    (Array.isArray(spec.providerConfigs) ? spec.providerConfigs : []).forEach((p: any, i: number) => out.push({ path: `spec.providerConfigs[${i}].storageConfig`, config: p?.storageConfig }));
  }
  return out;
}
