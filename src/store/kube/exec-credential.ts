// The client.authentication.k8s.io exec credential protocol, for the registry's OWN kubeconfig (EKS
// `aws eks get-token`, GKE `gke-gcloud-auth-plugin`, AKS `kubelogin`): run the configured command, read the
// ExecCredential it prints, use its token or client certificate, and cache it until its expirationTimestamp (or
// until the API server answers 401). Never interactive; bounded in time and output. Kubeconfigs that callers
// send to the registry server are never run (server/kube-gatekeeper.ts takes only their token).
import { dirname, isAbsolute, join } from "node:path";
import { runtime } from "../../runtime/index.ts";

export interface ExecConfig {
  apiVersion?: string;
  command?: string;
  args?: string[];
  env?: { name?: string; value?: string }[] | null;
  interactiveMode?: string;
  provideClusterInfo?: boolean;
}

export interface ExecCredentials {
  token?: string;
  cert?: string;
  key?: string;
}

export class ExecCredentialError extends Error {
  override readonly name = "ExecCredentialError";
}

const API_VERSIONS = new Set(["client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"]);
const MAX_OUTPUT = 1024 * 1024;

interface Options {
  kubeconfigPath: string;
  cluster: { server: string; "certificate-authority-data"?: string; "insecure-skip-tls-verify"?: boolean };
  timeoutMs?: number;
  now?: () => number;
  env?: Record<string, string | undefined>;
}

/** A cached provider of the plugin's credentials; `invalidate()` forces the next call to run the plugin again. */
export function execCredentialProvider(exec: ExecConfig, options: Options): { get(): Promise<ExecCredentials>; invalidate(): void; runs(): number } {
  const apiVersion = exec.apiVersion ?? "";
  if (!API_VERSIONS.has(apiVersion)) throw new ExecCredentialError(`exec plugin apiVersion "${apiVersion.slice(0, 64)}" is not supported (use client.authentication.k8s.io/v1)`);
  if (typeof exec.command !== "string" || !exec.command) throw new ExecCredentialError("exec plugin has no command");
  if (exec.interactiveMode === "Always") throw new ExecCredentialError("exec plugin needs an interactive terminal (interactiveMode: Always), which a server process does not have");
  const now = options.now ?? Date.now;
  // Like client-go: a relative command with a path separator is relative to the kubeconfig's directory.
  const command = exec.command.includes("/") && !isAbsolute(exec.command) ? join(dirname(options.kubeconfigPath), exec.command) : exec.command;
  let cached: { value: ExecCredentials; expiresAt: number } | undefined;
  let inFlight: Promise<ExecCredentials> | undefined;
  let runs = 0;

  async function run(): Promise<ExecCredentials> {
    runs++;
    const info = {
      apiVersion,
      kind: "ExecCredential",
      spec: { interactive: false, ...(exec.provideClusterInfo ? { cluster: { server: options.cluster.server, "certificate-authority-data": options.cluster["certificate-authority-data"], "insecure-skip-tls-verify": options.cluster["insecure-skip-tls-verify"] === true } } : {}) },
    };
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(options.env ?? process.env)) if (v !== undefined) env[k] = v;
    for (const e of exec.env ?? []) if (e?.name) env[e.name] = e.value ?? "";
    env.KUBERNETES_EXEC_INFO = JSON.stringify(info);
    let proc;
    try {
      proc = runtime.spawn([command, ...(exec.args ?? []).map(String)], { env, timeoutMs: options.timeoutMs ?? 60_000 });
    } catch (e) {
      throw new ExecCredentialError(`exec plugin ${command}: ${(e as Error).message}`);
    }
    const [stdout, stderr, code] = await Promise.all([bounded(proc.stdout), bounded(proc.stderr), proc.exited]);
    if (code !== 0) throw new ExecCredentialError(`exec plugin ${command} exited with ${proc.signalCode ?? code}: ${stderr.trim().slice(0, 500)}`);
    let doc: { apiVersion?: string; kind?: string; status?: Record<string, unknown> };
    try {
      doc = JSON.parse(stdout);
    } catch {
      throw new ExecCredentialError(`exec plugin ${command} printed no ExecCredential JSON`);
    }
    if (doc?.kind !== "ExecCredential" || doc.apiVersion !== apiVersion) throw new ExecCredentialError(`exec plugin ${command} answered ${String(doc?.kind)} ${String(doc?.apiVersion)}, expected ExecCredential ${apiVersion}`);
    const s = doc.status ?? {};
    const str = (k: string) => (typeof s[k] === "string" && s[k] ? (s[k] as string) : undefined);
    const value: ExecCredentials = { token: str("token"), cert: str("clientCertificateData"), key: str("clientKeyData") };
    if (!value.token && !(value.cert && value.key)) throw new ExecCredentialError(`exec plugin ${command} returned neither a token nor a client certificate and key`);
    const expiry = str("expirationTimestamp");
    const expiresAt = expiry ? Date.parse(expiry) : Number.POSITIVE_INFINITY;
    if (Number.isNaN(expiresAt)) throw new ExecCredentialError(`exec plugin ${command} returned an invalid expirationTimestamp`);
    cached = { value, expiresAt };
    return value;
  }

  return {
    async get() {
      if (cached && now() < cached.expiresAt) return cached.value;
      inFlight ??= run().finally(() => (inFlight = undefined));
      return inFlight;
    },
    invalidate() {
      cached = undefined;
    },
    runs: () => runs,
  };
}

async function bounded(stream: ReadableStream<Uint8Array>): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += chunk.length;
    if (size > MAX_OUTPUT) throw new ExecCredentialError(`exec plugin output is larger than ${MAX_OUTPUT} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}
