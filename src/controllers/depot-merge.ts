// How a Depot's discovered versions meet a Module's or Provider's spec.versions. v0.9 replaced the list wholesale
// on every poll (hand-added pins vanished, an empty upstream answer emptied the Module). Here the Depot merges:
//
// - A matching version that is not in the list yet is appended, and recorded as Depot-added (annotation
//   opendepot.defdev.io/depot-versions on the Module/Provider).
// - Versions already in the list are never rewritten or reordered; a hand-added one stays hand-added even when
//   the upstream also has it.
// - A version is removed only if the Depot added it AND it no longer satisfies the constraint (or, with
//   versionHistoryLimit, it fell out of the newest-N window of Depot-eligible versions). Hand-added versions are
//   never removed. A version that merely disappeared upstream is kept: a mirror keeps serving what it mirrored.
// - A non-authoritative answer (the upstream listed no versions at all) adds nothing and removes nothing; a failed
//   answer never reaches this function.
import { compareVersions, normalizeVersion, satisfies, type Constraints } from "../sources/constraints.ts";

export interface MergeInput {
  /** Normalised versions the upstream listed that satisfy the constraint. */
  matched: string[];
  /** Normalised versions this Depot added earlier (from the annotation). */
  managed: Iterable<string>;
  constraints: Constraints;
  historyLimit?: number;
  /** False when the upstream listed nothing at all: then nothing is removed. */
  authoritative: boolean;
}

export interface MergeResult<T> {
  versions: (T | { version: string })[];
  /** Depot-added versions after the merge, newest first. */
  managed: string[];
  added: string[];
  removed: string[];
}

const norm = (s: string | undefined) => (s ? normalizeVersion(s) : undefined);
const newestFirst = (a: string, b: string) => compareVersions(b, a);

export function mergeVersions<T extends { version?: string }>(current: readonly T[], input: MergeInput): MergeResult<T> {
  const present = new Set<string>();
  for (const item of current) {
    const n = norm(item.version);
    if (n) present.add(n);
  }
  // A Depot-added version the user has since deleted by hand is no longer ours to track.
  const managed = new Set([...input.managed].filter((v) => present.has(v)));
  const matched = [...new Set(input.matched)];

  let window: Set<string> | undefined;
  if (input.historyLimit && input.historyLimit > 0) {
    const eligible = new Set([...matched, ...[...managed].filter((v) => satisfies(v, input.constraints))]);
    window = new Set([...eligible].sort(newestFirst).slice(0, input.historyLimit));
  }
  const added = input.authoritative ? matched.filter((v) => !present.has(v) && (!window || window.has(v))).sort(newestFirst) : [];
  const removed = input.authoritative ? [...managed].filter((v) => !satisfies(v, input.constraints) || (window !== undefined && !window.has(v))).sort(newestFirst) : [];

  const gone = new Set(removed);
  const versions: (T | { version: string })[] = current.filter((item) => {
    const n = norm(item.version);
    return !(n && gone.has(n));
  });
  for (const v of added) versions.push({ version: v });
  for (const v of removed) managed.delete(v);
  for (const v of added) managed.add(v);
  return { versions, managed: [...managed].sort(newestFirst), added, removed };
}

/** The annotation's value → normalised versions (unparsable items are dropped). */
export function parseManaged(annotation: string | undefined): string[] {
  if (!annotation) return [];
  return annotation.split(",").map((s) => norm(s.trim())).filter((v): v is string => v !== undefined);
}

export function formatManaged(versions: readonly string[]): string {
  return versions.join(",");
}
