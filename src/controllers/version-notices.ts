// What the Version controller records besides the artifact: when a yank was first observed (the --yank-grace clock
// of the server starts there) and whether the storageConfig uses one of the blog's alias spellings.
import { Version, type VersionObject } from "../api/kinds.ts";
import { aliasNotes } from "../api/storage-aliases.ts";
import type { Logger } from "../log.ts";
import type { ResourceStore } from "../store/types.ts";
import { setConditions } from "./conditions.ts";
import { patchStatusIfChanged } from "./writes.ts";

export const STORAGE_ALIAS_CONDITION = "StorageConfigAliases";

const rawStorageConfig = (v: VersionObject) => (v.spec.type === "Module" ? v.spec.moduleConfigRef?.storageConfig : v.spec.providerConfigRef?.storageConfig);
const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, "Z");

/** Records status.yankedAt the first time spec.yanked is seen (and clears it once un-yanked); reports aliases. */
/** Returns whether it wrote (the caller then re-reads the Version). */
export async function recordNotices(store: ResourceStore, v: VersionObject, log: Logger): Promise<boolean> {
  const status: Record<string, unknown> = {};
  if (v.spec.yanked && !v.status?.yankedAt) {
    status.yankedAt = now();
    log.info("version yanked", { reason: v.spec.yanked.reason });
  } else if (!v.spec.yanked && v.status?.yankedAt) status.yankedAt = null;

  const notes = aliasNotes(rawStorageConfig(v));
  const previous = v.status?.conditions?.find((c) => c.type === STORAGE_ALIAS_CONDITION);
  if (notes.length || previous) {
    const message = notes.length ? notes.join("; ") : "storageConfig uses the canonical field names";
    if (notes.length && previous?.message !== message) log.warn("storageConfig uses an alias spelling", { recommendation: message });
    const next = setConditions(v.status?.conditions, [{ type: STORAGE_ALIAS_CONDITION, status: notes.length ? "True" : "False", reason: notes.length ? "AliasUsed" : "Canonical", message }], v.metadata.generation);
    const same = previous && previous.message === message && previous.observedGeneration === v.metadata.generation;
    if (!same) status.conditions = next;
  }
  if (!Object.keys(status).length) return false;
  await patchStatusIfChanged(store, Version, v, status);
  return true;
}
