// `opendepot standalone`: the embedded default. Store (bun:sqlite), filesystem storage and the registry server in
// one process, no cluster needed. Manifests in a directory are applied like `kubectl apply` and watched.
import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { checks, type FlagSpec, parseListen } from "../cli/flags.ts";
import { createLogger, type Level } from "../log.ts";
import { EmbeddedStore } from "../store/embedded.ts";
import { ManifestLoader } from "../store/manifests.ts";
import { storageFactory } from "../storage/factory.ts";
import { loadSigningKey } from "./signing-key.ts";
import { loadOrCreateKey, readKeyFile } from "./secrets-on-disk.ts";
import { registryServerFlags, startRegistryServer, tlsFromFlags, urlTtlSeconds, mirrorFromFlags } from "./registry-server.ts";
import { CONTROLLER_FLAGS, startControllers } from "./controllers.ts";
import { startAdminApi } from "../kubeapi/admin.ts";
import { AUTH_FLAGS, authConfigFromFlags } from "../server/auth/config.ts";
import { listenMetrics, metricsHandler, metricsListenFlag, metricsPlacement } from "./metrics-listener.ts";

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
  ...AUTH_FLAGS,
  ...CONTROLLER_FLAGS,
];

export async function runStandalone(flags: Record<string, string | undefined>) {
  const log = createLogger({ level: flags["log-level"] as Level, fields: { role: "standalone" } });
  const { hostname, port } = parseListen(flags.listen!);
  const dataDir = resolve(flags["data-dir"]!);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const tls = tlsFromFlags(flags);
  const mirror = mirrorFromFlags(flags);
  const auth = authConfigFromFlags(flags); // anonymous unless an OIDC issuer is configured

  const watchCacheSize = Number(flags["watch-cache-size"]);
  if (!Number.isInteger(watchCacheSize) || watchCacheSize < 1) throw new Error(`--watch-cache-size must be a positive integer, got "${flags["watch-cache-size"]}"`);
  const adminListen = flags["admin-listen"] && flags["admin-listen"] !== "off" ? parseListen(flags["admin-listen"]) : undefined;
  const metrics = metricsPlacement(flags["metrics-listen"], "admin");
  const metricsOnAdmin = metrics.kind === "shared" && adminListen !== undefined;

  const store = EmbeddedStore.open(join(dataDir, "store.db"), { eventBufferSize: watchCacheSize });
  const loader = flags.manifests ? new ManifestLoader(store, resolve(flags.manifests), { log, prune: flags.prune !== "false" }) : undefined;
  if (loader) {
    const result = await loader.start();
    log.info("manifests applied", { directory: resolve(flags.manifests!), applied: result.applied, unchanged: result.unchanged, deleted: result.deleted, keptFromElsewhere: result.keptFromElsewhere, errors: result.errors.length });
  }
  const signer = await loadSigningKey({ keyFile: flags["gpg-key-file"], passphraseFile: flags["gpg-passphrase-file"], dataDir, log });
  const urlKeyPath = join(dataDir, "url-signing.key");
  const urlKeyExisted = flags["url-signing-key-file"] ? true : await Bun.file(urlKeyPath).exists();
  const urlKey = flags["url-signing-key-file"] ? await readKeyFile(flags["url-signing-key-file"]) : await loadOrCreateKey(urlKeyPath);
  if (!urlKeyExisted) log.info("generated a download-URL signing key (first start)", { path: urlKeyPath });
  const storageFor = storageFactory({ defaultRoot: join(dataDir, "artifacts") });
  const controllers = await startControllers({ store, storageFor, log, flags });
  const server = await startRegistryServer({
    store,
    storageFor,
    signer,
    urlKey,
    urlTtlSeconds: urlTtlSeconds(flags),
    log,
    publicUrl: flags["public-url"],
    signingKeySourceUrl: flags["gpg-key-source-url"],
    auth,
    mirror,
    metrics: metricsOnAdmin || metrics.kind === "own",
  });
  const http = server.listen(hostname, port, tls);
  const admin = adminListen ? await startAdminApi({ store, dataDir, ...adminListen, tokenFile: flags["admin-token-file"], log, metrics: metricsOnAdmin ? metricsHandler() : undefined }) : undefined;
  const metricsServer = metrics.kind === "own" ? listenMetrics(metrics, log) : undefined;

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info("shutting down", { signal });
    await http.stop();
    await admin?.stop();
    await metricsServer?.stop();
    loader?.stop();
    await controllers?.stop();
    server.stop();
    await store.close();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
  return { url: http.url, adminUrl: admin?.url, metricsUrl: metricsServer ? `${metricsServer.url.toString()}metrics` : metricsOnAdmin ? `${admin!.url}/metrics` : undefined, stop };
}
