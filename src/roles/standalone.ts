// `opendepot standalone`: the embedded default. Store (bun:sqlite), filesystem storage and the registry server in
// one process, no cluster needed. Manifests in a directory are applied like `kubectl apply` and watched.
import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { type FlagSpec, parseListen } from "../cli/flags.ts";
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
import { STATS_FLAGS, startStats } from "./stats-flags.ts";
import { uiFromFlags } from "../ui/flags.ts";

export const STANDALONE_FLAGS: FlagSpec[] = [
  { name: "listen", env: "OPENDEPOT_LISTEN", default: "127.0.0.1:8080", description: "Address the registry listens on" },
  { name: "data-dir", env: "OPENDEPOT_DATA_DIR", default: "./.opendepot", description: "Where the store, artifacts and generated keys live" },
  { name: "manifests", env: "OPENDEPOT_MANIFESTS", description: "Directory of YAML manifests to apply and watch" },
  ...registryServerFlags({ keysGenerated: true }),
  { name: "admin-listen", env: "OPENDEPOT_ADMIN_LISTEN", default: "127.0.0.1:8081", description: "Address of the Kubernetes-compatible admin API (kubectl); empty or \"off\" disables it" },
  { name: "admin-token-file", env: "OPENDEPOT_ADMIN_TOKEN_FILE", description: "Bearer token of the admin API (generated as <data-dir>/admin-token when unset)" },
  { name: "watch-cache-size", env: "OPENDEPOT_WATCH_CACHE_SIZE", default: "10000", description: "Changes kept for watches resuming from a resourceVersion; older ones get 410 Gone" },
  ...AUTH_FLAGS,
  ...STATS_FLAGS,
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

  const store = EmbeddedStore.open(join(dataDir, "store.db"), { eventBufferSize: watchCacheSize });
  const loader = flags.manifests ? new ManifestLoader(store, resolve(flags.manifests), { log }) : undefined;
  if (loader) {
    const result = await loader.start();
    log.info("manifests applied", { directory: flags.manifests, applied: result.applied, unchanged: result.unchanged, deleted: result.deleted, errors: result.errors.length });
  }
  const signer = await loadSigningKey({ keyFile: flags["gpg-key-file"], passphraseFile: flags["gpg-passphrase-file"], dataDir, log });
  const urlKey = flags["url-signing-key-file"] ? await readKeyFile(flags["url-signing-key-file"]) : await loadOrCreateKey(join(dataDir, "url-signing.key"));
  const storageFor = storageFactory({ defaultRoot: join(dataDir, "artifacts") });
  const stats = await startStats(flags, { log, dataDir });
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
    stats,
    ui: await uiFromFlags(flags),
  });
  const http = server.listen(hostname, port, tls);
  const admin = adminListen ? await startAdminApi({ store, dataDir, ...adminListen, tokenFile: flags["admin-token-file"], log }) : undefined;

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info("shutting down", { signal });
    await http.stop();
    await admin?.stop();
    loader?.stop();
    await controllers?.stop();
    await server.stop();
    await store.close();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
  return { url: http.url, adminUrl: admin?.url, stop };
}
