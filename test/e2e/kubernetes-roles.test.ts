// Acceptance for the Kubernetes roles: `opendepot controller` (two replicas, leader-elected) and `opendepot serve`
// as separate processes on the kube store, talking to the Kubernetes-compatible API; manifests applied with the
// real kubectl; the real Terraform CLI installs what the controllers synced.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startSampleUpstreams, type SampleUpstreams } from "../../fixtures/upstream-fakes.ts";
import { freePort, waitFor, waitForChild } from "../support/ports.ts";
import { startRole, type RoleProcess } from "../support/role-process.ts";
import { startStandalone, type StandaloneProcess } from "../support/standalone-process.ts";
import { TerraformWorkspace } from "../support/terraform.ts";
import { parsePrometheusText, sumOf } from "../support/prometheus-text.ts";

const ROOT = join(import.meta.dir, "..", "..");
let upstreams: SampleUpstreams;
let api: StandaloneProcess;
let root: string;
let serve: RoleProcess;
let serveUrl: string;
const controllers: RoleProcess[] = [];
const healthUrls = new Map<RoleProcess, string>();
let serveMetricsUrl: string;

const MANIFESTS = `apiVersion: v1
kind: Namespace
metadata: { name: team-a }
---
apiVersion: opendepot.defdev.io/v1alpha1
kind: Module
metadata: { name: terraform-aws-vpc, namespace: team-a }
spec:
  moduleConfig: { repoOwner: acme, provider: aws, fileFormat: zip }
  versions: [{ version: v1.2.0 }]
---
apiVersion: opendepot.defdev.io/v1alpha1
kind: Provider
metadata: { name: aws, namespace: team-a }
spec:
  providerConfig: { operatingSystems: [linux], architectures: [amd64, arm64] }
  versions: [{ version: 5.81.0 }]
`;

async function kubectl(...args: string[]): Promise<string> {
  const proc = Bun.spawn(["kubectl", "--kubeconfig", api.kubeconfig!, ...args], { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`kubectl ${args.join(" ")} failed: ${err}`);
  return out;
}

/** The controllers' namespace, created by the test as `helm install --create-namespace` would on a real cluster. */
const LEASE_NS = "opendepot";

function startController(healthPort = freePort()): RoleProcess {
  const c = startRole(
    "controller",
    ["--kubeconfig", api.kubeconfig!, "--default-storage-dir", join(root, "artifacts"), "--lease-duration", "4s", "--renew-deadline", "3s", "--retry-period", "300ms", "--resync-interval", "2s", "--health-listen", `127.0.0.1:${healthPort}`, "--log-level", "debug"],
    { ...upstreams.env, POD_NAMESPACE: LEASE_NS },
  );
  controllers.push(c);
  healthUrls.set(c, `http://127.0.0.1:${healthPort}`);
  return c;
}

const leads = (c: RoleProcess, lease: string) => c.logs().some((l) => l.msg === "became leader" && l.lease === `${LEASE_NS}/${lease}`);
/** How a replica took a lease ("created", "expired", "released"), from its own "became leader" line. */
const tookBy = (c: RoleProcess, lease: string) => c.logs().filter((l) => l.msg === "became leader" && l.lease === `${LEASE_NS}/${lease}`).map((l) => l.took);
const synced = (c: RoleProcess) => c.logs().filter((l) => l.msg === "version synced").map((l) => String(l.name));

beforeAll(async () => {
  upstreams = await startSampleUpstreams();
  root = await mkdtemp(join(tmpdir(), "opendepot-kube-roles-"));
  await mkdir(join(root, "artifacts"));
  api = await startStandalone({ dataDir: join(root, "api"), admin: true, extra: ["--controllers", ""] });
  await kubectl("apply", "-f", join(ROOT, "crds"));
  await writeFile(join(root, "registry.yaml"), MANIFESTS);
  await kubectl("apply", "-f", join(root, "registry.yaml"));
  const keys = join(root, "keys");
  await mkdir(keys);
  const keygen = startRole("keygen", ["--out-dir", keys]);
  expect(await keygen.exited).toBe(0);
  await writeFile(join(keys, "url.key"), "ab".repeat(32));
  // Before its namespace exists the controller cannot write its Leases, and says so on /readyz.
  const healthPort = freePort();
  startController(healthPort);
  const readyz = () => fetch(`http://127.0.0.1:${healthPort}/readyz`).then(async (r) => ({ status: r.status, body: await r.text() }), () => undefined);
  const notReady = await waitFor(async () => {
    const r = await readyz();
    return r?.status === 503 ? r : undefined;
  }, 20_000, "controller /readyz to fail while its namespace is missing");
  expect(JSON.parse(notReady.body).failing[0].error).toContain(`namespaces "${LEASE_NS}" not found`);
  await kubectl("create", "namespace", LEASE_NS);
  await waitFor(async () => (await readyz())?.status === 200, 20_000, "controller /readyz once the namespace exists");
  startController();
  const port = freePort();
  serveUrl = `http://127.0.0.1:${port}`;
  const metricsPort = freePort();
  serveMetricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  serve = startRole("serve", ["--kubeconfig", api.kubeconfig!, "--listen", `127.0.0.1:${port}`, "--metrics-listen", `127.0.0.1:${metricsPort}`, "--url-signing-key-file", join(keys, "url.key"), "--gpg-key-file", join(keys, "signing-key.asc"), "--anonymous-auth", "--default-storage-dir", join(root, "artifacts")]);
  await waitForChild(serve, async () => (await fetch(`${serveUrl}/readyz`).catch(() => undefined))?.ok, 20_000, "serve to be ready").catch((e) => {
    throw new Error(`${(e as Error).message}\nlogs: ${JSON.stringify(serve.logs().slice(-10))}`);
  });
}, 60_000);

afterAll(async () => {
  await Promise.all(controllers.map((c) => c.stop("SIGKILL")));
  await serve?.stop();
  await api?.stop();
  await upstreams?.stop();
});

describe("controller + serve on the Kubernetes API", () => {
  test("the controllers sync what kubectl applied, and Terraform installs it from `serve`", async () => {
    await waitFor(async () => (await fetch(`${serveUrl}/opendepot/providers/v1/team-a/aws/versions`)).ok && ((await (await fetch(`${serveUrl}/opendepot/providers/v1/team-a/aws/versions`)).json()) as { versions: { platforms: unknown[] }[] }).versions[0]?.platforms.length === 2, 60_000, "provider builds served");
    await waitFor(async () => (await (await fetch(`${serveUrl}/opendepot/modules/v1/team-a/terraform-aws-vpc/aws/versions`)).text()).includes("1.2.0"), 60_000, "module served");
    const printed = await kubectl("get", "versions", "-n", "team-a");
    expect(printed).toContain("aws-5-81-0-linux-amd64");
    const ws = await TerraformWorkspace.create(serveUrl, {
      "main.tf": `terraform {\n  required_providers {\n    aws = { source = "registry.local/team-a/aws", version = "5.81.0" }\n  }\n}\nmodule "vpc" {\n  source  = "registry.local/team-a/terraform-aws-vpc/aws"\n  version = "1.2.0"\n}\n`,
    });
    const init = await ws.run("init");
    expect(init.stdout + init.stderr).toContain("Terraform has been successfully initialized");
  }, 90_000);

  test("only the leader of each controller group reconciles", () => {
    for (const lease of ["opendepot-version", "opendepot-module", "opendepot-provider"]) {
      expect(controllers.filter((c) => leads(c, lease))).toHaveLength(1);
    }
    const versionLeader = controllers.find((c) => leads(c, "opendepot-version"))!;
    const other = controllers.find((c) => c !== versionLeader)!;
    expect(synced(versionLeader).length).toBe(3);
    expect(synced(other)).toEqual([]);
  });

  test("metrics: serve counts requests and its index on its own listener; each controller reports its leases and reconciles on the health listener", async () => {
    const served = parsePrometheusText(await (await fetch(serveMetricsUrl)).text());
    expect(sumOf(served, "opendepot_http_requests_total", { route: "/opendepot/modules/v1/:namespace/:name/:system/versions", status_class: "2xx" })).toBeGreaterThanOrEqual(1);
    expect(sumOf(served, "opendepot_index_objects", { kind: "Version" })).toBeGreaterThanOrEqual(3);
    expect((await fetch(serveUrl + "/metrics")).status).toBe(404); // never on the public registry listener
    const scraped = await Promise.all(controllers.map(async (c) => parsePrometheusText(await (await fetch(`${healthUrls.get(c)}/metrics`)).text())));
    for (const group of ["version", "module", "provider"]) expect(scraped.reduce((n, m) => n + sumOf(m, "opendepot_leader", { group }), 0)).toBe(1);
    expect(scraped.reduce((n, m) => n + sumOf(m, "opendepot_reconciles_total", { controller: "version", result: "success" }), 0)).toBeGreaterThanOrEqual(3);
  });

  test("kill -9 of the leader: the standby takes the expired lease; SIGTERM: the next takes the released one; nothing synced twice, nothing lost", async () => {
    const first = controllers.find((c) => leads(c, "opendepot-version"))!;
    const standby = controllers.find((c) => c !== first)!;
    await first.stop("SIGKILL");
    await waitFor(() => leads(standby, "opendepot-version"), 10_000, "standby takes over after kill -9");
    // A killed leader never releases: the standby took the lease because it expired (the lease duration bounds it).
    expect(tookBy(standby, "opendepot-version")).toEqual(["expired"]);

    const third = startController();
    await waitFor(() => third.logs().some((l) => l.msg === "controller role started"), 20_000, "third replica up");
    await Bun.sleep(500);
    expect(leads(third, "opendepot-version")).toBe(false);
    expect(await standby.stop("SIGTERM")).toBe(0);
    // Its last lines may still be in the pipe when it exits: wait for the release line rather than read at once.
    await waitFor(() => standby.logs().some((l) => l.msg === "released leadership" && l.lease === "opendepot-version"), 10_000, "the standby's release line");
    await waitFor(() => leads(third, "opendepot-version"), 10_000, "third takes over after SIGTERM");
    // SIGTERM releases the lease, so the third replica takes it as released, not by waiting for it to expire.
    expect(tookBy(third, "opendepot-version")).toEqual(["released"]);

    // A change made now is synced by the new leader, exactly once across all replicas.
    await kubectl("patch", "module", "terraform-aws-vpc", "-n", "team-a", "--type", "json", "-p", '[{"op":"add","path":"/spec/versions/-","value":{"version":"2.0.0"}}]');
    await waitFor(async () => (await (await fetch(`${serveUrl}/opendepot/modules/v1/team-a/terraform-aws-vpc/aws/versions`)).text()).includes("2.0.0"), 30_000, "new version served");
    // The status (what serve reads) is written before the controller logs "version synced", and logs are written in
    // batches: wait for the line, then check it appeared exactly once across every replica.
    await waitFor(() => controllers.flatMap(synced).includes("terraform-aws-vpc-2-0-0"), 10_000, "the sync logged");
    const all = controllers.flatMap(synced);
    expect(all.filter((n) => n === "terraform-aws-vpc-2-0-0")).toHaveLength(1);
    expect(new Set(all).size).toBe(all.length);
  }, 60_000);
});
