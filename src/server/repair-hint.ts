// When the server refuses an artifact (missing, or its bytes no longer match status.checksum), it tells the
// controllers at once instead of waiting for the next resync (up to 10 minutes): it stamps an annotation on the
// Version, whose watch event wakes the Version controller, which restores the object. The store is where the server
// and the controllers meet (neither imports the other). Bounded: one stamp per Version a minute, a bounded table;
// a failure to stamp (e.g. no patch permission) is logged at debug and the resync repairs as before.
import { Version, type VersionObject } from "../api/kinds.ts";
import type { Logger } from "../log.ts";
import type { ResourceStore } from "../store/types.ts";

export const REPAIR_ANNOTATION = "opendepot.defdev.io/repair-requested";

export type RepairHint = (version: VersionObject, reason: "missing" | "corrupt") => void;

export function storeRepairHint(store: ResourceStore, log: Logger, options: { intervalMs?: number; now?: () => number } = {}): RepairHint {
  const last = new Map<string, number>();
  const interval = options.intervalMs ?? 60_000;
  const now = options.now ?? Date.now;
  return (version, reason) => {
    const key = `${version.metadata.namespace ?? ""}/${version.metadata.name}`;
    const t = now();
    if ((last.get(key) ?? -Infinity) > t - interval) return;
    if (last.size >= 10_000) last.clear();
    last.set(key, t);
    const stamp = `${new Date(t).toISOString()} ${reason}`;
    store
      .patch(Version, version.metadata.namespace, version.metadata.name, { type: "merge", patch: { metadata: { annotations: { [REPAIR_ANNOTATION]: stamp } } } })
      .catch((e: unknown) => log.debug("could not request an artifact repair", { version: version.metadata.name, namespace: version.metadata.namespace, error: e instanceof Error ? e.message : String(e) }));
  };
}
