// Which versions the owners of a Module/Provider want: the person's spec.versions and the Depot's
// spec.depotVersions (docs/ownership.md), unioned, deduplicated by their normalised form (each remembers every
// owner that lists it), and trimmed to versionHistoryLimit (highest kept). We never rewrite either list (v0.9
// rewrote spec.versions, which fights GitOps tools re-applying the manifest); trimmed versions are simply not
// materialised and are reported in status.
import { LABELS } from "../api/meta.ts";
import { DECLARED_OWNER, depotOwner } from "../api/ownership.ts";
import { compareVersions, normalizeVersion } from "../sources/constraints.ts";

export interface VersionPlan {
  /** Raw spec strings to materialise, newest first. */
  keep: string[];
  /** Raw spec strings dropped by versionHistoryLimit. */
  trimmed: string[];
  /** Entries that are not versions, with the reason. */
  invalid: string[];
  /** Highest kept version, `v`-prefixed like v0.9's status.latestVersion. */
  latest?: string;
  /** For each kept or trimmed raw string: the owners that list it (DECLARED_OWNER, `depot/<name>`). */
  owners: Map<string, string[]>;
}

export interface OwnedList {
  owner: string;
  /** The field the list lives in, for error messages (`versions`, `depotVersions`). */
  field: string;
  versions: (string | undefined)[];
}

export function planVersions(raw: (string | undefined)[], historyLimit: number | undefined, others: OwnedList[] = []): VersionPlan {
  const invalid: string[] = [];
  const seen = new Map<string, { raw: string; owners: string[] }>();
  for (const list of [{ owner: DECLARED_OWNER, field: "versions", versions: raw }, ...others]) {
    list.versions.forEach((entry, i) => {
      const text = entry?.trim() ?? "";
      const normalized = text ? normalizeVersion(text) : undefined;
      if (!normalized) {
        invalid.push(`${list.field}[${i}]: ${text ? `"${text.slice(0, 64)}" is not a semantic version` : "version is empty"}`);
        return;
      }
      const known = seen.get(normalized);
      if (!known) seen.set(normalized, { raw: text, owners: [list.owner] });
      else if (!known.owners.includes(list.owner)) known.owners.push(list.owner);
    });
  }
  const ordered = [...seen.keys()].sort((a, b) => compareVersions(b, a));
  const limit = historyLimit && historyLimit > 0 ? historyLimit : ordered.length;
  const owners = new Map([...seen.values()].map((s) => [s.raw, s.owners]));
  return {
    keep: ordered.slice(0, limit).map((n) => seen.get(n)!.raw),
    trimmed: ordered.slice(limit).map((n) => seen.get(n)!.raw),
    invalid,
    latest: ordered[0] ? `v${ordered[0]}` : undefined,
    owners,
  };
}

/** spec.depotVersions as an owned list, owned by the Depot the label names (`depot` once released by it). */
export function depotListOf(obj: { metadata: { labels?: Record<string, string> }; spec: { depotVersions?: { version?: string }[] } }): OwnedList[] {
  const listed = obj.spec.depotVersions ?? [];
  if (!listed.length) return [];
  const depot = obj.metadata.labels?.[LABELS.depot];
  return [{ owner: depot ? depotOwner(depot) : "depot", field: "depotVersions", versions: listed.map((v) => v.version) }];
}
