// Deprecated and yanked versions as the protocols see them. Deprecated: served as usual, with a warning where the
// protocol has room for one (the provider versions list's top-level `warnings`, which Terraform and OpenTofu print).
//
// Yanked: never picked by a `~>` constraint, while lock files (and exact module pins) keep working for the grace
// period after the yank was first observed (status.yankedAt, written by the Version controller); then it is gone
// from every list and its downloads answer 404 with the reason. The artifact stays stored until the entry is removed.
//
// Both CLIs refuse a lock file whose version is missing from the versions list ("the previously-selected version
// is no longer available"), so "hidden from lists" and "lock files keep installing" cannot both hold for every
// version. The rule that gives both wherever possible: during the grace period a yanked version stays listed
// exactly when a newer, non-yanked, non-prerelease version of the same MAJOR.MINOR is listed. Any `~> X.Y` or
// `~> X.Y.Z` range that admits the yanked version then admits that newer one too, and the CLIs take the newest, so
// no `~>` resolution picks it. A yanked version that is the newest of its MAJOR.MINOR line is hidden at once:
// new resolutions must not get it, and lock files naming it fail with the CLI's clear error.
import { compareVersions, isSemver, parseVersion, type Version } from "../api/version.ts";
import type { VersionObject } from "../api/kinds.ts";
import { protocolVersion } from "../api/naming.ts";

/** Text from a manifest as the CLIs print it: no control characters (no terminal escapes), bounded. */
const printable = (text: string) => text.replace(/[\u0000-\u001f\u007f-\u009f]+/g, " ").slice(0, 1024);

export const DEFAULT_YANK_GRACE_MS = 30 * 24 * 3_600_000;

export interface LifecyclePolicy {
  yankGraceMs: number;
  now?: () => number;
}

/** What the browse API shows about a Version's lifecycle (undefined fields when neither applies). */
export function lifecycleOf(v: VersionObject, policy: LifecyclePolicy) {
  const yanked = v.spec.yanked;
  const since = Date.parse(v.status?.yankedAt ?? "");
  const graceEndsAt = yanked && Number.isFinite(since) ? new Date(since + policy.yankGraceMs).toISOString() : undefined;
  return {
    deprecated: v.spec.deprecated ? { message: v.spec.deprecated.message, ...(v.spec.deprecated.link ? { link: v.spec.deprecated.link } : {}) } : undefined,
    yanked: yanked ? { reason: yanked.reason, ...(v.status?.yankedAt ? { yankedAt: v.status.yankedAt } : {}), ...(graceEndsAt ? { graceEndsAt } : {}), downloadable: yankRefusal(v, policy) === undefined } : undefined,
  };
}

/**
 * Why an exact download of this Version is refused, or undefined while it may be served. A yank not yet observed
 * by the controller (no yankedAt) counts as just yanked: its grace has not started.
 */
export function yankRefusal(v: VersionObject, policy: LifecyclePolicy): string | undefined {
  const from = yankRefusedFrom(v, policy);
  if (from === undefined || (policy.now ?? Date.now)() < from) return undefined;
  return `version ${protocolVersion(v.spec.version)} was yanked: ${printable(v.spec.yanked!.reason)}`;
}

/** From when (ms) yankRefusal refuses this Version's downloads: undefined unless it is yanked and the yank was observed. */
export function yankRefusedFrom(v: VersionObject, policy: LifecyclePolicy): number | undefined {
  if (!v.spec.yanked) return undefined;
  const since = Date.parse(v.status?.yankedAt ?? "");
  return Number.isFinite(since) ? since + policy.yankGraceMs : undefined;
}

/** When a yanked Version's grace period ends (ms): from yankedAt, or from now when not yet recorded. */
function graceEnd(v: VersionObject, policy: LifecyclePolicy): number {
  const since = Date.parse(v.status?.yankedAt ?? "");
  return (Number.isFinite(since) ? since : (policy.now ?? Date.now)()) + policy.yankGraceMs;
}

/**
 * Which of an owner's servable Versions the versions lists and the mirror index offer (see the rule above), and
 * when that answer changes by itself (a listed yanked version's grace ends), for memoisation.
 */
export function listedVersions(servable: readonly VersionObject[], policy: LifecyclePolicy): { listed: readonly VersionObject[]; changesAt?: number } {
  const now = (policy.now ?? Date.now)();
  if (!servable.some((v) => v.spec.yanked)) return { listed: servable };
  // The newest non-yanked release of each MAJOR.MINOR line: a yanked version below it is shielded.
  const served = (v: VersionObject): Version | undefined => {
    const s = protocolVersion(v.spec.version);
    return isSemver(s) ? parseVersion(s) : undefined;
  };
  const newestOfLine = new Map<string, Version>();
  for (const v of servable) {
    if (v.spec.yanked) continue;
    const w = served(v);
    if (!w || w.prerelease.length) continue;
    const line = `${w.major}.${w.minor}`;
    const best = newestOfLine.get(line);
    if (!best || compareVersions(w, best) > 0) newestOfLine.set(line, w);
  }
  let changesAt: number | undefined;
  const listed = servable.filter((v) => {
    if (!v.spec.yanked) return true;
    const ends = graceEnd(v, policy);
    if (ends <= now) return false;
    const own = served(v);
    const newest = own ? newestOfLine.get(`${own.major}.${own.minor}`) : undefined;
    const shielded = !!own && !!newest && compareVersions(newest, own) > 0;
    if (shielded) changesAt = Math.min(changesAt ?? Infinity, ends);
    return shielded;
  });
  return { listed, ...(changesAt !== undefined ? { changesAt } : {}) };
}

/** The warning a listed yanked version carries, for the clients whose lock files still name it. */
export function yankWarning(v: VersionObject, policy: LifecyclePolicy): string | undefined {
  if (!v.spec.yanked) return undefined;
  return `version ${protocolVersion(v.spec.version)} is yanked: ${printable(v.spec.yanked.reason)}; lock files naming it keep installing until ${new Date(graceEnd(v, policy)).toISOString().slice(0, 10)}`;
}

/** The warning a provider versions list carries for a deprecated version (the CLIs print it under the address). */
export function deprecationWarning(v: VersionObject): string | undefined {
  const d = v.spec.deprecated;
  if (!d) return undefined;
  return `version ${protocolVersion(v.spec.version)} is deprecated: ${printable(d.message)}${d.link ? ` (${printable(d.link)})` : ""}`;
}
