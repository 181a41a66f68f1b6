// Which declared versions an owner wants: valid semantic versions, deduplicated by their normalised form, and
// trimmed to versionHistoryLimit (highest kept). We never rewrite the user's spec.versions (v0.9 did, which fights
// GitOps tools re-applying the manifest); trimmed versions are simply not materialised and are reported in status.
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
}

export function planVersions(raw: (string | undefined)[], historyLimit: number | undefined): VersionPlan {
  const invalid: string[] = [];
  const seen = new Map<string, string>();
  raw.forEach((entry, i) => {
    const text = entry?.trim() ?? "";
    const normalized = text ? normalizeVersion(text) : undefined;
    if (!normalized) {
      invalid.push(`versions[${i}]: ${text ? `"${text.slice(0, 64)}" is not a semantic version` : "version is empty"}`);
      return;
    }
    if (!seen.has(normalized)) seen.set(normalized, text);
  });
  const ordered = [...seen.keys()].sort((a, b) => compareVersions(b, a));
  const limit = historyLimit && historyLimit > 0 ? historyLimit : ordered.length;
  return {
    keep: ordered.slice(0, limit).map((n) => seen.get(n)!),
    trimmed: ordered.slice(limit).map((n) => seen.get(n)!),
    invalid,
    latest: ordered[0] ? `v${ordered[0]}` : undefined,
  };
}
