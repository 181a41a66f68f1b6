// Auth flags: anonymous by default (so `bun start` needs no config), OIDC when an issuer is set, and clear
// usage errors for combinations that cannot work.
import { describe, expect, test } from "bun:test";
import { parseFlags, UsageError } from "../cli/flags.ts";
import { AUTH_FLAGS, authConfigFromFlags } from "./auth-flags.ts";

const config = (argv: string[], env: Record<string, string> = {}) => authConfigFromFlags(parseFlags(AUTH_FLAGS, argv, env));

describe("auth flags", () => {
  test("anonymous unless an issuer is configured; --anonymous-auth wins", () => {
    expect(config([])).toEqual({ mode: "anonymous", reason: "default" });
    expect(config(["--anonymous-auth", "--oidc-issuer-url", "https://dex.example", "--oidc-client-id", "cli"])).toEqual({ mode: "anonymous", reason: "flag" });
  });

  test("OIDC from flags or OPENDEPOT_* environment variables", () => {
    const c = config(["--oidc-client-id", "cli", "--oidc-allow-client-credentials"], {
      OPENDEPOT_OIDC_ISSUER_URL: "https://dex.example/dex",
      OPENDEPOT_OIDC_EXTRA_AUDIENCES: "ui, other",
      OPENDEPOT_OIDC_CLIENT_CREDENTIALS_AUDIENCES: "ci",
      OPENDEPOT_OIDC_CLOCK_SKEW: "1m",
      OPENDEPOT_NAMESPACE: "registry",
    });
    expect(c).toMatchObject({
      mode: "oidc",
      issuer: "https://dex.example/dex",
      clientId: "cli",
      groupsClaim: "groups",
      extraAudiences: ["ui", "other"],
      clientCredentials: { enabled: true, audiences: ["ci"] },
      saFallback: false,
      clockSkewSeconds: 60,
      loginScopes: ["openid", "profile", "email", "groups"],
      jwksMinRefreshIntervalMs: 10_000,
      namespace: "registry",
    });
  });

  test.each([
    [["--oidc-issuer-url", "https://dex.example"], "go together"],
    [["--oidc-client-id", "cli"], "go together"],
    [["--oidc-allow-sa-fallback"], "needs --oidc-issuer-url"],
    [["--oidc-issuer-url", "dex.example", "--oidc-client-id", "cli"], "http(s) URL"],
    [["--oidc-issuer-url", "https://d", "--oidc-client-id", "c", "--oidc-authz-url", "ftp://x"], "--oidc-authz-url must be"],
    [["--oidc-issuer-url", "https://d", "--oidc-client-id", "c", "--oidc-clock-skew", "soon"], "--oidc-clock-skew"],
    [["--oidc-issuer-url", "https://d", "--oidc-client-id", "c", "--namespace", "Not_A_Namespace"], "--namespace"],
  ])("%p is a usage error", (argv, fragment) => {
    expect(() => config(argv)).toThrow(UsageError);
    expect(() => config(argv)).toThrow(fragment);
  });
});
