// The status a Module or Provider reports about its Versions: synced only when every materialised Version is.
import type { VersionObject } from "../api/kinds.ts";
import type { VersionPlan } from "./versions-plan.ts";

export interface VersionsSummary {
  synced: boolean;
  ready: boolean;
  syncStatus: string;
  reason: string;
  message: string;
}

export function summarizeVersions(kind: "module" | "provider", versions: VersionObject[], plan: Pick<VersionPlan, "invalid" | "trimmed">, foreign: string[]): VersionsSummary {
  const pending = versions.filter((v) => v.status?.synced !== true);
  const failing = pending.filter((v) => v.status?.conditions?.some((c) => c.type === "Synced" && c.status === "False" && c.reason !== "Syncing"));
  const notes: string[] = [];
  if (plan.invalid.length) notes.push(`ignored invalid entries: ${plan.invalid.join("; ")}`);
  if (foreign.length) notes.push(`Versions owned by another resource were left alone: ${foreign.join(", ")}`);
  if (plan.trimmed.length) notes.push(`not kept by versionHistoryLimit: ${plan.trimmed.join(", ")}`);
  const tail = notes.length ? ` (${notes.join("; ")})` : "";
  if (plan.invalid.length || foreign.length) {
    const message = `${versions.length - pending.length}/${versions.length} versions synced${tail}`;
    return { synced: false, ready: false, syncStatus: `Invalid ${kind} spec: ${message}`, reason: "InvalidSpec", message };
  }
  if (failing.length) {
    const first = failing[0]!;
    const message = `${failing.length} of ${versions.length} versions failed to sync; ${first.metadata.name}: ${first.status?.syncStatus ?? "unknown error"}${tail}`;
    return { synced: false, ready: false, syncStatus: `Failed to sync ${kind}: ${message}`, reason: "VersionsFailed", message };
  }
  if (pending.length) {
    const message = `waiting for ${pending.length} of ${versions.length} versions to sync${tail}`;
    return { synced: false, ready: false, syncStatus: message, reason: "Syncing", message };
  }
  const message = `all ${versions.length} versions synced${tail}`;
  return { synced: true, ready: true, syncStatus: `Successfully synced ${kind}`, reason: "Synced", message };
}
