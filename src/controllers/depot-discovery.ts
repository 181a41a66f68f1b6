// What a Depot entry's upstream offers: GitHub releases (every page; plus plain tags when the entry opts in with
// `discoverTags`) for modules, the OpenTofu registry's version list for providers. Also: what a failure means
// for the entry (reason, when to try again).
import { upstreamReason } from "./failures.ts";
import type { GitHubClient } from "../sources/github.ts";
import { UpstreamError } from "../sources/http.ts";
import { normalizeVersion } from "../api/version.ts";
import { matchingVersions } from "../sources/constraints.ts";
import type { OpenTofuRegistryClient } from "../sources/opentofu.ts";
import { StoreError } from "../store/errors.ts";
import { describeError } from "./conditions.ts";
import type { ModuleEntry, ProviderEntry } from "./depot-entries.ts";

export interface Discovery {
  /** Distinct versions (normalised) the upstream listed; tags that are not versions are not counted. */
  found: number;
  /** Normalised versions satisfying the constraint, newest first as the upstream lists them. */
  matched: string[];
}

function discover(candidates: string[], constraints: ModuleEntry["constraints"]): Discovery {
  const distinct = new Set<string>();
  for (const c of candidates) {
    const n = normalizeVersion(c);
    if (n) distinct.add(n);
  }
  return { found: distinct.size, matched: matchingVersions(candidates, constraints).map((m) => m.version) };
}

export async function discoverModule(entry: ModuleEntry, github: GitHubClient): Promise<Discovery> {
  const releases = await github.listReleases(entry.owner, entry.repo);
  const candidates = releases.map((r) => r.tag);
  if (entry.discoverTags) for (const t of await github.listTags(entry.owner, entry.repo)) candidates.push(t.name);
  return discover(candidates, entry.constraints);
}

export async function discoverProvider(entry: ProviderEntry, registry: OpenTofuRegistryClient): Promise<Discovery> {
  const versions = await registry.listVersions(entry.namespace, entry.name);
  return discover(versions.map((v) => v.version), entry.constraints);
}

/** A failure of one entry that is not the upstream's (e.g. the resource belongs to another Depot). */
export class EntryError extends Error {
  override readonly name = "EntryError";
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

export interface FailureInfo {
  reason: string;
  message: string;
  /** Upstream rate limit: do not ask again before this. */
  retryAt?: Date;
}

export function classifyFailure(e: unknown): FailureInfo {
  const message = describeError(e);
  const upstream = upstreamReason(e);
  if (upstream) return { reason: upstream, message, ...(e instanceof UpstreamError && e.kind === "RateLimited" && e.retryAt ? { retryAt: e.retryAt } : {}) };
  if (e instanceof EntryError) return { reason: e.reason, message };
  if (e instanceof StoreError) return { reason: e.reason === "Invalid" ? "InvalidResource" : "WriteFailed", message };
  return { reason: "DiscoveryFailed", message };
}
