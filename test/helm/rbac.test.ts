// RBAC derived from the code, not from a hand list: the `controller` and `serve` roles run with the exact args and
// env the chart renders (paths and ports moved to the test's), against the Kubernetes-compatible API through a
// recording proxy, through a scenario that drives every write path (a Depot creating and adopting Modules and
// Providers, Versions synced, deleted and force-synced, READMEs restored, GroupBindings, leader election, keys
// bootstrap, TokenReview/SubjectAccessReview, the browse API reading a README, a corrupted artifact refused and its
// repair hint stamped on the Version). Then, for each role: every call it made is granted by the rendered
// RBAC for its ServiceAccount, and every granted permission was used by some call.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdir, mkdtemp, readdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FixtureOidcProvider } from "../../fixtures/oidc-provider.ts";
import { seedStandInDb, STANDIN_TRIVY, standInInvocations } from "../../fixtures/trivy/standin-db.ts";
import { startSampleUpstreams, type SampleUpstreams } from "../../fixtures/upstream-fakes.ts";
import { freePort, waitFor } from "../support/ports.ts";
import { startRole, type RoleProcess } from "../support/role-process.ts";
import { startStandalone, type StandaloneProcess } from "../support/standalone-process.ts";
import { HELMS, NAMESPACE, podSpecs, RELEASE, ROOT, template, type K8sObject } from "./helm.ts";
import { readKeyRingFile } from "../../src/roles/secrets-on-disk.ts";
import { UrlSigner } from "../../src/server/url-signer.ts";
import { compare, grantsFor } from "./rbac-model.ts";
import { startRecordingProxy, type RecordingProxy } from "./recording-proxy.ts";

const FULLNAME = `${RELEASE}-opendepot`;
const cleanup: (() => Promise<unknown> | unknown)[] = [];
afterAll(async () => {
  for (const fn of cleanup.reverse()) await fn();
});

const content = (ns: string) => `apiVersion: v1
kind: Namespace
metadata: { name: ${ns} }
---
apiVersion: opendepot.defdev.io/v1alpha1
kind: Module
metadata: { name: terraform-aws-vpc, namespace: ${ns} }
spec:
  moduleConfig: { repoOwner: acme, provider: aws, fileFormat: zip }
  versions: [{ version: v1.2.0 }]
---
apiVersion: opendepot.defdev.io/v1alpha1
kind: Module
metadata: { name: private, namespace: ${ns} }
spec:
  moduleConfig: { name: terraform-aws-vpc, repoOwner: acme, provider: aws, githubClientConfig: { useAuthenticatedClient: true } }
  versions: [{ version: v1.2.0 }]
---
apiVersion: opendepot.defdev.io/v1alpha1
kind: Provider
metadata: { name: aws, namespace: ${ns} }
spec:
  providerConfig: { operatingSystems: [linux], architectures: [amd64] }
  versions: [{ version: 5.80.0 }, { version: 5.81.0 }]
---
apiVersion: opendepot.defdev.io/v1alpha1
kind: Provider
metadata: { name: random, namespace: ${ns} }
spec:
  providerConfig: { operatingSystems: [linux], architectures: [amd64] }
  versions: [{ version: 3.6.3 }]
---
apiVersion: opendepot.defdev.io/v1alpha1
kind: GroupBinding
metadata: { name: everyone, namespace: ${ns} }
spec: { expression: "true" }
---
apiVersion: opendepot.defdev.io/v1alpha1
kind: Depot
metadata: { name: mirror, namespace: ${ns} }
spec:
  global: { storageConfig: { fileSystem: {} }, moduleConfig: { fileFormat: zip } }
  moduleConfigs:
    - { name: terraform-aws-vpc, provider: aws, repoOwner: acme, versionConstraints: ">= 2.0.0, < 2.1.0" }
    - { name: terraform-aws-s3, provider: aws, repoOwner: acme, versionConstraints: "~> 2.2" }
  providerConfigs:
    - { name: random, operatingSystems: [linux], architectures: [amd64], versionConstraints: "3.6.3" }
    - { name: "null", operatingSystems: [linux], architectures: [amd64], versionConstraints: "1.0.0" }
`;

/** Files under dir (recursively) whose name is fileName. */
async function findFiles(dir: string, fileName: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile() && e.name === fileName).map((e) => join(e.parentPath, e.name));
}

/** The browse API answers a module's detail with its README (from the server's ConfigMap cache). */
async function browseReadme(serverUrl: string, auth: Record<string, string>, ns: string) {
  const detail = await waitFor(async () => {
    const r = await fetch(`${serverUrl}/opendepot/ui/v1/resources/${ns}/module/terraform-aws-vpc`, { headers: auth });
    const body = r.status === 200 ? ((await r.json()) as any) : undefined;
    return typeof body?.readmeContent === "string" ? body : undefined;
  }, 30_000, "the browse API to show the module with its README");
  expect(detail.readmeContent).toContain("# terraform-aws-vpc");
}

/**
 * A download of an artifact corrupted in storage is refused, so the server stamps the repair hint on the Version
 * (its patch). The archive URL is signed here with the keys Secret's URL-signing key, as the server would sign it:
 * a signed URL needs no token, in every auth mode.
 */
async function refuseCorrupt(serverUrl: string, keys: string, ns: string, artifacts: string, cluster: Cluster) {
  const version = await cluster.json("get", "version", "terraform-aws-vpc-1-2-0", "-n", ns);
  const signer = new UrlSigner(await readKeyRingFile(join(keys, "url-signing.key")), 900);
  const url = `${serverUrl}${signer.sign(`/opendepot/modules/v1/${ns}/terraform-aws-vpc/aws/1.2.0/archive/${version.spec.fileName}`, version.status.checksum)}`;
  expect((await fetch(url)).status).toBe(200);
  const files = await findFiles(artifacts, version.spec.fileName);
  expect(files.length).toBe(1);
  const bytes = new Uint8Array(await Bun.file(files[0]!).arrayBuffer());
  bytes[100] = bytes[100]! ^ 0xff; // same size, different bytes
  await writeFile(files[0]!, bytes);
  expect((await fetch(url)).status).toBe(503);
  const stamped = await waitFor(async () => (await cluster.json("get", "version", "terraform-aws-vpc-1-2-0", "-n", ns)).metadata.annotations?.["opendepot.defdev.io/repair-requested"], 30_000, "the repair hint on the Version");
  expect(stamped).toMatch(/ corrupt$/);
}

interface Cluster {
  api: StandaloneProcess;
  root: string;
  kubectl(...args: string[]): Promise<string>;
  json(...args: string[]): Promise<any>;
  adminToken: string;
}

async function startCluster(): Promise<Cluster> {
  const root = await mkdtemp(join(tmpdir(), "opendepot-rbac-"));
  const api = await startStandalone({ dataDir: join(root, "api"), admin: true, extra: ["--controllers", ""] });
  cleanup.push(() => api.stop());
  const kubeconfig = Bun.YAML.parse(await Bun.file(api.kubeconfig!).text()) as any;
  const kubectl = async (...args: string[]) => {
    const proc = Bun.spawn(["kubectl", "--kubeconfig", api.kubeconfig!, ...args], { stdout: "pipe", stderr: "pipe" });
    const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    if (code !== 0) throw new Error(`kubectl ${args.join(" ")}: ${err}`);
    return out;
  };
  await kubectl("apply", "-f", join(ROOT, "crds"));
  return { api, root, kubectl, json: async (...args) => JSON.parse(await kubectl(...args, "-o", "json")), adminToken: kubeconfig.users[0].user.token };
}

async function kubeconfigFor(dir: string, proxy: RecordingProxy, name: string): Promise<string> {
  const path = join(dir, `${name}.kubeconfig`);
  // The proxy adds the admin token: what is checked is the chart's RBAC, against the calls recorded.
  await writeFile(path, JSON.stringify({ apiVersion: "v1", kind: "Config", clusters: [{ name: "c", cluster: { server: proxy.url } }], users: [{ name: "u", user: {} }], contexts: [{ name: "x", context: { cluster: "c", user: "u" } }], "current-context": "x" }));
  return path;
}

/** The rendered container's args with the given flags replaced (or dropped with null), plus extra ones. */
function localArgs(container: any, replace: Record<string, string | null>, extra: string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const arg of container.args.slice(1) as string[]) {
    const name = arg.replace(/^--/, "").split("=")[0]!;
    if (name in replace) {
      seen.add(name);
      if (replace[name] !== null) out.push(`--${name}=${replace[name]}`);
    } else out.push(arg);
  }
  const unknown = Object.keys(replace).filter((k) => !seen.has(k) && replace[k] !== null);
  if (unknown.length) throw new Error(`the chart no longer renders ${unknown.join(", ")} for ${container.name}`);
  return [...out, ...extra];
}

/** The rendered container's literal env, with fieldRef metadata.namespace resolved to the release namespace. */
function localEnv(container: any): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of container.env ?? []) {
    if (typeof e.value === "string") env[e.name] = e.value;
    else if (e.valueFrom?.fieldRef?.fieldPath === "metadata.namespace") env[e.name] = NAMESPACE;
  }
  return env;
}

const containerOf = (docs: K8sObject[], component: string) => podSpecs(docs).find((p) => p.owner.metadata.name === `${FULLNAME}-${component}`)!.spec.containers[0];

async function scenario(options: { values: Record<string, unknown>; contentNamespace: string; oidc: boolean; scanning?: boolean }) {
  const r = await template(HELMS[0], { ...options.values, storage: { filesystem: { enabled: true } } });
  if (!r.ok) throw new Error(r.error);
  const docs = r.docs;
  const cluster = await startCluster();
  const upstreams: SampleUpstreams = await startSampleUpstreams();
  cleanup.push(() => upstreams.stop());
  upstreams.opentofu.addProvider("hashicorp", "null", { versions: ["1.0.0"] });
  await cluster.kubectl("create", "namespace", NAMESPACE);
  for (const ns of ((options.values.watchNamespaces as string) ?? "").split(",").filter(Boolean)) if (ns !== options.contentNamespace) await cluster.kubectl("create", "namespace", ns);
  await writeFile(join(cluster.root, "content.yaml"), content(options.contentNamespace));
  await cluster.kubectl("apply", "-f", join(cluster.root, "content.yaml"));
  const artifacts = join(cluster.root, "artifacts");
  await mkdir(artifacts);

  const proxies = { controller: startRecordingProxy(cluster.api.adminUrl!, cluster.adminToken), server: startRecordingProxy(cluster.api.adminUrl!, cluster.adminToken) };
  cleanup.push(() => (proxies.controller.stop(), proxies.server.stop()));
  const c = containerOf(docs, "controller");
  // Scanning: the stand-in trivy (fixtures/trivy) where the image has Trivy, and a cache seeded as the DB job would.
  const trivyCache = join(cluster.root, "trivy-cache");
  if (options.scanning) await seedStandInDb(trivyCache);
  const scanArgs: Record<string, string> = options.scanning ? { "trivy-path": STANDIN_TRIVY, "trivy-cache-dir": trivyCache } : {};
  const controller: RoleProcess = startRole(
    "controller",
    localArgs(c, { "health-listen": `127.0.0.1:${freePort()}`, "work-dir": cluster.root, "default-storage-dir": artifacts, ...scanArgs }, ["--kubeconfig", await kubeconfigFor(cluster.root, proxies.controller, "controller"), "--resync-interval=2s", ...(options.scanning ? [`--opentofu-api-url=${upstreams.opentofu.url}`] : [])]),
    { ...localEnv(c), ...upstreams.env },
  );
  cleanup.push(() => controller.stop("SIGKILL"));

  // Keys: bootstrapped by the controller; the server reads the files the kubelet would mount from that Secret.
  const secret = await waitFor(() => cluster.json("get", "secret", "-n", NAMESPACE, `${FULLNAME}-keys`).catch(() => undefined), 60_000, "the controller to bootstrap the keys Secret");
  const keys = join(cluster.root, "keys");
  await mkdir(keys);
  // The chart mounts the whole Secret (a key ring directory): every entry becomes a file.
  for (const [k, v] of Object.entries(secret.data as Record<string, string>)) await writeFile(join(keys, k), Buffer.from(v, "base64"));

  const idp = options.oidc ? await FixtureOidcProvider.start({ user: { sub: "alice", groups: ["dev"] }, clients: [{ id: "opendepot", redirectUris: "loopback" }] }) : undefined;
  cleanup.push(() => idp?.stop?.());
  const s = containerOf(docs, "server");
  const port = freePort();
  const server = startRole(
    "serve",
    localArgs(
      s,
      {
        listen: `127.0.0.1:${port}`,
        "metrics-listen": `127.0.0.1:${freePort()}`,
        "url-signing-key-file": join(keys, "url-signing.key"),
        "gpg-key-dir": keys,
        "default-storage-dir": artifacts,
        ...(idp ? { "oidc-issuer-url": idp.issuer } : {}),
      },
      ["--kubeconfig", await kubeconfigFor(cluster.root, proxies.server, "server")],
    ),
    localEnv(s),
  );
  cleanup.push(() => server.stop("SIGKILL"));
  const serverUrl = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${serverUrl}/readyz`).catch(() => undefined))?.ok, 30_000, "serve to be ready");

  const ns = options.contentNamespace;
  const versions = async () => (await cluster.json("get", "versions", "-n", ns)).items as any[];
  const synced = async (names: string[]) => {
    const vs = await versions();
    return names.every((n) => vs.some((v) => v.metadata.name === n && v.status?.synced === true));
  };
  const all = ["terraform-aws-vpc-1-2-0", "terraform-aws-vpc-2-0-0", "terraform-aws-s3-2-2-0", "aws-5-80-0-linux-amd64", "aws-5-81-0-linux-amd64", "random-3-6-3-linux-amd64", "null-1-0-0-linux-amd64"];
  await waitFor(() => synced(all), 120_000, "every Version synced");
  await waitFor(async () => (await cluster.json("get", "depot", "mirror", "-n", ns)).status?.conditions?.length > 0, 30_000, "the Depot's status");
  await waitFor(async () => (await cluster.json("get", "groupbinding", "everyone", "-n", ns)).status?.conditions?.length > 0, 30_000, "the GroupBinding's status");
  await waitFor(async () => (await versions()).find((v) => v.metadata.name === "private-1-2-0")?.status?.syncStatus, 30_000, "the private module's failure reported");

  // A version removed from a Provider is deleted; a tampered README is restored by a forced re-sync; forceSync is
  // reset on Modules and Providers.
  await cluster.kubectl("patch", "provider", "aws", "-n", ns, "--type", "merge", "-p", '{"spec":{"versions":[{"version":"5.81.0"}]}}');
  await waitFor(async () => !(await versions()).some((v) => v.metadata.name === "aws-5-80-0-linux-amd64"), 60_000, "the removed Version deleted");
  const readme = "terraform-aws-vpc-1-2-0-readme";
  const original = (await cluster.json("get", "configmap", readme, "-n", ns)).data["README.md"];
  await cluster.kubectl("patch", "configmap", readme, "-n", ns, "--type", "merge", "-p", JSON.stringify({ data: { "README.md": Buffer.from("tampered").toString("base64") } }));
  await cluster.kubectl("patch", "version", "terraform-aws-vpc-1-2-0", "-n", ns, "--type", "merge", "-p", '{"spec":{"forceSync":true}}');
  await waitFor(async () => (await cluster.json("get", "configmap", readme, "-n", ns)).data["README.md"] === original, 60_000, "the README restored");
  for (const [kind, name] of [["module", "terraform-aws-vpc"], ["provider", "random"]] as const) {
    await cluster.kubectl("patch", kind, name, "-n", ns, "--type", "merge", "-p", '{"spec":{"forceSync":true}}');
    await waitFor(async () => (await cluster.json("get", kind, name, "-n", ns)).spec.forceSync === false, 60_000, `${kind} ${name} forceSync reset`);
  }

  if (!options.oidc) {
    // Bearer-token mode: a caller's token goes through TokenReview and SubjectAccessReview.
    await writeFile(join(cluster.root, "token.yaml"), `apiVersion: v1\nkind: Secret\nmetadata: { name: ci-token, namespace: ${ns}, annotations: { kubernetes.io/service-account.name: ci } }\ntype: kubernetes.io/service-account-token\n`);
    await cluster.kubectl("apply", "-f", join(cluster.root, "token.yaml"));
    const token = Buffer.from((await cluster.json("get", "secret", "ci-token", "-n", ns)).data.token, "base64").toString("utf8");
    const res = await fetch(`${serverUrl}/opendepot/modules/v1/${ns}/terraform-aws-vpc/aws/versions`, { headers: { authorization: `Bearer ${token}` } });
    expect([200, 403]).toContain(res.status);
    expect(proxies.server.calls.some((call) => call.resource === "subjectaccessreviews")).toBe(true);
    // Kubernetes-token callers browse public resources: the label on the namespace (the server's Namespace watch)
    // and on the module.
    for (const target of [["namespace", ns], ["module", "terraform-aws-vpc", "-n", ns]]) await cluster.kubectl("label", ...target, "opendepot.defdev.io/public=true");
    await browseReadme(serverUrl, { authorization: `Bearer ${token}` }, ns);
  }
  await refuseCorrupt(serverUrl, keys, ns, artifacts, cluster);
  if (options.scanning) {
    // The scans ran and their results were written (Versions' status, the Provider's resolved source repository).
    expect((await standInInvocations(trivyCache)).length).toBeGreaterThan(0);
    await waitFor(async () => (await versions()).find((v) => v.metadata.name === "random-3-6-3-linux-amd64")?.status?.binaryScan, 60_000, "a provider build's binary scan recorded").catch(async (e) => {
      throw new Error(`${e.message}: ${JSON.stringify((await versions()).find((v) => v.metadata.name === "random-3-6-3-linux-amd64")?.status)} ${JSON.stringify(controller.logs().filter((l) => l.level !== "info" && l.level !== "debug").slice(-8))}`);
    });
    await waitFor(async () => (await versions()).find((v) => v.metadata.name === "terraform-aws-vpc-1-2-0")?.status?.sourceScan, 60_000, "a module's IaC scan recorded");
  }
  await Bun.sleep(2500); // one more lease renewal and resync round, so steady-state calls are in the record too
  const errors = controller.logs().filter((l) => l.level === "error" && !JSON.stringify(l).includes("opendepot-github-application-secret"));
  return {
    controller: compare(grantsFor(docs, { namespace: NAMESPACE, name: `${FULLNAME}-controller` }), proxies.controller.calls),
    server: compare(grantsFor(docs, { namespace: NAMESPACE, name: `${FULLNAME}-server` }), proxies.server.calls),
    calls: proxies,
    errors,
  };
}

describe("RBAC from the code: what each role calls is granted, and nothing more", () => {
  test("cluster-wide (defaults: bearer-token server)", async () => {
    const result = await scenario({ values: {}, contentNamespace: "team-a", oidc: false });
    expect({ role: "controller", ...result.controller }).toEqual({ role: "controller", denied: [], unused: [] });
    expect({ role: "server", ...result.server }).toEqual({ role: "server", denied: [], unused: [] });
    // The finalizer permissions are needed because owner references block owner deletion.
    expect(result.calls.controller.calls.filter((c) => c.via).map((c) => c.resource)).toEqual(expect.arrayContaining(["modules/finalizers", "providers/finalizers", "versions/finalizers"]));
    expect(result.errors).toEqual([]);
  }, 300_000);

  test("scanning on (stand-in trivy): the scans' status writes are granted, nothing new is needed", async () => {
    const result = await scenario({ values: { scanning: { enabled: true, modules: true } }, contentNamespace: "team-a", oidc: false, scanning: true });
    expect({ role: "controller", ...result.controller }).toEqual({ role: "controller", denied: [], unused: [] });
    expect({ role: "server", ...result.server }).toEqual({ role: "server", denied: [], unused: [] });
    expect(result.errors).toEqual([]);
  }, 300_000);

  test('watchNamespaces "a,b" with OIDC: Roles in a and b, GroupBindings of the release namespace too', async () => {
    const result = await scenario({ values: { watchNamespaces: "a,b", server: { oidc: { enabled: true, issuerUrl: "https://placeholder.example.com" } } }, contentNamespace: "a", oidc: true });
    expect({ role: "controller", ...result.controller }).toEqual({ role: "controller", denied: [], unused: [] });
    expect({ role: "server", ...result.server }).toEqual({ role: "server", denied: [], unused: [] });
    const listed = result.calls.server.calls.filter((c) => c.verb === "list").map((c) => `${c.resource}@${c.namespace ?? "*"}`);
    expect(listed).toEqual(expect.arrayContaining(["groupbindings@a", "groupbindings@b", `groupbindings@${NAMESPACE}`, "modules@a", "modules@b"]));
    // Only Namespaces, which are cluster-scoped, are listed across the cluster.
    expect(listed.filter((l) => l.endsWith("@*"))).toEqual(["namespaces@*"]);
    expect(result.errors).toEqual([]);
  }, 300_000);
});
