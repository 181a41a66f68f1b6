// Deprecated and yanked versions as the protocols see them. Deprecated: served as usual, with a warning where the
// protocol has room for one (the provider versions list's top-level `warnings`, which Terraform and OpenTofu print).
// Yanked: left out of every versions list and the mirror index, so no new resolution picks it, but an exact
// download (a lock file naming it) keeps working for the grace period after the yank was first observed
// (status.yankedAt, written by the Version controller); then 404 with the reason. The artifact stays stored until
// the version entry is removed.
import type { VersionObject } from "../api/kinds.ts";
import { protocolVersion } from "../api/naming.ts";

export const DEFAULT_YANK_GRACE_MS = 30 * 24 * 3_600_000;

export interface LifecyclePolicy {
  yankGraceMs: number;
  now?: () => number;
}

export const isYanked = (v: VersionObject) => v.spec.yanked !== undefined;

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
  if (!v.spec.yanked) return undefined;
  const since = Date.parse(v.status?.yankedAt ?? "");
  const now = (policy.now ?? Date.now)();
  if (!Number.isFinite(since) || now < since + policy.yankGraceMs) return undefined;
  return `version ${protocolVersion(v.spec.version)} was yanked: ${v.spec.yanked.reason}`;
}

/** The warning a provider versions list carries for a deprecated version (the CLIs print it under the address). */
export function deprecationWarning(v: VersionObject): string | undefined {
  const d = v.spec.deprecated;
  if (!d) return undefined;
  return `version ${protocolVersion(v.spec.version)} is deprecated: ${d.message}${d.link ? ` (${d.link})` : ""}`;
}
