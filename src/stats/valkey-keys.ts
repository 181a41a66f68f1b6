// v0.9's Valkey key layout (reference §5.10), so a registry taking over an existing Valkey keeps its counts, plus
// one additive hash per day that makes the per-day series readable without scanning the keyspace.
import { DAYS_KEPT, type StatsKind } from "./types.ts";

export const KEYS = {
  version: (ns: string, kind: StatsKind, name: string, version: string) => `stats:version:${ns}:${kind}:${name}:${version}`,
  resource: (ns: string, kind: StatsKind, name: string) => `stats:resource:${ns}:${kind}:${name}`,
  total: "stats:total",
  namespace: (ns: string) => `stats:ns:${ns}`,
  leaderboardGlobal: "stats:leaderboard:global",
  leaderboard: (ns: string) => `stats:leaderboard:${ns}`,
  leaderboardMember: (ns: string, kind: StatsKind, name: string, version: string) => `${ns}/${kind}/${name}/${version}`,
  /** v0.9: one counter per version and day (written for compatibility; too many to read back). */
  dayVersion: (day: string, ns: string, kind: StatsKind, name: string, version: string) => `stats:day:${day}:${ns}:${kind}:${name}:${version}`,
  /** Additive: one hash per day, field `<ns>/<kind>/<name>` → downloads of that resource that day. */
  day: (day: string) => `stats:day:${day}`,
  dayField: (ns: string, kind: StatsKind, name: string) => `${ns}/${kind}/${name}`,
} as const;

/** v0.9's expiry of day keys: midnight UTC after the day, plus 90 days (epoch seconds). */
export function dayExpiresAt(day: string): number {
  const midnight = Date.parse(`${day}T00:00:00Z`) / 1000 + 86_400;
  return midnight + DAYS_KEPT * 86_400;
}

/** `<ns>/<kind>/<name>` back into its parts; undefined for a field this registry did not write. */
export function parseDayField(field: string): { namespace: string; kind: StatsKind; name: string } | undefined {
  const parts = field.split("/");
  if (parts.length !== 3 || (parts[1] !== "module" && parts[1] !== "provider")) return undefined;
  return { namespace: parts[0]!, kind: parts[1], name: parts[2]! };
}
