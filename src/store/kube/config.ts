// Where the Kubernetes API is and how to authenticate to it: in-cluster (service-account token, re-read on every
// request because kubelet rotates it, and the cluster CA) or a kubeconfig's current context (token or client
// certificate, CA, or an exec credential plugin: this is the registry's own trusted config, so its plugin runs, as
// with every Kubernetes tool; see exec-credential.ts). Legacy auth-provider helpers are refused.
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, isAbsolute, join } from "node:path";
import { runtime } from "../../runtime/index.ts";
import { execCredentialProvider, type ExecConfig } from "./exec-credential.ts";

export interface KubeConnection {
  server: string;
  /** Bearer token, or a function that reads it fresh (rotated service-account tokens). */
  token?: () => string | undefined;
  tls: { ca?: string; cert?: string; key?: string; rejectUnauthorized: boolean };
  /**
   * Credentials that come and go (an exec credential plugin's token or client certificate), fetched before each
   * request and cached by their provider; they take precedence over `token` and the TLS client certificate.
   */
  credentials?: () => Promise<{ token?: string; cert?: string; key?: string } | undefined>;
  /** Forget cached credentials (after a 401, as client-go does for exec plugins). */
  invalidate?: () => void;
  /** The namespace the kubeconfig context or the pod runs in. */
  namespace?: string;
  source: string;
}

const SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

export class KubeConfigError extends Error {
  override readonly name = "KubeConfigError";
}

export function inClusterConnection(env: Record<string, string | undefined> = process.env, saDir = SA_DIR): KubeConnection | undefined {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port || !existsSync(join(saDir, "token"))) return undefined;
  const hostPart = host.includes(":") ? `[${host}]` : host;
  return {
    server: `https://${hostPart}:${port}`,
    token: () => readFileSync(join(saDir, "token"), "utf8").trim(),
    tls: { ca: existsSync(join(saDir, "ca.crt")) ? readFileSync(join(saDir, "ca.crt"), "utf8") : undefined, rejectUnauthorized: true },
    namespace: existsSync(join(saDir, "namespace")) ? readFileSync(join(saDir, "namespace"), "utf8").trim() : undefined,
    source: "in-cluster service account",
  };
}

interface Named<T> {
  name: string;
  [k: string]: unknown;
  value?: T;
}

function pick<T>(list: unknown, name: string | undefined, field: string, what: string): T {
  const entry = (Array.isArray(list) ? (list as Named<T>[]) : []).find((e) => e?.name === name);
  if (!entry || typeof entry[field] !== "object") throw new KubeConfigError(`kubeconfig: ${what} "${name}" not found`);
  return entry[field] as T;
}

const fileOrData = (base: string, file: unknown, data: unknown): string | undefined => {
  if (typeof data === "string" && data) return Buffer.from(data, "base64").toString("utf8");
  if (typeof file === "string" && file) return readFileSync(isAbsolute(file) ? file : join(base, file), "utf8");
  return undefined;
};

/** The current context of a kubeconfig file. */
export function kubeconfigConnection(path: string, contextName?: string): KubeConnection {
  const doc = runtime.parseYaml(readFileSync(path, "utf8")) as Record<string, unknown> | null;
  if (!doc || typeof doc !== "object") throw new KubeConfigError(`kubeconfig ${path} is empty or not a mapping`);
  const base = dirname(path);
  const ctxName = contextName ?? (doc["current-context"] as string | undefined);
  const ctx = pick<{ cluster?: string; user?: string; namespace?: string }>(doc.contexts, ctxName, "context", "context");
  const cluster = pick<Record<string, unknown>>(doc.clusters, ctx.cluster, "cluster", "cluster");
  const user = ctx.user ? pick<Record<string, unknown>>(doc.users, ctx.user, "user", "user") : {};
  if (user["auth-provider"]) {
    throw new KubeConfigError(`kubeconfig user "${ctx.user}" uses an auth provider, which Kubernetes itself removed: use an exec plugin, a token or a client certificate`);
  }
  const server = cluster.server;
  if (typeof server !== "string" || !/^https?:\/\//.test(server)) throw new KubeConfigError(`kubeconfig cluster "${ctx.cluster}" has no valid server URL`);
  const tokenFile = user.tokenFile as string | undefined;
  const staticToken = user.token as string | undefined;
  let exec: ReturnType<typeof execCredentialProvider> | undefined;
  if (user.exec) {
    try {
      exec = execCredentialProvider(user.exec as ExecConfig, { kubeconfigPath: path, cluster: { ...(cluster as { "certificate-authority-data"?: string; "insecure-skip-tls-verify"?: boolean }), server } });
    } catch (e) {
      throw new KubeConfigError(`kubeconfig user "${ctx.user}": ${(e as Error).message}`);
    }
  }
  return {
    ...(exec ? { credentials: exec.get, invalidate: exec.invalidate } : {}),
    server: server.replace(/\/+$/, ""),
    token: staticToken ? () => staticToken : tokenFile ? () => readFileSync(isAbsolute(tokenFile) ? tokenFile : join(base, tokenFile), "utf8").trim() : undefined,
    tls: {
      ca: fileOrData(base, cluster["certificate-authority"], cluster["certificate-authority-data"]),
      cert: fileOrData(base, user["client-certificate"], user["client-certificate-data"]),
      key: fileOrData(base, user["client-key"], user["client-key-data"]),
      rejectUnauthorized: cluster["insecure-skip-tls-verify"] !== true,
    },
    namespace: ctx.namespace,
    source: `kubeconfig ${path} context ${ctxName}`,
  };
}

/** --kubeconfig, else $KUBECONFIG, else in-cluster, else ~/.kube/config. */
export function resolveConnection(kubeconfig?: string, env: Record<string, string | undefined> = process.env): KubeConnection {
  const explicit = kubeconfig ?? env.KUBECONFIG?.split(":")[0];
  if (explicit) return kubeconfigConnection(explicit);
  const inCluster = inClusterConnection(env);
  if (inCluster) return inCluster;
  const home = join(homedir(), ".kube", "config");
  if (existsSync(home)) return kubeconfigConnection(home);
  throw new KubeConfigError("no Kubernetes connection: not in a cluster, and no --kubeconfig, $KUBECONFIG or ~/.kube/config");
}
