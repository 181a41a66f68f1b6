// `opendepot serve`: the registry server against the Kubernetes API (stateless: run N replicas). Auth modes as
// v0.9: --anonymous-auth; OIDC; --use-bearer-token (TokenReview + SubjectAccessReview); else the kubeconfig mode,
// which only ever uses the token inside the caller's kubeconfig.
import { checks, parseListen, UsageError, type FlagSpec } from "../cli/flags.ts";
import { createLogger, type Level } from "../log.ts";
import { AUTH_FLAGS, authConfigFromFlags } from "./auth-flags.ts";
import { KubernetesGatekeeper } from "../server/kube-gatekeeper.ts";
import { KubeTokenReviewer, parseTokenAudiences } from "../server/kube-reviews.ts";
import { storageFactory } from "../storage/factory.ts";
import { KUBE_FLAGS, kubeFromFlags, onShutdown } from "./kube-flags.ts";
import { reviewsThrough } from "./kube-reviews.ts";
import { STORAGE_POLICY_FLAGS, storagePolicyFromFlags } from "./storage-policy.ts";
import { registryServerFlags, startRegistryServer, staticRoutesFromFlags, tlsFromFlags, urlTtlSeconds, yankGraceMs, mirrorFromFlags } from "./registry-server.ts";
import { readKeyRingFile } from "./secrets-on-disk.ts";
import { loadSigningKey } from "./signing-key.ts";
import { listenMetrics, metricsListenFlag, metricsPlacement } from "./metrics-listener.ts";
import { STATS_FLAGS, startStats } from "./stats-flags.ts";
import { uiFromFlags } from "./ui-flags.ts";
import { governMemory, MEMORY_LIMIT_FLAG } from "./memory-governor.ts";

export const SERVE_FLAGS: FlagSpec[] = [
  { name: "listen", env: "OPENDEPOT_LISTEN", default: "0.0.0.0:8080", description: "Address the registry listens on", check: checks.listen() },
  ...KUBE_FLAGS,
  ...registryServerFlags({ keysGenerated: false }),
  { name: "use-bearer-token", env: "OPENDEPOT_USE_BEARER_TOKEN", boolean: true, default: "false", description: "Authorise Kubernetes bearer tokens with TokenReview + SubjectAccessReview (else: kubeconfig mode)" },
  { name: "token-audiences", env: "OPENDEPOT_TOKEN_AUDIENCES", description: "Audiences a Kubernetes token may be for (TokenReview spec.audiences), comma-separated; api-server also accepts tokens for the API server's own audiences (default: --public-url,api-server)" },
  { name: "kubeconfig-allowed-servers", env: "OPENDEPOT_KUBECONFIG_ALLOWED_SERVERS", description: "Kubeconfig mode: API server URLs callers' kubeconfigs may name besides the one the server uses (comma-separated)" },
  { name: "default-storage-dir", env: "OPENDEPOT_DEFAULT_STORAGE_DIR", description: "Filesystem storage for resources without a storageConfig" },
  metricsListenFlag("0.0.0.0:8082", undefined, ""),
  ...STORAGE_POLICY_FLAGS,
  ...AUTH_FLAGS,
  ...STATS_FLAGS,
  MEMORY_LIMIT_FLAG,
];

export async function runServe(flags: Record<string, string | undefined>) {
  const log = createLogger({ level: flags["log-level"] as Level, fields: { role: "serve" } });
  const { hostname, port } = parseListen(flags.listen!);
  if (!flags["url-signing-key-file"]) throw new UsageError("--url-signing-key-file is required: every replica must sign download URLs with the same key");
  const tls = tlsFromFlags(flags);
  const mirror = mirrorFromFlags(flags);
  const auth = authConfigFromFlags(flags);
  // Anonymous only with --anonymous-auth: serve's default is the kubeconfig mode, which authorizes every request.
  const staticRoutes = staticRoutesFromFlags(flags, auth.mode === "anonymous" && auth.reason === "flag");
  const kube = kubeFromFlags(flags, { role: "serve", log });
  const metrics = metricsPlacement(flags["metrics-listen"], undefined);
  log.info("connecting to Kubernetes", { source: kube.connection.source, server: kube.connection.server, namespaces: kube.namespaces ?? "all" });
  let tokenAudiences;
  try {
    tokenAudiences = parseTokenAudiences(flags["token-audiences"], flags["public-url"]);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (!tokenAudiences.audiences.length) log.warn("TokenReview without a registry audience: set --public-url or --token-audiences so clients need not send tokens valid for the Kubernetes API");
  const reviewer = new KubeTokenReviewer(reviewsThrough(kube.client), undefined, undefined, tokenAudiences);
  const stats = await startStats(flags, { log });
  const policy = await storagePolicyFromFlags(flags, { kind: "kubernetes", ownNamespace: flags.namespace ?? "opendepot-system" }, log, flags["default-storage-dir"]);
  const kubeMode = auth.mode === "anonymous" && auth.reason === "default" ? (flags["use-bearer-token"] === "true" ? "bearer-token" : "kubeconfig") : undefined;
  const server = await startRegistryServer({
    store: kube.store,
    storageFor: storageFactory({ defaultRoot: flags["default-storage-dir"], policy: policy.current }),
    signer: await loadSigningKey({ keyFile: flags["gpg-key-file"], keyDir: flags["gpg-key-dir"], passphraseFile: flags["gpg-passphrase-file"], log }),
    urlKey: await readKeyRingFile(flags["url-signing-key-file"]),
    urlTtlSeconds: urlTtlSeconds(flags),
    yankGraceMs: yankGraceMs(flags),
    log,
    publicUrl: flags["public-url"],
    signingKeySourceUrl: flags["gpg-key-source-url"],
    mirror,
    auth,
    kubernetes: reviewer,
    namespaces: kube.namespaces,
    metrics: metrics.kind === "own",
    stats,
    ui: await uiFromFlags(flags),
    staticRoutes,
    ...(kubeMode ? { gatekeeper: new KubernetesGatekeeper(kubeMode, reviewer, log.child({ component: "auth" }), [kube.connection.server, ...(flags["kubeconfig-allowed-servers"] ?? "").split(",").map((s) => s.trim()).filter(Boolean)]) } : {}),
  });
  log.info("authentication", { mode: kubeMode ?? auth.mode });
  const http = server.listen(hostname, port, tls);
  const metricsServer = metrics.kind === "own" ? await listenMetrics(metrics, log) : undefined;
  const memory = governMemory(flags["memory-limit"], log);
  onShutdown(async (signal) => {
    log.info("shutting down", { signal });
    memory.stop();
    await http.stop();
    await metricsServer?.stop();
    await server.stop();
  });
  return { url: http.url };
}
