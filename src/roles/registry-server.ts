// Wiring of the registry server from its parts; used by the `standalone` and `serve` roles.
import type { DepotObject, ModuleObject, ProviderObject, VersionObject } from "../api/kinds.ts";
import { ConfigMap, Depot, GroupBinding, Namespace, type GroupBindingObject } from "../api/kinds.ts";
import { LABELS, type KubeObject } from "../api/meta.ts";
import { sleep } from "../kits/sleep.ts";
import type { ConfigMapObject } from "../server/browse/catalog.ts";
import { publicOnlyBrowse, type BrowseAuth } from "../server/browse/viewer.ts";
import { countDownloads, createBrowse } from "../server/browse/wiring.ts";
import { statsOff, type DownloadStats } from "../stats/types.ts";
import { parseDuration } from "../kits/duration.ts";
import { checks, UsageError, type FlagSpec } from "../cli/flags.ts";
import { Module, Provider, Version } from "../api/kinds.ts";
import type { Logger } from "../log.ts";
import type { DiscoveryExtras } from "../server/protocol-answers.ts";
import { lazyApp } from "../server/lazy-app.ts";
import type { AuthConfig } from "../server/auth/config.ts";
import type { KubernetesTokenAuthorizer } from "../server/auth/kubernetes.ts";
import { startAuth } from "../server/auth/setup.ts";
import { ArtifactDelivery } from "../server/artifact-delivery.ts";
import { anonymousGatekeeper, type Gatekeeper, type MirrorConfig, type ServerContext, type ShasumsSigner } from "../server/context.ts";
import { DEFAULT_YANK_GRACE_MS } from "../server/lifecycle.ts";
import { RegistryIndex } from "../server/registry-index.ts";
import { storeRepairHint } from "../server/repair-hint.ts";
import { DEFAULT_MIRROR_HOSTNAMES, mirrorConfig } from "../server/mirror-config.ts";
import { listen, withRequestPolicy } from "../server/serve.ts";
import { requestObserver } from "../server/request-metrics.ts";
import { StaticRoutes } from "../server/static-routes.ts";
import { indexObjects } from "../metrics/server.ts";
import { UrlSigner } from "../server/url-signer.ts";
import { CacheSet } from "../store/cache-set.ts";
import type { ResourceStore } from "../store/types.ts";
import type { StorageFor } from "../storage/locate.ts";
import { createExplorer } from "../ui/explorer.ts";
import type { UiSettings } from "../ui/flags.ts";
import { UI_FLAGS } from "./ui-flags.ts";

/** Flags of every role that serves the registry (standalone, serve). Key files default differently per role. */
export function registryServerFlags(defaults: { keysGenerated: boolean }): FlagSpec[] {
  const generated = defaults.keysGenerated ? " (generated in the data dir when unset)" : "";
  return [
    { name: "public-url", env: "OPENDEPOT_PUBLIC_URL", description: "Absolute base URL for links in responses (relative links when unset)", check: checks.url },
    { name: "download-url-ttl", env: "OPENDEPOT_DOWNLOAD_URL_TTL", default: "15m", description: "How long signed download URLs stay valid", check: checks.duration },
    { name: "url-signing-key-file", env: "OPENDEPOT_URL_SIGNING_KEY_FILE", description: `Key for signing download URLs, the same on every replica${generated}` },
    { name: "gpg-key-file", env: "OPENDEPOT_GPG_KEY_FILE", description: `ASCII-armored private key that signs provider SHA256SUMS, or OPENDEPOT_PROVIDER_GPG_PRIVATE_KEY_BASE64${generated}` },
    { name: "gpg-key-dir", env: "OPENDEPOT_GPG_KEY_DIR", description: "Directory of ASCII-armored private keys (*.asc, e.g. a mounted Secret): a key ring; all are published, the newest signs; re-read on change" },
    { name: "gpg-passphrase-file", env: "OPENDEPOT_GPG_PASSPHRASE_FILE", description: "File holding the passphrase of --gpg-key-file" },
    { name: "gpg-key-source-url", env: "OPENDEPOT_PROVIDER_GPG_SOURCE_URL", description: "source_url published with the signing key" },
    { name: "tls-cert-path", env: "OPENDEPOT_TLS_CERT_PATH", description: "TLS certificate (PEM); serves HTTPS with --tls-cert-key" },
    { name: "tls-cert-key", env: "OPENDEPOT_TLS_CERT_KEY", description: "TLS private key (PEM)" },
    { name: "mirror-namespace", env: "OPENDEPOT_MIRROR_NAMESPACE", description: "Kubernetes namespace whose Providers the provider network mirror (/opendepot/mirror/v1/) serves; \"off\" disables it (default: --namespace)" },
    { name: "mirror-hostnames", env: "OPENDEPOT_MIRROR_HOSTNAMES", default: DEFAULT_MIRROR_HOSTNAMES.join(","), description: "Provider source hostnames the network mirror answers for, comma-separated" },
    { name: "yank-grace", env: "OPENDEPOT_YANK_GRACE", default: "30d", description: "How long exact downloads of a yanked version keep working after the yank was first observed, then 404 with the reason (Go duration, or whole days: 30d)" },
    { name: "static-routes", env: "OPENDEPOT_STATIC_ROUTES", boolean: true, default: "false", description: "Answer the protocol GETs clients repeat (discovery, versions lists, provider metadata) from the runtime's native route table: faster, but those answers get no access-log line, request metrics or x-request-id. Anonymous access only (Bun; ignored on Deno)" },
    { name: "log-level", env: "OPENDEPOT_LOG_LEVEL", default: "info", description: "debug, info, warn or error", check: checks.oneOf(["debug", "info", "warn", "error"]) },
    ...UI_FLAGS,
  ];
}

/** --tls-cert-path/--tls-cert-key, which go together. */
export function tlsFromFlags(flags: Record<string, string | undefined>): { cert: string; key: string } | undefined {
  if ((flags["tls-cert-path"] === undefined) !== (flags["tls-cert-key"] === undefined)) throw new UsageError("--tls-cert-path and --tls-cert-key go together");
  return flags["tls-cert-path"] ? { cert: flags["tls-cert-path"]!, key: flags["tls-cert-key"]! } : undefined;
}

/** --mirror-namespace (default: the server's --namespace) and --mirror-hostnames; undefined when the mirror is off. */
export function mirrorFromFlags(flags: Record<string, string | undefined>): MirrorConfig | undefined {
  try {
    return mirrorConfig(flags["mirror-namespace"] ?? flags.namespace ?? "opendepot-system", flags["mirror-hostnames"]);
  } catch (e) {
    throw new UsageError(`--mirror-namespace/--mirror-hostnames: ${(e as Error).message}`);
  }
}

export function yankGraceMs(flags: Record<string, string | undefined>): number {
  const text = flags["yank-grace"]?.trim();
  if (!text) return DEFAULT_YANK_GRACE_MS;
  const days = /^(\d{1,5})d$/.exec(text);
  try {
    return days ? Number(days[1]) * 86_400_000 : parseDuration(text);
  } catch (e) {
    throw new UsageError(`--yank-grace: ${(e as Error).message}`);
  }
}

const STATIC_ROUTES_NEED_ANONYMOUS = "--static-routes answers without authorization, so it needs anonymous access: no OIDC issuer, and for serve --anonymous-auth";

/** --static-routes; refused (a usage error) unless every request is anonymous, as the table asks no gatekeeper. */
export function staticRoutesFromFlags(flags: Record<string, string | undefined>, anonymous: boolean): boolean {
  const on = flags["static-routes"] === "true";
  if (on && !anonymous) throw new UsageError(STATIC_ROUTES_NEED_ANONYMOUS);
  return on;
}

export const urlTtlSeconds = (flags: Record<string, string | undefined>) => Math.max(1, Math.floor(parseDuration(flags["download-url-ttl"]!) / 1000));

export interface RegistryServerOptions {
  store: ResourceStore;
  storageFor: StorageFor;
  signer: ShasumsSigner;
  /** URL-signing keys: the first signs, the rest (previous keys after a rotation) are accepted for one TTL. */
  urlKey: Uint8Array | Uint8Array[];
  urlTtlSeconds: number;
  log: Logger;
  publicUrl?: string;
  signingKeySourceUrl?: string;
  /** Anonymous, or OIDC with GroupBindings (builds the gatekeeper and login.v1); ignored when `gatekeeper` is given. */
  auth?: AuthConfig;
  /** TokenReview + SubjectAccessReview, for --oidc-allow-sa-fallback. */
  kubernetes?: KubernetesTokenAuthorizer;
  gatekeeper?: Gatekeeper;
  discovery?: DiscoveryExtras;
  /** Provider network mirror; off when absent. */
  mirror?: MirrorConfig;
  /** Namespaces served (WATCH_NAMESPACE); all when absent. */
  namespaces?: string[];
  /** Record Prometheus metrics per request (served elsewhere, by the role's metrics listener). */
  metrics?: boolean;
  /** --yank-grace (default 30 days). */
  yankGraceMs?: number;
  /** Download statistics (counted on delivery, read by the browse API); off when absent. */
  stats?: DownloadStats;
  /** Who may browse what; default: from `auth`, or public-only when a `gatekeeper` is given. */
  browseAuth?: BrowseAuth;
  /** The Registry Explorer web UI; off when absent. */
  ui?: UiSettings;
  /** The process's caches (standalone: shared with the controllers, so each object is held once); own when absent. */
  caches?: CacheSet;
  /** --static-routes: the native route table in front of the fast path (static-routes.ts); anonymous access only. */
  staticRoutes?: boolean;
}

export async function startRegistryServer(options: RegistryServerOptions) {
  const { store, log } = options;
  // The table answers without asking the gatekeeper: with any authorization it would hand out what it must not.
  if (options.staticRoutes && (options.gatekeeper || (options.auth && options.auth.mode !== "anonymous"))) {
    throw new UsageError(STATIC_ROUTES_NEED_ANONYMOUS);
  }
  const caches = options.caches ?? new CacheSet(store, { log });
  const scope = { namespaces: options.namespaces };
  const modules = caches.cache<ModuleObject>(Module, scope);
  const providers = caches.cache<ProviderObject>(Provider, scope);
  const versions = caches.cache<VersionObject>(Version, scope);
  // The browse API also reads Depots, Namespaces (the public label) and the README/docs ConfigMaps of Versions.
  const depots = caches.cache<DepotObject>(Depot, scope);
  const namespaceCache = caches.cache<KubeObject>(Namespace);
  const configMaps = caches.cache<ConfigMapObject>(ConfigMap, { ...scope, labelSelector: LABELS.namespace });
  // GroupBindings (OIDC): watched in the served namespaces and the server's own, from the same set as the controllers'.
  const authConfig = options.auth ?? { mode: "anonymous" as const, reason: "default" as const };
  const bindings = !options.gatekeeper && authConfig.mode === "oidc" ? caches.cache<GroupBindingObject>(GroupBinding, { namespaces: options.namespaces?.length ? [authConfig.namespace, ...options.namespaces] : undefined }) : undefined;
  // What the protocols need before they answer: /readyz waits for these (and reports them while they relist).
  const required = [modules, providers, versions, ...(bindings ? [bindings] : [])];
  // The protocols must not wait on what only the browse API reads (e.g. RBAC without cluster-wide namespace list):
  // those caches fill in the background, and the catalog follows them as they load.
  const browseLoaded = Promise.all([depots, namespaceCache, configMaps].map((c) => c.start()));
  await Promise.all(required.map((c) => c.start()));
  const browseLoading = await Promise.race([browseLoaded.then(() => false), sleep(10_000).then(() => true)]);
  if (browseLoading) log.warn("Depots, Namespaces or README ConfigMaps are not loaded yet; the browse API shows what has loaded (check the server's RBAC: list/watch on depots, configmaps and namespaces)");
  const lifecycle = { yankGraceMs: options.yankGraceMs ?? DEFAULT_YANK_GRACE_MS };
  const index = new RegistryIndex({ modules, providers, versions }, lifecycle);
  const auth = options.gatekeeper ? undefined : await startAuth(authConfig, { store, bindings, log, kubernetes: options.kubernetes, namespaces: options.namespaces });
  const stats = options.stats ?? statsOff;
  const browse = createBrowse({ modules, providers, versions, depots, namespaces: namespaceCache, configMaps }, stats, options.browseAuth ?? auth?.browse ?? publicOnlyBrowse, lifecycle);
  // Elysia and the route modules load at the first request the fast path and the probes leave (lazy-app.ts).
  const ctx: ServerContext = {
    index,
    delivery: new ArtifactDelivery(options.storageFor, log, { onDownload: countDownloads(stats), onRefused: storeRepairHint(store, log) }),
    urls: new UrlSigner(options.urlKey, options.urlTtlSeconds),
    signer: options.signer,
    gatekeeper: options.gatekeeper ?? auth?.gatekeeper ?? anonymousGatekeeper,
    log,
    publicUrl: options.publicUrl,
    signingKeySourceUrl: options.signingKeySourceUrl,
    mirror: options.mirror,
    lifecycle,
    browse,
    ready: () => required.every((c) => c.synced),
    unsynced: () => required.filter((c) => !c.synced).map((c) => c.kind.kind),
  };
  const discovery = options.discovery ?? auth?.discovery;
  const app = lazyApp(ctx, discovery);
  const staticRoutes = options.staticRoutes ? new StaticRoutes(ctx, discovery, [modules, providers, versions]) : undefined;
  const appHandle = (request: Request) => app.handle(request);
  const explorer = options.ui ? await createExplorer({ browse, urlKey: currentUrlKey(options.urlKey), log, publicUrl: options.publicUrl, settings: options.ui, login: (options.discovery ?? auth?.discovery)?.login }) : undefined;
  const handle = explorer ? explorer.around(appHandle) : appHandle;
  // The Explorer's pages (src/ui/explorer.ts) sit in front of the app's routes; their shapes, for the metrics labels.
  const explorerTemplates = explorer ? ["/", "/depots", "/stats", "/auth/*", "/_ui/*", "/:namespace/:kind/:name"] : [];
  // Request metrics label by the app's route table from their first request: with metrics on, the app is built now.
  if (options.metrics) await app.load();
  const observe = options.metrics ? requestObserver(() => [...(app.routes() ?? []), ...explorerTemplates]) : undefined;
  const stopIndexMetrics = options.metrics
    ? indexObjects.add(() => [[{ kind: "Module" }, modules.list().length], [{ kind: "Provider" }, providers.list().length], [{ kind: "Version" }, versions.list().length]])
    : undefined;
  return {
    // The fixed protocol GETs are answered ahead of the app (and of the Explorer, which never serves their paths).
    handle: withRequestPolicy(handle, log, observe, app.fast),
    listen: (hostname: string, port: number, tls?: { cert: string; key: string }) => listen(handle, { hostname, port, tls, observe, fast: app.fast, staticRoutes }, log),
    stats,
    async stop() {
      stopIndexMetrics?.();
      staticRoutes?.stop();
      index.close();
      browse.close();
      auth?.stop();
      // Shared caches are stopped by the role that owns the set, after the controllers.
      if (!options.caches) caches.stop();
      await stats.close();
    },
  };
}

/** The key that signs now (the first of a ring): UI sessions are sealed with a key derived from it. */
const currentUrlKey = (key: Uint8Array | Uint8Array[]): Uint8Array => (Array.isArray(key) ? key[0]! : key);
