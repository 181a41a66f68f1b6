// Acceptance: `opendepot standalone` (a real child process, scanning configured through its environment) blocks a
// module with a CRITICAL misconfiguration from the real Terraform CLI, and the real kubectl reads the findings with
// the runbook's `kubectl get version ... -o jsonpath='{.status.sourceScan}'`.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sampleModuleFiles, startSampleUpstreams, type SampleUpstreams } from "../../fixtures/upstream-fakes.ts";
import { seedStandInDb, STANDIN_TRIVY } from "../../fixtures/trivy/standin-db.ts";
import { waitFor } from "../support/ports.ts";
import { startStandalone, type StandaloneProcess } from "../support/standalone-process.ts";
import { TerraformWorkspace } from "../support/terraform.ts";

const KUBECTL = process.env.KUBECTL ?? "/usr/bin/kubectl";
let root: string;
let upstreams: SampleUpstreams;
let server: StandaloneProcess;
let env: Record<string, string>;

async function kubectl(...args: string[]): Promise<string> {
  const proc = Bun.spawn([KUBECTL, ...args], { env, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`kubectl ${args.join(" ")} failed (${code}): ${stderr}`);
  return stdout;
}

beforeAll(async () => {
  if (!existsSync(KUBECTL)) throw new Error(`kubectl not found at ${KUBECTL}: the acceptance tests need it`);
  root = await mkdtemp(join(tmpdir(), "opendepot-scan-kubectl-"));
  upstreams = await startSampleUpstreams();
  upstreams.github.addRepo("acme", "terraform-aws-key-pair", { releases: ["v2.0.0"], files: (tag) => ({ ...sampleModuleFiles(tag), "security.tf": "# trivy-scenario: misconfig-critical\n" }) });
  const cache = join(root, "trivy-cache");
  await seedStandInDb(cache);
  await mkdir(join(root, "manifests"));
  await writeFile(
    join(root, "manifests", "module.yaml"),
    `apiVersion: opendepot.defdev.io/v1alpha1
kind: Module
metadata: { name: terraform-aws-key-pair, namespace: default }
spec:
  moduleConfig: { repoOwner: acme, provider: aws, fileFormat: zip }
  versions:
    - version: v2.0.0
`,
  );
  const gpgKey = join(import.meta.dir, "..", "..", "fixtures", "keys", "rogue-signing.private.asc");
  server = await startStandalone({
    dataDir: join(root, "data"),
    manifests: join(root, "manifests"),
    admin: true,
    extra: ["--gpg-key-file", gpgKey, "--resync-interval", "2s"],
    env: {
      ...upstreams.env,
      OPENDEPOT_SCANNING_ENABLED: "true",
      OPENDEPOT_SCAN_MODULES: "true",
      OPENDEPOT_SCAN_BLOCK_ON_CRITICAL: "true",
      OPENDEPOT_TRIVY_PATH: STANDIN_TRIVY,
      OPENDEPOT_TRIVY_CACHE_DIR: cache,
    },
  });
  env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: join(root, "home"), KUBECONFIG: server.kubeconfig! };
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await upstreams?.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

test("blocked for terraform init, findings readable with kubectl jsonpath", async () => {
  const name = "terraform-aws-key-pair-2-0-0";
  const reason = await waitFor(
    async () => (await kubectl("get", "version", name, "-n", "default", "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].reason}`)) === "ScanPolicyViolation" || undefined,
    60_000,
    "the Version to be blocked",
    250,
  );
  expect(reason).toBe(true);
  const scan = JSON.parse(await kubectl("get", "version", name, "-n", "default", "-o", "jsonpath={.status.sourceScan}"));
  expect(scan.findings[0]).toMatchObject({ vulnerabilityID: "AWS-0104", severity: "CRITICAL", resource: "module.endpoints", startLine: 107, endLine: 107, primaryURL: "https://avd.aquasec.com/misconfig/aws-0104" });
  expect(scan.counts).toEqual({ CRITICAL: 1, HIGH: 0, MEDIUM: 0, LOW: 1, UNKNOWN: 0 });
  expect(Date.parse(scan.scannedAt)).toBeGreaterThan(0);
  expect(await kubectl("get", "version", name, "-n", "default", "-o", "jsonpath={.status.scanVerdict.blocked}")).toBe("true");

  const r = await fetch(`${server.url}/opendepot/modules/v1/default/terraform-aws-key-pair/aws/versions`);
  expect(await r.json()).toEqual({ modules: [{ versions: [] }] });
  const ws = await TerraformWorkspace.create(server.url, { "main.tf": 'module "kp" {\n  source  = "registry.local/default/terraform-aws-key-pair/aws"\n  version = "2.0.0"\n}\n' });
  const init = await ws.run("init");
  expect(init.exitCode).not.toBe(0);
  expect(init.stdout + init.stderr).toContain("Module has no versions");
}, 120_000);
