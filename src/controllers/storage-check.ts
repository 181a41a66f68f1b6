// A Module or Provider whose storageConfig the operator's storage policy refuses reports it itself (Ready=False,
// reason StorageNotAllowed, naming the field), not only through its Versions: the user sees at once what to fix.
import type { StorageConfig } from "../api/types.ts";
import type { StoragePolicy } from "../storage/policy.ts";
import type { VersionsSummary } from "./summary.ts";

export const STORAGE_NOT_ALLOWED = "StorageNotAllowed";

export function storageRefusal(policy: (() => StoragePolicy) | undefined, namespace: string, config: StorageConfig | undefined, fieldPrefix: string): VersionsSummary | undefined {
  const violation = policy?.().check(namespace, config);
  if (!violation) return undefined;
  const message = violation.under(fieldPrefix).message;
  return { synced: false, ready: false, syncStatus: `Storage not allowed: ${message}`, reason: STORAGE_NOT_ALLOWED, message };
}
