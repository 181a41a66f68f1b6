// `opendepot serve`: the registry server against the Kubernetes API (stateless: run N replicas). Auth modes as
// v0.9: --anonymous-auth; OIDC; --use-bearer-token (TokenReview + SubjectAccessReview); else the kubeconfig mode,
// which only ever uses the token inside the caller's kubeconfig.
import { checks, parseListen, UsageError, type FlagSpec } from "../cli/flags.ts";
import { createLogger, type Level } from "../log.ts";
import { AUTH_FLAGS, authConfigFromFlags } from "../server/auth/config.ts";
import { KubernetesGatekeeper } from "../server/kube-gatekeeper.ts";
import { KubeTokenReviewer } from "../server/kube-reviews.ts";
import { storageFactory } from "../storage/factory.ts";
import { KUBE_FLAGS, kubeFromFlags, onShutdown } from "./kube-flags.ts";
import { registryServerFlags, startRegistryServer, tlsFromFlags, urlTtlSeconds, mirrorFromFlags } from "./registry-server.ts";
import { readKeyFile } from "./secrets-on-disk.ts";
import { loadSigningKey } from "./signing-key.ts";
import { listenMetrics, metricsListenFlag, metricsPlacement } from "./metrics-listener.ts";

export const SERVE_FLAGS: FlagSpec[] = [
  { name: "listen", env: "OPENDEPOT_LISTEN", default: "0.0.0.0:8080", description: "Address the registry listens on", check: checks.listen() },
  ...KUBE_FLAGS,
  ...registryServerFlags({ keysGenerated: false }),
  { name: "use-bearer-token", env: "OPENDEPOT_USE_BEARER_TOKEN", boolean: true, default: "false", description: "Authorise Kubernetes bearer tokens with TokenReview + SubjectAccessReview (else: kubeconfig mode)" },
  { name: "kubeconfig-allowed-servers", env: "OPENDEPOT_KUBECONFIG_ALLOWED_SERVERS", description: "Kubeconfig mode: API server URLs callers' kubeconfigs may name besides the one the server uses (comma-separated)" },
  { name: "default-storage-dir", env: "OPENDEPOT_DEFAULT_STORAGE_DIR", description: "Filesystem storage for resources without a storageConfig" },
  metricsListenFlag("0.0.0.0:8082", undefined, ""),
  ...AUTH_FLAGS,
];

export async function runServe(flags: Record<string, string | undefined>) {
  const log = createLogger({ level: flags["log-level"] as Level, fields: { role: "serve" } });
  const { hostname, port } = parseListen(flags.listen!);
  if (!flags["url-signing-key-file"]) throw new UsageError("--url-signing-key-file is required: every replica must sign download URLs with the same key");
  const tls = tlsFromFlags(flags);
  const mirror = mirrorFromFlags(flags);
  const auth = authConfigFromFlags(flags);
  const kube = kubeFromFlags(flags);
  const metrics = metricsPlacement(flags["metrics-listen"], undefined);
  log.info("connecting to Kubernetes", { source: kube.connection.source, server: kube.connection.server, namespaces: kube.namespaces ?? "all" });
  const reviewer = new KubeTokenReviewer(kube.client);
  const kubeMode = auth.mode === "anonymous" && auth.reason === "default" ? (flags["use-bearer-token"] === "true" ? "bearer-token" : "kubeconfig") : undefined;
  const server = await startRegistryServer({
    store: kube.store,
    storageFor: storageFactory({ defaultRoot: flags["default-storage-dir"] }),
    signer: await loadSigningKey({ keyFile: flags["gpg-key-file"], passphraseFile: flags["gpg-passphrase-file"], log }),
    urlKey: await readKeyFile(flags["url-signing-key-file"]),
    urlTtlSeconds: urlTtlSeconds(flags),
    log,
    publicUrl: flags["public-url"],
    signingKeySourceUrl: flags["gpg-key-source-url"],
    mirror,
    auth,
    kubernetes: reviewer,
    namespaces: kube.namespaces,
    metrics: metrics.kind === "own",
    ...(kubeMode ? { gatekeeper: new KubernetesGatekeeper(kubeMode, reviewer, log.child({ component: "auth" }), [kube.connection.server, ...(flags["kubeconfig-allowed-servers"] ?? "").split(",").map((s) => s.trim()).filter(Boolean)]) } : {}),
  });
  log.info("authentication", { mode: kubeMode ?? auth.mode });
  const http = server.listen(hostname, port, tls);
  const metricsServer = metrics.kind === "own" ? listenMetrics(metrics, log) : undefined;
  onShutdown(async (signal) => {
    log.info("shutting down", { signal });
    await http.stop();
    await metricsServer?.stop();
    server.stop();
  });
  return { url: http.url };
}
