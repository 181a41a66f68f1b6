// The admin listener of `opendepot standalone`: the Kubernetes-compatible API on its own address (loopback by
// default) over HTTPS with a private CA of its own (kubectl sends tokens only over TLS), an admin token kept in the
// data directory (mode 0600) unless the operator supplies one, and a ready-to-use kubeconfig next to them, so that
// `KUBECONFIG=<data-dir>/kubeconfig kubectl get modules` works.
import { randomBytes, X509Certificate } from "node:crypto";
import { chmod, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { hostname as machineName } from "node:os";
import { join } from "node:path";
import { Namespace } from "../api/kinds.ts";
import type { KubeObject } from "../api/meta.ts";
import type { Logger } from "../log.ts";
import { runtime } from "../runtime/index.ts";
import { isAlreadyExists } from "../store/errors.ts";
import type { ResourceStore } from "../store/types.ts";
import { createKubeApi, type KubeApi, type KubeApiOptions } from "./api.ts";
import { SYSTEM_NAMESPACE } from "./identity.ts";
import { issueServerCertificate } from "./self-signed.ts";

const MIN_TOKEN_LENGTH = 16;

/** The operator's token file, or `<dataDir>/admin-token` (created with a fresh random token when absent). */
export async function loadAdminToken(dataDir: string, tokenFile: string | undefined, log: Logger): Promise<string> {
  const path = tokenFile ?? join(dataDir, "admin-token");
  try {
    const token = (await readFile(path, "utf8")).trim();
    if (token.length < MIN_TOKEN_LENGTH || /\s/.test(token)) throw new Error(`${path} must hold one token of at least ${MIN_TOKEN_LENGTH} characters`);
    const mode = (await stat(path)).mode & 0o777;
    if (mode & 0o077) log.warn("the admin token file is readable by other users", { path, mode: mode.toString(8) });
    return token;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT" || tokenFile) throw e;
  }
  const token = randomBytes(32).toString("base64url");
  await writeFile(path, `${token}\n`, { mode: 0o600, flag: "wx" });
  await chmod(path, 0o600);
  log.info("generated an admin token for the Kubernetes-compatible API", { path });
  return token;
}

/**
 * Writes a 0600 file atomically, and only when its content changed: a restart on a full disk must not need space
 * for files it already has. A failed write leaves no temp file behind and says "disk full at <path>" when it was.
 */
async function writeSecret(path: string, text: string): Promise<void> {
  const existing = await readFile(path, "utf8").catch(() => undefined);
  if (existing === text) {
    if (((await stat(path)).mode & 0o077) !== 0) await chmod(path, 0o600);
    return;
  }
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(tmp, text, { mode: 0o600 });
    await chmod(tmp, 0o600);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => {});
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOSPC" || code === "EDQUOT") throw new Error(`disk full at ${path}: ${(e as Error).message}`, { cause: e });
    throw e;
  }
}

export interface ServingCertificate {
  caPem: string;
  certPem: string;
  keyPem: string;
}

/**
 * The admin listener's CA and certificate from the data directory (`admin-ca.crt`, `admin-tls.crt`,
 * `admin-tls.key`), issued anew when missing, expiring within 30 days, or not covering every host in `hosts`.
 */
export async function loadOrIssueCertificate(dataDir: string, hosts: string[], log: Logger): Promise<ServingCertificate> {
  const files = { ca: join(dataDir, "admin-ca.crt"), cert: join(dataDir, "admin-tls.crt"), key: join(dataDir, "admin-tls.key") };
  try {
    const [caPem, certPem, keyPem] = await Promise.all([readFile(files.ca, "utf8"), readFile(files.cert, "utf8"), readFile(files.key, "utf8")]);
    const cert = new X509Certificate(certPem);
    const sans = (cert.subjectAltName ?? "").split(", ").map((s) => s.replace(/^(DNS|IP Address):/, ""));
    const covers = hosts.every((h) => sans.includes(h) || (h === "::1" && sans.includes("0:0:0:0:0:0:0:1")));
    if (covers && Date.parse(cert.validTo) - Date.now() > 30 * 86_400_000 && cert.checkIssued(new X509Certificate(caPem))) return { caPem, certPem, keyPem };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") log.warn("issuing a new admin API certificate", { reason: (e as Error).message });
  }
  const { ca, server } = issueServerCertificate(hosts);
  await writeSecret(files.key, server.keyPem);
  await writeSecret(files.cert, server.certPem);
  await writeSecret(files.ca, ca.certPem);
  log.info("issued a certificate for the Kubernetes-compatible API", { ca: files.ca, hosts });
  return { caPem: ca.certPem, certPem: server.certPem, keyPem: server.keyPem };
}

/** A kubeconfig with one cluster, user and context, written atomically with mode 0600. */
export async function writeKubeconfig(path: string, server: string, token: string, caPem?: string): Promise<void> {
  const config = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "opendepot", cluster: { server, ...(caPem ? { "certificate-authority-data": Buffer.from(caPem).toString("base64") } : {}) } }],
    users: [{ name: "opendepot-admin", user: { token } }],
    contexts: [{ name: "opendepot", context: { cluster: "opendepot", user: "opendepot-admin", namespace: "default" } }],
    "current-context": "opendepot",
    preferences: {},
  };
  await writeSecret(path, `${runtime.stringifyYaml(config, 2)}\n`);
}

/** The namespaces every cluster has: `default`, and ours for tokens and RBAC policies. */
export async function ensureNamespaces(store: ResourceStore): Promise<void> {
  for (const name of ["default", SYSTEM_NAMESPACE]) {
    const ns: KubeObject = { apiVersion: "v1", kind: "Namespace", metadata: { name, labels: { "kubernetes.io/metadata.name": name } }, status: { phase: "Active" } };
    if (await store.get(Namespace, undefined, name)) continue;
    await store.create(ns).catch((e) => {
      if (!isAlreadyExists(e)) throw e;
    });
  }
}

export interface KubeApiListener {
  url: string;
  api: KubeApi;
  stop(): Promise<void>;
}

export interface ListenKubeApiOptions extends KubeApiOptions {
  hostname: string;
  port: number;
  /** PEM texts; plain HTTP without (kubectl will not send credentials then: fine for in-process clients). */
  tls?: { cert: string; key: string };
}

/** Serve the API on a socket. Watches are long-lived, so the listener's idle timeout is lifted per watch. */
export function listenKubeApi(options: ListenKubeApiOptions): KubeApiListener {
  const api = createKubeApi(options);
  const server = runtime.serve({
    hostname: options.hostname,
    port: options.port,
    fetch: (request, context) => api.handle(request, context),
    // Our own limit answers with a Status; Bun's (a little higher) only stops a body that keeps coming.
    maxRequestBodySize: api.maxBodyBytes + 1024 * 1024,
    idleTimeoutSeconds: 120,
    ...(options.tls ? { tls: { cert: options.tls.cert, key: options.tls.key } } : {}),
  });
  const host = options.hostname.includes(":") ? `[${options.hostname}]` : options.hostname;
  return {
    url: `${options.tls ? "https" : "http"}://${host}:${server.port}`,
    api,
    async stop() {
      api.close();
      await server.stop(true);
    },
  };
}

export interface AdminApiOptions {
  store: ResourceStore;
  dataDir: string;
  hostname: string;
  port: number;
  tokenFile?: string;
  log: Logger;
  bookmarkIntervalMs?: number;
  /** Serve Prometheus metrics at /metrics (to the admin token, or whom RBAC allows nonResourceURLs /metrics). */
  metrics?: () => Promise<Response>;
  ownerReferencesPermissionEnforcement?: boolean;
}

const WILDCARDS = new Set(["0.0.0.0", "::", ""]);

/** Everything standalone needs: token, namespaces, certificate, listener, kubeconfig. */
export async function startAdminApi(options: AdminApiOptions): Promise<KubeApiListener & { kubeconfig: string; caPem: string }> {
  const log = options.log.child({ component: "kubeapi" });
  const adminToken = await loadAdminToken(options.dataDir, options.tokenFile, log);
  await ensureNamespaces(options.store);
  const wildcard = WILDCARDS.has(options.hostname);
  const hosts = ["localhost", "127.0.0.1", "::1", ...(wildcard ? [machineName()] : [options.hostname])];
  const cert = await loadOrIssueCertificate(options.dataDir, hosts, log);
  const listener = listenKubeApi({
    store: options.store,
    adminToken,
    log,
    hostname: options.hostname,
    port: options.port,
    tls: { cert: cert.certPem, key: cert.keyPem },
    bookmarkIntervalMs: options.bookmarkIntervalMs,
    metrics: options.metrics,
    ownerReferencesPermissionEnforcement: options.ownerReferencesPermissionEnforcement,
  });
  // A wildcard listen address is reached through loopback by the local kubectl.
  const local = wildcard ? listener.url.replace(/\/\/[^/]*:(\d+)$/, "//127.0.0.1:$1") : listener.url;
  const kubeconfig = join(options.dataDir, "kubeconfig");
  try {
    await writeKubeconfig(kubeconfig, local, adminToken, cert.caPem);
  } catch (e) {
    // The API itself works without the file; a stale kubeconfig beats no API at all.
    log.error("cannot write the kubeconfig; the API is serving anyway", { path: kubeconfig, error: e instanceof Error ? e.message : String(e) });
  }
  log.info("Kubernetes-compatible API listening", { url: listener.url, kubeconfig });
  return { ...listener, url: local, kubeconfig, caPem: cert.caPem };
}
