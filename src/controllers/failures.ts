// The failure vocabulary every controller reports in its conditions and status: one table from an upstream's error
// kind to a condition reason, so a Depot entry and a Version say the same thing about the same upstream failure.
import { GitHubAppConfigError } from "../sources/github-app.ts";
import { UpstreamError, type UpstreamErrorKind } from "../sources/http.ts";

export const UPSTREAM_REASONS: Readonly<Record<UpstreamErrorKind, string>> = {
  NotFound: "UpstreamNotFound",
  RateLimited: "RateLimited",
  Unauthorized: "UpstreamUnauthorized",
  Transient: "UpstreamUnavailable",
  Invalid: "UpstreamInvalid",
};

/** The GitHub App of a namespace cannot be used (its Secret is missing or malformed): a user-fixable problem. */
export const GITHUB_APP_UNAVAILABLE = "GitHubAppUnavailable";

/** The condition reason of a failure to talk to an upstream, or undefined when `e` is not one. */
export function upstreamReason(e: unknown): string | undefined {
  if (e instanceof UpstreamError) return UPSTREAM_REASONS[e.kind];
  if (e instanceof GitHubAppConfigError) return GITHUB_APP_UNAVAILABLE;
  return undefined;
}
