// Kubernetes-style status conditions. lastTransitionTime moves only when a condition's status changes.
import type { Condition } from "../api/meta.ts";

export interface ConditionInput {
  type: string;
  status: "True" | "False" | "Unknown";
  reason: string;
  message: string;
}

export function setConditions(existing: Condition[] | undefined, updates: ConditionInput[], generation: number | undefined, now = new Date()): Condition[] {
  const out = [...(existing ?? [])];
  for (const u of updates) {
    const i = out.findIndex((c) => c.type === u.type);
    const previous = i >= 0 ? out[i] : undefined;
    const next: Condition = {
      type: u.type,
      status: u.status,
      reason: u.reason,
      message: u.message.slice(0, 32768),
      lastTransitionTime: previous && previous.status === u.status ? previous.lastTransitionTime : now.toISOString().replace(/\.\d{3}Z$/, "Z"),
      ...(generation !== undefined ? { observedGeneration: generation } : {}),
    };
    if (i >= 0) out[i] = next;
    else out.push(next);
  }
  return out;
}

export function conditionOf(conditions: Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/** The Ready + Synced pair every kind reports; `ok` true means both are True. */
export function readiness(ok: boolean, reason: string, message: string): ConditionInput[] {
  const status = ok ? "True" : "False";
  return [
    { type: "Ready", status, reason, message },
    { type: "Synced", status, reason, message },
  ];
}

/** Error text a user can read in a status: the message, bounded. */
export function describeError(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return text.length > 1000 ? `${text.slice(0, 1000)}…` : text;
}
