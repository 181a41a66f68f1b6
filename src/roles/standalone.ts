// `opendepot standalone`: the embedded default. Store (bun:sqlite), filesystem storage and the registry server in
// one process, no cluster needed. Manifests in a directory are applied like `kubectl apply` and watched.
import { mkdir, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { checks, type FlagSpec, parseListen } from "../cli/flags.ts";
import { createLogger, type Level } from "../log.ts";
import { runtime } from "../runtime/index.ts";
import { EmbeddedStore } from "../store/embedded.ts";
import { CacheSet } from "../store/cache-set.ts";
import { asFieldManager, FIELD_MANAGERS } from "../store/field-manager.ts";
import { storageFactory } from "../storage/factory.ts";
import { loadSigningKey } from "./signing-key.ts";
import { loadOrCreateKeyRing, readKeyRingFile } from "./secrets-on-disk.ts";
import { registryServerFlags, startRegistryServer, staticRoutesFromFlags, tlsFromFlags, urlTtlSeconds, yankGraceMs, mirrorFromFlags } from "./registry-server.ts";
import { CONTROLLER_FLAGS, parseControllerList } from "./controller-flags.ts";
import { AUTH_FLAGS, authConfigFromFlags } from "./auth-flags.ts";
import { listenMetrics, metricsHandler, metricsListenFlag, metricsPlacement } from "./metrics-listener.ts";
import { STATS_FLAGS, startStats } from "./stats-flags.ts";
import { STORAGE_POLICY_FLAGS, storagePolicyFromFlags } from "./storage-policy.ts";
import { startTempSweeper } from "./temp-sweeper.ts";
import { uiFromFlags } from "./ui-flags.ts";
import { collectStartupGarbage } from "./startup-gc.ts";
import { governMemory, MEMORY_LIMIT_FLAG } from "./memory-governor.ts";

export const STANDALONE_FLAGS: FlagSpec[] = [
  { name: "listen", env: "OPENDEPOT_LISTEN", default: "127.0.0.1:8080", description: "Address the registry listens on", check: checks.listen() },
  { name: "data-dir", env: "OPENDEPOT_DATA_DIR", default: "./.opendepot", description: "Where the store, artifacts and generated keys live" },
  { name: "manifests", env: "OPENDEPOT_MANIFESTS", description: "Directory of YAML manifests to apply and watch" },
  { name: "prune", env: "OPENDEPOT_PRUNE", default: "true", boolean: true, description: "Delete objects the --manifests directory applied and no longer declares (never objects from another directory or the API)" },
  ...registryServerFlags({ keysGenerated: true }),
  { name: "admin-listen", env: "OPENDEPOT_ADMIN_LISTEN", default: "127.0.0.1:8081", description: "Address of the Kubernetes-compatible admin API (kubectl); empty or \"off\" disables it", check: checks.listen(true) },
  metricsListenFlag("admin", "admin", "on the --admin-listen API, to the admin token or whom RBAC allows GET /metrics"),
  { name: "admin-token-file", env: "OPENDEPOT_ADMIN_TOKEN_FILE", description: "Bearer token of the admin API (generated as <data-dir>/admin-token when unset)" },
  { name: "watch-cache-size", env: "OPENDEPOT_WATCH_CACHE_SIZE", default: "10000", description: "Changes kept for watches resuming from a resourceVersion; older ones get 410 Gone", check: checks.integer(1, 10_000_000) },
  ...STORAGE_POLICY_FLAGS,
  ...AUTH_FLAGS,
  ...STATS_FLAGS,
  ...CONTROLLER_FLAGS,
  MEMORY_LIMIT_FLAG,
];

export async function runStandalone(flags: Record<string, string | undefined>) {
  const log = createLogger({ level: flags["log-level"] as Level, fields: { role: "standalone" } });
  const { hostname, port } = parseListen(flags.listen!);
  const dataDir = resolve(flags["data-dir"]!);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const dirMode = (await stat(dataDir)).mode & 0o777;
  // A pre-created directory keeps its mode; its files are 0600 regardless, but say so loudly.
  if (dirMode & 0o077) log.error("the data directory is accessible to other users; it holds the store (with Secrets) and private keys: chmod 700 it", { path: dataDir, mode: dirMode.toString(8) });
  const tls = tlsFromFlags(flags);
  const mirror = mirrorFromFlags(flags);
  const auth = authConfigFromFlags(flags); // anonymous unless an OIDC issuer is configured
  const staticRoutes = staticRoutesFromFlags(flags, auth.mode === "anonymous");

  const watchCacheSize = Number(flags["watch-cache-size"]);
  if (!Number.isInteger(watchCacheSize) || watchCacheSize < 1) throw new Error(`--watch-cache-size must be a positive integer, got "${flags["watch-cache-size"]}"`);
  const adminListen = flags["admin-listen"] && flags["admin-listen"] !== "off" ? parseListen(flags["admin-listen"]) : undefined;
  const metrics = metricsPlacement(flags["metrics-listen"], "admin");
  const metricsOnAdmin = metrics.kind === "shared" && adminListen !== undefined;

  // A cluster's own namespaces exist from the start, and so does the server's (tokens, RBAC policies, bindings).
  const store = EmbeddedStore.open(join(dataDir, "store.db"), { eventBufferSize: watchCacheSize, namespaces: [flags.namespace ?? "opendepot-system"], log });
  // The manifest loader (YAML) and the admin API (kubectl: CRDs, OpenAPI, tables) are loaded only when enabled:
  // the registry's hot path needs neither, and their module graphs cost startup time and memory.
  const loader = flags.manifests ? new (await import("../store/manifests.ts")).ManifestLoader(asFieldManager(store, FIELD_MANAGERS.manifests), resolve(flags.manifests), { log, prune: flags.prune !== "false" }) : undefined;
  if (loader) {
    const result = await loader.start();
    log.info("manifests applied", { directory: resolve(flags.manifests!), applied: result.applied, unchanged: result.unchanged, deleted: result.deleted, keptFromElsewhere: result.keptFromElsewhere, errors: result.errors.length });
  }
  const signer = await loadSigningKey({ keyFile: flags["gpg-key-file"], keyDir: flags["gpg-key-dir"], passphraseFile: flags["gpg-passphrase-file"], dataDir, log });
  const urlKeyPath = join(dataDir, "url-signing.key");
  const urlKeyExisted = flags["url-signing-key-file"] ? true : await runtime.exists(urlKeyPath);
  const urlKey = flags["url-signing-key-file"] ? await readKeyRingFile(flags["url-signing-key-file"]) : await loadOrCreateKeyRing(urlKeyPath);
  if (!urlKeyExisted) log.info("generated a download-URL signing key (first start)", { path: urlKeyPath });
  const defaultRoot = join(dataDir, "artifacts");
  const policy = await storagePolicyFromFlags(flags, { kind: "standalone", dataDir }, log, defaultRoot);
  const storageFor = storageFactory({ defaultRoot, policy: policy.current });
  const stats = await startStats(flags, { log, dataDir });
  // One set of watch-fed caches for the controllers, the registry server and auth: each object is held once.
  const caches = new CacheSet(store, { log });
  // Built now (their kinds join the shared set), started once the server listens: the first round of reconciles
  // over every object must not delay serving what the store already holds.
  // The controllers' modules are imported only when some are enabled (--controllers "" serves alone).
  const controllers = parseControllerList(flags.controllers).length ? (await import("./controller-manager.ts")).buildControllers({ store, storageFor, storagePolicy: policy.current, log, flags, caches }) : undefined;
  const sweeper = controllers ? startTempSweeper({ workDir: flags["work-dir"], storageRoots: [defaultRoot], log }) : undefined;
  const server = await startRegistryServer({
    store,
    storageFor,
    signer,
    urlKey,
    urlTtlSeconds: urlTtlSeconds(flags),
    yankGraceMs: yankGraceMs(flags),
    log,
    publicUrl: flags["public-url"],
    signingKeySourceUrl: flags["gpg-key-source-url"],
    auth,
    mirror,
    metrics: metricsOnAdmin || metrics.kind === "own",
    stats,
    ui: await uiFromFlags(flags),
    caches,
    staticRoutes,
  });
  const http = server.listen(hostname, port, tls);
  // After listening (a full collection of startup's garbage takes ~50-90 ms), before the controllers add their own.
  await new Promise((resolve) => setTimeout(resolve, 0));
  collectStartupGarbage(store);
  const memory = governMemory(flags["memory-limit"], log);
  await controllers?.start();
  const admin = adminListen ? await (await import("../kubeapi/admin.ts")).startAdminApi({ store, dataDir, ...adminListen, tokenFile: flags["admin-token-file"], log, metrics: metricsOnAdmin ? await metricsHandler() : undefined }) : undefined;
  const metricsServer = metrics.kind === "own" ? await listenMetrics(metrics, log) : undefined;

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info("shutting down", { signal });
    memory.stop();
    await http.stop();
    await admin?.stop();
    await metricsServer?.stop();
    loader?.stop();
    policy.stop();
    sweeper?.stop();
    await controllers?.stop();
    await server.stop();
    caches.stop();
    await store.close();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
  return { url: http.url, adminUrl: admin?.url, metricsUrl: metricsServer ? `${metricsServer.url.toString()}metrics` : metricsOnAdmin ? `${admin!.url}/metrics` : undefined, stop };
}
