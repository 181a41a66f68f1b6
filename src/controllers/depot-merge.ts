// How a Depot's discovered versions meet a Module's or Provider's spec.depotVersions, the list only the Depot
// writes (docs/ownership.md). v0.9 replaced spec.versions wholesale on every poll (hand-added pins vanished, an
// empty upstream answer emptied the Module, and a re-applied manifest and the Depot fought). Here the Depot never
// touches spec.versions and merges into its own list:
//
// - A matching version that is not in the list yet is appended. It is listed even when a person also declares it
//   in spec.versions: each owner lists what it wants, and a version stays as long as one of them lists it.
// - Versions already in the list are never rewritten or reordered.
// - A version is removed only if it no longer satisfies the constraint (or, with versionHistoryLimit, it fell out
//   of the newest-N window of Depot-eligible versions). A version that merely disappeared upstream is kept: a
//   mirror keeps serving what it mirrored.
// - A non-authoritative answer (the upstream listed no versions at all) adds nothing and removes nothing; a failed
//   answer never reaches this function.
import { compareVersions, normalizeVersion, satisfies, type Constraints } from "../sources/constraints.ts";

export interface MergeInput {
  /** Normalised versions the upstream listed that satisfy the constraint. */
  matched: string[];
  constraints: Constraints;
  historyLimit?: number;
  /** False when the upstream listed nothing at all: then nothing is removed. */
  authoritative: boolean;
}

export interface MergeResult<T> {
  /** The new spec.depotVersions. */
  versions: (T | { version: string })[];
  added: string[];
  removed: string[];
}

const norm = (s: string | undefined) => (s ? normalizeVersion(s) : undefined);
const newestFirst = (a: string, b: string) => compareVersions(b, a);

export function mergeVersions<T extends { version?: string }>(current: readonly T[], input: MergeInput): MergeResult<T> {
  const listed = new Set<string>();
  for (const item of current) {
    const n = norm(item.version);
    if (n) listed.add(n);
  }
  const matched = [...new Set(input.matched)];

  let window: Set<string> | undefined;
  if (input.historyLimit && input.historyLimit > 0) {
    const eligible = new Set([...matched, ...[...listed].filter((v) => satisfies(v, input.constraints))]);
    window = new Set([...eligible].sort(newestFirst).slice(0, input.historyLimit));
  }
  const added = input.authoritative ? matched.filter((v) => !listed.has(v) && (!window || window.has(v))).sort(newestFirst) : [];
  const removed = input.authoritative ? [...listed].filter((v) => !satisfies(v, input.constraints) || (window !== undefined && !window.has(v))).sort(newestFirst) : [];

  const gone = new Set(removed);
  const versions: (T | { version: string })[] = current.filter((item) => {
    const n = norm(item.version);
    return !(n && gone.has(n));
  });
  for (const v of added) versions.push({ version: v });
  return { versions, added, removed };
}

/** The legacy annotation's value → normalised versions (unparsable items are dropped). */
export function parseManaged(annotation: string | undefined): string[] {
  if (!annotation) return [];
  return annotation.split(",").map((s) => norm(s.trim())).filter((v): v is string => v !== undefined);
}

/**
 * Objects written before spec.depotVersions existed carry the Depot's versions inside spec.versions, recorded in
 * the legacy annotation. Move them to depotVersions (in the same write, so the union served never changes).
 */
export function migrateLegacy<T extends { version?: string }>(versions: readonly T[], depotVersions: readonly T[], annotation: string | undefined): { versions: T[]; depotVersions: T[] } {
  const legacy = new Set(parseManaged(annotation));
  if (!legacy.size) return { versions: [...versions], depotVersions: [...depotVersions] };
  const have = new Set(depotVersions.map((v) => norm(v.version)).filter(Boolean));
  const keep: T[] = [];
  const moved: T[] = [...depotVersions];
  for (const item of versions) {
    const n = norm(item.version);
    if (n && legacy.has(n)) {
      if (!have.has(n)) moved.push(item);
      have.add(n);
    } else keep.push(item);
  }
  return { versions: keep, depotVersions: moved };
}
