// Auth flags of the roles that serve the registry (standalone now, serve later), v0.9's names (§5.1) plus ours,
// each with an OPENDEPOT_* environment variable, and their validation into one AuthConfig.
import { parseDuration } from "../../cli/duration.ts";
import { checks, UsageError, type FlagSpec } from "../../cli/flags.ts";
import { isHttpUrl } from "./oidc-discovery.ts";
import { DEFAULT_LOGIN_SCOPES } from "./login-document.ts";

export const AUTH_FLAGS: FlagSpec[] = [
  { name: "anonymous-auth", env: "OPENDEPOT_ANONYMOUS_AUTH", boolean: true, default: "false", description: "Serve everything without authentication (overrides OIDC; the default when no OIDC issuer is set)" },
  { name: "oidc-issuer-url", env: "OPENDEPOT_OIDC_ISSUER_URL", description: "OIDC issuer whose JWTs are accepted (with --oidc-client-id); enables `terraform login` and GroupBindings" },
  { name: "oidc-client-id", env: "OPENDEPOT_OIDC_CLIENT_ID", description: "OIDC client of the CLI login; tokens must be issued for it" },
  { name: "oidc-groups-claim", env: "OPENDEPOT_OIDC_GROUPS_CLAIM", default: "groups", description: "Token claim holding the caller's groups (array or string)" },
  { name: "oidc-extra-audiences", env: "OPENDEPOT_OIDC_EXTRA_AUDIENCES", description: "More audiences accepted for user tokens (comma-separated), e.g. the UI's client" },
  { name: "oidc-allow-client-credentials", env: "OPENDEPOT_OIDC_ALLOW_CLIENT_CREDENTIALS", boolean: true, default: "false", description: "Accept the issuer's tokens for other audiences as machines, in group client:<sub>" },
  { name: "oidc-client-credentials-audiences", env: "OPENDEPOT_OIDC_CLIENT_CREDENTIALS_AUDIENCES", description: "Restrict machine tokens to these audiences (comma-separated; any audience when unset, as v0.9)" },
  { name: "oidc-allow-sa-fallback", env: "OPENDEPOT_OIDC_ALLOW_SA_FALLBACK", boolean: true, default: "false", description: "Check tokens the issuer did not sign with Kubernetes (TokenReview + SubjectAccessReview)" },
  { name: "oidc-clock-skew", env: "OPENDEPOT_OIDC_CLOCK_SKEW", default: "30s", description: "Clock skew allowed when checking token expiry and not-before", check: checks.duration },
  { name: "oidc-authz-url", env: "OPENDEPOT_OIDC_AUTHZ_URL", description: "Override login.v1 authz (default: the issuer's authorization_endpoint)" },
  { name: "oidc-token-url", env: "OPENDEPOT_OIDC_TOKEN_URL", description: "Override login.v1 token (default: the issuer's token_endpoint)" },
  { name: "oidc-login-scopes", env: "OPENDEPOT_OIDC_LOGIN_SCOPES", default: DEFAULT_LOGIN_SCOPES.join(","), description: "Scopes `terraform login` asks for (comma-separated)" },
  { name: "oidc-jwks-min-refresh-interval", env: "OPENDEPOT_OIDC_JWKS_MIN_REFRESH_INTERVAL", default: "10s", description: "Least time between signing-key refreshes triggered by unknown key ids", check: checks.duration },
  { name: "namespace", env: "OPENDEPOT_NAMESPACE", default: "opendepot-system", description: "The server's own namespace: GroupBindings here apply to every namespace" },
];

export type AuthConfig =
  | { mode: "anonymous"; reason: "flag" | "default" }
  | {
      mode: "oidc";
      issuer: string;
      clientId: string;
      groupsClaim: string;
      extraAudiences: string[];
      clientCredentials: { enabled: boolean; audiences: string[] };
      saFallback: boolean;
      clockSkewSeconds: number;
      authzUrl?: string;
      tokenUrl?: string;
      loginScopes: string[];
      jwksMinRefreshIntervalMs: number;
      namespace: string;
    };

const list = (value: string | undefined) => (value ?? "").split(",").map((s) => s.trim()).filter(Boolean);

export function authConfigFromFlags(given: Record<string, string | undefined>): AuthConfig {
  const flags = { ...Object.fromEntries(AUTH_FLAGS.map((f) => [f.name, f.default])), ...given };
  const issuer = flags["oidc-issuer-url"];
  const clientId = flags["oidc-client-id"];
  if (!issuer !== !clientId) throw new UsageError("--oidc-issuer-url and --oidc-client-id go together");
  const oidcOnly = ["oidc-allow-client-credentials", "oidc-allow-sa-fallback"].filter((f) => flags[f] === "true");
  if (flags["anonymous-auth"] === "true") return { mode: "anonymous", reason: "flag" };
  if (!issuer || !clientId) {
    if (oidcOnly.length) throw new UsageError(`--${oidcOnly[0]} needs --oidc-issuer-url and --oidc-client-id`);
    return { mode: "anonymous", reason: "default" };
  }
  if (!isHttpUrl(issuer)) throw new UsageError("--oidc-issuer-url must be an http(s) URL");
  for (const f of ["oidc-authz-url", "oidc-token-url"]) {
    if (flags[f] !== undefined && !isHttpUrl(flags[f])) throw new UsageError(`--${f} must be an http(s) URL`);
  }
  const duration = (name: string) => {
    try {
      return parseDuration(flags[name]!);
    } catch (e) {
      throw new UsageError(`--${name}: ${(e as Error).message}`);
    }
  };
  const namespace = flags.namespace ?? "opendepot-system";
  if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(namespace)) throw new UsageError("--namespace must be a Kubernetes namespace name");
  return {
    mode: "oidc",
    issuer,
    clientId,
    groupsClaim: flags["oidc-groups-claim"] || "groups",
    extraAudiences: list(flags["oidc-extra-audiences"]),
    clientCredentials: { enabled: flags["oidc-allow-client-credentials"] === "true", audiences: list(flags["oidc-client-credentials-audiences"]) },
    saFallback: flags["oidc-allow-sa-fallback"] === "true",
    clockSkewSeconds: Math.round(duration("oidc-clock-skew") / 1000),
    authzUrl: flags["oidc-authz-url"],
    tokenUrl: flags["oidc-token-url"],
    loginScopes: list(flags["oidc-login-scopes"]),
    jwksMinRefreshIntervalMs: duration("oidc-jwks-min-refresh-interval"),
    namespace,
  };
}
