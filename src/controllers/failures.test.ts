// One failure vocabulary: every upstream error kind has its reason, Depot entries and Versions classify the same
// error the same way, and the GitHub App failure is recognised by its type, never by words in a message.
import { describe, expect, test } from "bun:test";
import { EmbeddedStore } from "../store/embedded.ts";
import { silentLogger } from "../log.ts";
import { GitHubAppConfigError, gitHubAppCredentialsFromSecret } from "../sources/github-app.ts";
import { UpstreamError, type UpstreamErrorKind } from "../sources/http.ts";
import { classifyFailure } from "./depot-discovery.ts";
import { GITHUB_APP_UNAVAILABLE, UPSTREAM_REASONS, upstreamReason } from "./failures.ts";
import { Upstreams } from "./upstreams.ts";

const KINDS: UpstreamErrorKind[] = ["NotFound", "RateLimited", "Unauthorized", "Transient", "Invalid"];

describe("failure vocabulary", () => {
  test("every upstream error kind has one reason, the same for Depot entries", () => {
    expect(Object.keys(UPSTREAM_REASONS).sort()).toEqual([...KINDS].sort());
    expect(new Set(Object.values(UPSTREAM_REASONS)).size).toBe(KINDS.length);
    for (const kind of KINDS) {
      const e = new UpstreamError("GitHub", kind, "https://api.github.test/x", `GitHub: ${kind}`);
      expect(upstreamReason(e)).toBe(UPSTREAM_REASONS[kind]);
      expect(classifyFailure(e).reason).toBe(UPSTREAM_REASONS[kind]);
    }
  });

  test("a rate limit carries its retry time to the Depot entry", () => {
    const at = new Date(Date.now() + 60_000);
    expect(classifyFailure(new UpstreamError("GitHub", "RateLimited", "https://x.test", "limited", 429, at)).retryAt).toEqual(at);
  });

  test("the GitHub App failure is classified by its type, not by a Secret name in the message", async () => {
    const store = EmbeddedStore.open(":memory:", { log: silentLogger });
    try {
      const missing = await new Upstreams(store).github("team-a", true).catch((e: unknown) => e);
      expect(missing).toBeInstanceOf(GitHubAppConfigError);
      expect(upstreamReason(missing)).toBe(GITHUB_APP_UNAVAILABLE);
      expect(classifyFailure(missing).reason).toBe(GITHUB_APP_UNAVAILABLE);
      const malformed = (() => {
        try {
          gitHubAppCredentialsFromSecret({});
        } catch (e) {
          return e;
        }
      })();
      expect(classifyFailure(malformed).reason).toBe(GITHUB_APP_UNAVAILABLE);
      // The same words in an unrelated error are not a GitHub App failure.
      const unrelated = new Error("could not write Secret opendepot-github-application-secret: disk full");
      expect(upstreamReason(unrelated)).toBeUndefined();
      expect(classifyFailure(unrelated).reason).toBe("DiscoveryFailed");
    } finally {
      await store.close();
    }
  });
});
