// Assembles the auth of a registry server from its AuthConfig: the gatekeeper the routes call and the login.v1
// document discovery advertises. OIDC mode fails at startup (not on the first request) when the issuer cannot be
// discovered or its keys cannot be loaded.
import { GroupBinding, type GroupBindingObject } from "../../api/kinds.ts";
import type { Logger } from "../../log.ts";
import { cacheFor, type ObjectCache } from "../../store/multi-namespace-cache.ts";
import type { ResourceStore } from "../../store/types.ts";
import type { DiscoveryExtras } from "../app.ts";
import { anonymousBrowse, OidcBrowseAuth, type BrowseAuth } from "../browse/viewer.ts";
import { anonymousGatekeeper, type Gatekeeper } from "../context.ts";
import type { ObjectFeed } from "../feed.ts";
import { BindingIndex } from "./binding-index.ts";
import type { AuthConfig } from "./config.ts";
import { JwksCache } from "./jwks.ts";
import type { KubernetesTokenAuthorizer } from "./kubernetes.ts";
import { loginDocument } from "./login-document.ts";
import { discover, type Fetch } from "./oidc-discovery.ts";
import { OidcGatekeeper } from "./oidc-gatekeeper.ts";
import { OidcVerifier } from "./oidc-verifier.ts";

export interface Auth {
  gatekeeper: Gatekeeper;
  /** Who browses (/opendepot/ui/v1): everyone sees everything when anonymous; OIDC users per GroupBinding. */
  browse: BrowseAuth;
  discovery: DiscoveryExtras;
  stop(): void;
}

export interface AuthDependencies {
  log: Logger;
  /** Where GroupBindings come from: a store (watched through a ResourceCache) or a ready feed (tests). */
  store?: ResourceStore;
  bindings?: ObjectFeed<GroupBindingObject>;
  /** Namespaces the server serves (WATCH_NAMESPACE); bindings are then watched there and in the server's own. */
  namespaces?: string[];
  /** Required for --oidc-allow-sa-fallback. */
  kubernetes?: KubernetesTokenAuthorizer;
  fetch?: Fetch;
  discoveryAttempts?: number;
}

export async function startAuth(config: AuthConfig, deps: AuthDependencies): Promise<Auth> {
  const log = deps.log.child({ component: "auth" });
  if (config.mode === "anonymous") {
    log.info(config.reason === "flag" ? "anonymous access (--anonymous-auth)" : "anonymous access: no OIDC issuer configured");
    return { gatekeeper: anonymousGatekeeper, browse: anonymousBrowse, discovery: {}, stop() {} };
  }
  if (config.saFallback && !deps.kubernetes) throw new Error("--oidc-allow-sa-fallback needs the Kubernetes API, which this role does not use");

  const discovery = await discover(config.issuer, {
    fetch: deps.fetch,
    attempts: deps.discoveryAttempts,
    onRetry: (error, attempt) => log.warn("OIDC discovery failed; retrying", { issuer: config.issuer, attempt, error: error.message }),
  });
  const jwks = new JwksCache(discovery.jwksUri, { fetch: deps.fetch, log, minRefreshIntervalMs: config.jwksMinRefreshIntervalMs });
  await jwks.load();
  const verifier = new OidcVerifier(
    {
      issuer: config.issuer,
      clientId: config.clientId,
      extraAudiences: config.extraAudiences,
      groupsClaim: config.groupsClaim,
      clockSkewSeconds: config.clockSkewSeconds,
      clientCredentials: config.clientCredentials,
    },
    jwks,
  );

  let cache: ObjectCache<GroupBindingObject> | undefined;
  let feed = deps.bindings;
  if (!feed) {
    if (!deps.store) throw new Error("startAuth needs a store or a GroupBinding feed");
    const namespaces = deps.namespaces?.length ? [...new Set([config.namespace, ...deps.namespaces])] : undefined;
    cache = cacheFor<GroupBindingObject>(deps.store, GroupBinding, namespaces, { log });
    await cache.start();
    feed = cache;
  }
  const bindings = new BindingIndex(feed, { globalNamespace: config.namespace, log });
  const gatekeeper = new OidcGatekeeper({ verifier, bindings, log, kubernetes: config.saFallback ? deps.kubernetes : undefined });
  const login = loginDocument({ clientId: config.clientId, discovery, authzUrl: config.authzUrl, tokenUrl: config.tokenUrl, scopes: config.loginScopes });
  log.info("OIDC authentication enabled", {
    issuer: config.issuer,
    clientId: config.clientId,
    clientCredentials: config.clientCredentials.enabled,
    saFallback: config.saFallback,
    groupBindings: bindings.size,
    globalNamespace: config.namespace,
  });
  const issuerUrl = new URL(config.issuer);
  if (issuerUrl.protocol === "http:" && !["127.0.0.1", "localhost", "[::1]"].includes(issuerUrl.hostname)) {
    log.warn("the OIDC issuer is reached over plain HTTP: its signing keys could be swapped in transit", { issuer: config.issuer });
  }
  if (config.clientCredentials.enabled && config.clientCredentials.audiences.length === 0) {
    log.warn("client credentials accept the issuer's tokens for any audience; restrict them with --oidc-client-credentials-audiences");
  }
  return {
    gatekeeper,
    browse: new OidcBrowseAuth(verifier, bindings),
    discovery: { login },
    stop() {
      bindings.close();
      cache?.stop();
    },
  };
}
