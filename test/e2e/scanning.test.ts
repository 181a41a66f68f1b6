// Acceptance for scanning and the publish gate, end to end: Modules and Providers synced from the fake upstreams,
// scanned by the stand-in `trivy` (fixtures/trivy, replaying real Trivy reports chosen by a marker in the content),
// and the real Terraform CLI refused or served accordingly.
import { metricsResponse } from "../../src/metrics/registry.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Module, Provider, Version, type ProviderObject, type VersionObject } from "../../src/api/kinds.ts";
import { sampleModuleFiles, startSampleUpstreams, type SampleUpstreams } from "../../fixtures/upstream-fakes.ts";
import { seedStandInDb, standInInvocations, STANDIN_TRIVY } from "../../fixtures/trivy/standin-db.ts";
import { startHarness, type Harness } from "../support/registry-harness.ts";
import type { JsonResponse } from "../support/ports.ts";
import { addScannedProvider as addProvider, addScannedRepo as addRepo, condition, moduleObject, providerObject, verdict } from "../support/scanning.ts";
import { TerraformWorkspace } from "../support/terraform.ts";

let upstreams: SampleUpstreams;
let h: Harness;
let cacheDir: string;

const get = (path: string) => fetch(new URL(path, h.url), { redirect: "manual" }) as Promise<JsonResponse>;
const BUILDS = ["linux-amd64", "linux-arm64", "darwin-amd64", "darwin-arm64"];
const addScannedRepo = (repo: string, scenario: string) => addRepo(upstreams, repo, scenario);
const addScannedProvider = (name: string, version: string, scenario: string, link?: string) => addProvider(upstreams, name, version, scenario, link);

async function moduleVersions(name: string): Promise<string[]> {
  const r = await get(`/opendepot/modules/v1/default/${name}/aws/versions`);
  return ((await r.json()).modules?.[0]?.versions ?? []).map((v: { version: string }) => v.version);
}
async function providerVersions(name: string): Promise<{ version: string; platforms: unknown[] }[]> {
  return (await (await get(`/opendepot/providers/v1/default/${name}/versions`)).json()).versions;
}

async function terraformInit(module: string): Promise<{ exitCode: number; out: string }> {
  const ws = await TerraformWorkspace.create(h.url, { "main.tf": `module "m" {\n  source  = "registry.local/default/${module}/aws"\n  version = "1.0.0"\n}\n` });
  const r = await ws.run("init");
  await rm(ws.dir, { recursive: true, force: true });
  return { exitCode: r.exitCode, out: r.stdout + r.stderr };
}

async function terraformProviderInit(name: string, version: string): Promise<{ exitCode: number; out: string }> {
  const ws = await TerraformWorkspace.create(h.url, { "main.tf": `terraform {\n  required_providers {\n    ${name} = { source = "registry.local/default/${name}", version = "${version}" }\n  }\n}\n` });
  const r = await ws.run("init");
  await rm(ws.dir, { recursive: true, force: true });
  return { exitCode: r.exitCode, out: r.stdout + r.stderr };
}

beforeAll(async () => {
  upstreams = await startSampleUpstreams();
  cacheDir = await mkdtemp(join(tmpdir(), "opendepot-trivy-cache-"));
  await seedStandInDb(cacheDir);
  addScannedRepo("terraform-aws-critical", "misconfig-critical");
  h = await startHarness({
    env: upstreams.env,
    flags: ["--scanning-enabled", "--scan-modules", "--trivy-path", STANDIN_TRIVY, "--trivy-cache-dir", cacheDir, "--scan-timeout", "20s", "--scan-concurrency", "2", "--opentofu-api-url", upstreams.opentofu.url],
  });
});

afterAll(async () => {
  await h?.stop();
  await upstreams?.stop();
  if (cacheDir) await rm(cacheDir, { recursive: true, force: true });
});

/** `opendepot_scans_total{result=…}` as this process's /metrics exposes it. */
async function scansCounted(result: string): Promise<number> {
  const text = await (await metricsResponse()).text();
  return Number(new RegExp(`^opendepot_scans_total\\{result="${result}"\\} (\\d+)`, "m").exec(text)?.[1] ?? 0);
}

describe("module IaC scan and the publish gate", () => {
  test("a CRITICAL misconfiguration with blockOnCritical is never installable; its findings stay in status", async () => {
    await h.store.create(moduleObject("critical-blocked", "terraform-aws-critical", { blockOnCritical: true }));
    const v = await h.until<VersionObject>(Version, "critical-blocked-1-0-0", verdict("ScanPolicyViolation"), 60_000);
    expect(v.status?.synced).toBe(false);
    expect(v.status?.checksum).toBeTruthy(); // stored (so it is not fetched again), just not served
    expect(condition(v, "Ready")).toMatchObject({ status: "False", reason: "ScanPolicyViolation" });
    expect(condition(v, "Ready")?.message).toContain("CRITICAL AWS-0104 in terraform-aws-modules/vpc/aws/modules/vpc-endpoints/modules/vpc-endpoints/main.tf:107 (module.endpoints)");
    expect(v.status?.syncStatus).toStartWith("Scan policy violation: blocked by CRITICAL AWS-0104");
    expect(v.status?.sourceScan?.counts).toEqual({ CRITICAL: 1, HIGH: 0, MEDIUM: 0, LOW: 1, UNKNOWN: 0 });
    expect(v.status?.sourceScan?.findings?.map((f) => [f.vulnerabilityID, f.severity, f.resource, f.startLine, f.primaryURL])).toEqual([
      ["AWS-0104", "CRITICAL", "module.endpoints", 107, "https://avd.aquasec.com/misconfig/aws-0104"],
      ["AWS-0124", "LOW", "module.endpoints", 106, "https://avd.aquasec.com/misconfig/aws-0124"],
    ]);
    expect(v.status?.sourceScan?.scanner).toBe("trivy 0.74.0");
    expect(Object.keys(v.status?.sourceScan ?? {}).sort()).toEqual(["counts", "findings", "scannedAt", "scanner", "source"]); // module scans use no vulnerability DB

    expect(await moduleVersions("critical-blocked")).toEqual([]);
    expect((await get("/opendepot/modules/v1/default/critical-blocked/aws/1.0.0/download")).status).toBe(404);
    const init = await terraformInit("critical-blocked");
    expect(init.exitCode).not.toBe(0);
    expect(init.out).toContain("Module has no versions");
    // The block is counted in the controllers' metrics (the registry is per process; the harness runs in this one).
    expect(await scansCounted("blocked")).toBeGreaterThan(0);

    // Not re-downloaded in a loop: the archive was fetched once, and later reconciles only look at the verdict.
    const archives = upstreams.github.stats.archivesServed;
    await Bun.sleep(3000); // several 1 s resyncs of the harness
    expect(upstreams.github.stats.archivesServed).toBe(archives);
  }, 120_000);

  test("the module scan ran `trivy config` with the documented command line", async () => {
    const runs = (await standInInvocations(cacheDir)).filter((a) => a[0] === "config");
    expect(runs.length).toBeGreaterThan(0);
    const argv = runs[0]!;
    expect(argv.slice(0, -1)).toEqual(["config", "--format", "json", "--quiet", "--cache-dir", cacheDir, "--timeout", "20s", "--exit-code", "3", "--skip-check-update"]);
    expect(argv.at(-1)).toContain("opendepot-modscan-");
  });

  test("blockOnHigh alone blocks CRITICAL too (HIGH and above)", async () => {
    await h.store.create(moduleObject("critical-high", "terraform-aws-critical", { blockOnHigh: true }));
    const v = await h.until<VersionObject>(Version, "critical-high-1-0-0", verdict("ScanPolicyViolation"), 60_000);
    expect(v.status?.scanVerdict?.message).toContain("CRITICAL AWS-0104");
    expect(await moduleVersions("critical-high")).toEqual([]);
    const init = await terraformInit("critical-high");
    expect(init.exitCode).not.toBe(0);
    expect(init.out).toContain("Module has no versions");
  }, 120_000);

  test("without a policy the same module installs, and its findings show", async () => {
    await h.store.create(moduleObject("critical-open", "terraform-aws-critical"));
    const v = await h.until<VersionObject>(Version, "critical-open-1-0-0", (x) => x.status?.synced === true && x.status?.scanVerdict?.reason === "Passed", 60_000);
    expect(condition(v, "Ready")?.status).toBe("True");
    expect(condition(v, "Scanned")).toMatchObject({ status: "True", reason: "NoBlockPolicy" });
    expect(v.status?.sourceScan?.findings?.[0]).toMatchObject({ vulnerabilityID: "AWS-0104", severity: "CRITICAL" });
    expect(await moduleVersions("critical-open")).toEqual(["1.0.0"]);
    const init = await terraformInit("critical-open");
    expect(init.out).toContain("Terraform has been successfully initialized");
  }, 120_000);

  test("turning the policy on for a served module blocks it (a rescan, no re-download)", async () => {
    const archives = upstreams.github.stats.archivesServed;
    await h.store.patch(Module, "default", "critical-open", { type: "merge", patch: { spec: { moduleConfig: { scanConfig: { blockOnCritical: true } } } } });
    await h.until<VersionObject>(Version, "critical-open-1-0-0", verdict("ScanPolicyViolation"), 60_000);
    expect(await moduleVersions("critical-open")).toEqual([]);
    expect(upstreams.github.stats.archivesServed).toBe(archives);
  }, 90_000);
});

describe("re-fetched bytes", () => {
  test("a moved tag whose new content violates the policy is refused; the published archive stays served", async () => {
    upstreams.github.addRepo("acme", "terraform-aws-mutable", { releases: ["v1.0.0"], files: sampleModuleFiles });
    await h.store.create(moduleObject("mutable", "terraform-aws-mutable", { blockOnCritical: true }));
    const served = await h.until<VersionObject>(Version, "mutable-1-0-0", (x) => x.status?.synced === true && verdict("Passed")(x), 60_000);
    upstreams.github.setTagContent("acme", "terraform-aws-mutable", "v1.0.0", { ...sampleModuleFiles("v1.0.0"), "security.tf": "# trivy-scenario: misconfig-critical\n" });
    await h.store.patch(Version, "default", "mutable-1-0-0", { type: "merge", patch: { spec: { forceSync: true } } });
    const refused = await h.until<VersionObject>(Version, "mutable-1-0-0", (x) => condition(x, "Synced")?.reason === "ScanPolicyViolation" && x.spec.forceSync !== true, 60_000);
    expect(condition(refused, "Synced")?.message).toContain("the re-fetched archive is refused by the scan policy; the published one stays served: blocked by CRITICAL AWS-0104");
    expect(refused.status?.checksum).toBe(served.status!.checksum!);
    expect(refused.spec.fileName).toBe(served.spec.fileName!);
    expect(refused.status?.sourceScan).toEqual(served.status!.sourceScan!); // the findings describe what is served
    expect(condition(refused, "Ready")?.status).toBe("True");
    await Bun.sleep(2500); // resyncs keep the refusal visible
    expect(condition((await h.get<VersionObject>(Version, "mutable-1-0-0"))!, "Synced")?.reason).toBe("ScanPolicyViolation");
    expect(await moduleVersions("mutable")).toEqual(["1.0.0"]);
    const dl = await get("/opendepot/modules/v1/default/mutable/aws/1.0.0/download");
    const bytes = new Uint8Array(await (await get(dl.headers.get("x-terraform-get")!)).arrayBuffer());
    expect(new Bun.CryptoHasher("sha256").update(bytes).digest("base64")).toBe(served.status!.checksum!);
  }, 120_000);
});

describe("bounded status", () => {
  test("a huge report stays bounded in status: the most severe --scan-max-findings, counts of everything", async () => {
    addScannedRepo("terraform-aws-buckets", "misconfig-x1000");
    await h.store.create(moduleObject("buckets", "terraform-aws-buckets", { blockOnHigh: true }));
    const v = await h.until<VersionObject>(Version, "buckets-1-0-0", verdict("ScanPolicyViolation"), 90_000);
    expect(v.status?.sourceScan?.counts).toEqual({ CRITICAL: 0, HIGH: 5000, MEDIUM: 1000, LOW: 2000, UNKNOWN: 0 });
    expect(v.status?.sourceScan?.findings).toHaveLength(200);
    expect(v.status?.sourceScan?.findings?.every((f) => f.severity === "HIGH")).toBe(true);
    expect(new Set(v.status?.sourceScan?.findings?.map((f) => `${f.vulnerabilityID} ${f.resource}`)).size).toBe(200);
    expect(JSON.stringify(v).length).toBeLessThan(1024 * 1024);
    expect(v.status?.scanVerdict?.message).toContain("and 4999 more finding(s) at or above HIGH");
  }, 120_000);
});

describe("provider binary scan", () => {
  test("a HIGH gobinary vulnerability with blockOnHigh blocks every platform; an ignore entry unblocks; its expiry re-blocks", async () => {
    addScannedProvider("gadget", "1.4.0", "gobinary-high");
    await h.store.create(providerObject("gadget", "1.4.0", { blockOnHigh: true }));
    for (const b of BUILDS) {
      const v = await h.until<VersionObject>(Version, `gadget-1-4-0-${b}`, verdict("ScanPolicyViolation"), 90_000);
      expect(v.status?.binaryScan?.findings).toEqual([
        expect.objectContaining({ vulnerabilityID: "CVE-2021-38561", severity: "HIGH", pkgName: "golang.org/x/text", installedVersion: "v0.3.5", fixedVersion: "0.3.7", target: "provider-binary" }),
      ]);
      expect(v.status?.binaryScan?.source).toBe(`provider executable terraform-provider-gadget_v1.4.0`);
      expect(condition(v, "Ready")?.message).toContain("HIGH CVE-2021-38561 in golang.org/x/text v0.3.5 (fixed in 0.3.7)");
      const [os, arch] = b.split("-");
      expect((await get(`/opendepot/providers/v1/default/gadget/1.4.0/download/${os}/${arch}`)).status).toBe(404);
    }
    expect(await providerVersions("gadget")).toEqual([]);
    const blockedInit = await terraformProviderInit("gadget", "1.4.0");
    expect(blockedInit.exitCode).not.toBe(0);
    expect(blockedInit.out).toContain("Could not retrieve the list of available versions for provider");
    const rootfs = (await standInInvocations(cacheDir)).find((a) => a[0] === "rootfs")!;
    expect(rootfs.slice(0, -1)).toEqual(["rootfs", "--format", "json", "--quiet", "--cache-dir", cacheDir, "--timeout", "20s", "--exit-code", "3", "--scanners", "vuln", "--list-all-pkgs=false", "--skip-db-update", "--offline-scan", "--skip-java-db-update"]);

    // The review is accepted until a date; no wall-clock race: the expiry is brought forward only once it has unblocked.
    const ignore = (expires: string) => ({ spec: { providerConfig: { scanConfig: { blockOnHigh: true, ignore: [{ id: "CVE-2021-38561", reason: "DoS only reachable with untrusted language tags", expires }] } } } });
    await h.store.patch(Provider, "default", "gadget", { type: "merge", patch: ignore("2099-01-01") });
    for (const b of BUILDS) {
      const v = await h.until<VersionObject>(Version, `gadget-1-4-0-${b}`, (x) => x.status?.synced === true && verdict("Passed")(x), 60_000);
      expect(v.status?.binaryScan?.findings?.[0]?.ignored).toBe("DoS only reachable with untrusted language tags (until 2099-01-01)");
    }
    expect((await providerVersions("gadget"))[0]?.platforms).toHaveLength(4);
    expect((await terraformProviderInit("gadget", "1.4.0")).out).toContain("Terraform has been successfully initialized");
    // The entry expires: every build blocks again. No new download for any of this: the stored zips were rescanned.
    const downloads = upstreams.opentofu.stats.downloads;
    const expires = new Date(Date.now() + 3000).toISOString().replace(/\.\d{3}Z$/, "Z");
    await h.store.patch(Provider, "default", "gadget", { type: "merge", patch: ignore(expires) });
    for (const b of BUILDS) await h.until<VersionObject>(Version, `gadget-1-4-0-${b}`, verdict("ScanPolicyViolation"), 60_000);
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(expires));
    expect(await providerVersions("gadget")).toEqual([]);
    expect(upstreams.opentofu.stats.downloads).toBe(downloads);
  }, 240_000);

  test("provider source scan: repository from the docs API, recorded on the Provider; go.mod scanned once for all builds", async () => {
    const link = "https://github.com/acme/terraform-provider-widget";
    upstreams.github.addRepo("acme", "terraform-provider-widget", { releases: ["v2.0.0"], files: { "go.mod": "module github.com/acme/terraform-provider-widget\n\ngo 1.22\n// trivy-scenario: gomod-vulns\n", "go.sum": "", "main.go": "package main\n" } });
    addScannedProvider("widget", "2.0.0", "clean", link);
    const fsBefore = (await standInInvocations(cacheDir)).filter((a) => a[0] === "fs").length;
    await h.store.create(providerObject("widget", "2.0.0"));
    for (const b of BUILDS) {
      const v = await h.until<VersionObject>(Version, `widget-2-0-0-${b}`, (x) => x.status?.synced === true && !!x.status?.sourceScan, 90_000);
      expect(v.status?.sourceScan?.source).toBe(`go.mod + go.sum at v2.0.0 of ${link} (registry)`);
      expect(v.status?.sourceScan?.findings?.map((f) => f.vulnerabilityID)).toEqual(["CVE-2022-23628", "CVE-2021-38561", "GMS-2022-20"]);
      expect(v.status?.binaryScan?.findings).toEqual([]);
    }
    expect((await h.get<ProviderObject>(Provider, "widget"))?.status?.resolvedSourceRepository).toBe(link);
    const fsRuns = (await standInInvocations(cacheDir)).filter((a) => a[0] === "fs");
    expect(fsRuns.length - fsBefore).toBe(1);
    expect(fsRuns.at(-1)!.slice(0, -1)).toEqual(["fs", "--format", "json", "--quiet", "--cache-dir", cacheDir, "--timeout", "20s", "--exit-code", "3", "--scanners", "vuln", "--list-all-pkgs=false", "--skip-db-update", "--offline-scan", "--skip-java-db-update"]);
  }, 180_000);

  test("go.mod of a private repository is fetched as the GitHub App (spec.sourceRepository)", async () => {
    upstreams.github.addRepo("acme", "terraform-provider-private", { releases: ["v0.3.0"], private: true, files: { "go.mod": "module github.com/acme/terraform-provider-private\n// trivy-scenario: gomod-vulns\n" } });
    addScannedProvider("vault", "0.3.0", "clean");
    const pem = await Bun.file(join(import.meta.dir, "../../fixtures/keys/github-app.private.pem")).text();
    const b64 = (text: string) => Buffer.from(text).toString("base64");
    await h.store.create({ apiVersion: "v1", kind: "Secret", metadata: { name: "opendepot-github-application-secret", namespace: "default" }, data: { githubAppID: b64("12345"), githubInstallID: b64("678"), githubPrivateKey: b64(b64(pem)) } });
    const tokens = upstreams.github.stats.tokensIssued;
    await h.store.create({
      ...providerObject("vault", "0.3.0"),
      spec: { providerConfig: { operatingSystems: ["linux"], architectures: ["amd64"], sourceRepository: "https://github.com/acme/terraform-provider-private", githubClientConfig: { useAuthenticatedClient: true } }, versions: [{ version: "0.3.0" }] },
    });
    const v = await h.until<VersionObject>(Version, "vault-0-3-0-linux-amd64", (x) => !!x.status?.sourceScan, 60_000);
    expect(v.status?.sourceScan?.source).toBe("go.mod at v0.3.0 of https://github.com/acme/terraform-provider-private (spec)");
    expect(v.status?.sourceScan?.counts).toMatchObject({ MEDIUM: 1, UNKNOWN: 2 });
    expect(upstreams.github.stats.tokensIssued).toBeGreaterThan(tokens);
  }, 90_000);

  test("a rescan that fails (the DB vanished) keeps the last successful verdict: an outage unserves nothing", async () => {
    addScannedProvider("cog", "3.0.0", "clean");
    await h.store.create(providerObject("cog", "3.0.0", { blockOnHigh: true }, true));
    await h.until<VersionObject>(Version, "cog-3-0-0-linux-amd64", (x) => x.status?.synced === true && verdict("Passed")(x), 60_000);
    await rm(join(cacheDir, "db"), { recursive: true, force: true });
    try {
      const v = await h.until<VersionObject>(Version, "cog-3-0-0-linux-amd64", verdict("ScanFailed"), 60_000);
      expect(v.status?.scanVerdict?.blocked).toBe(false);
      expect(v.status?.synced).toBe(true);
      expect(condition(v, "Scanned")).toMatchObject({ status: "False", reason: "ScanFailed" });
      expect(condition(v, "Scanned")?.message).toContain("the last successful scan");
      expect(condition(v, "Ready")?.status).toBe("True");
      expect((await providerVersions("cog"))[0]?.platforms).toHaveLength(1);
    } finally {
      await seedStandInDb(cacheDir);
    }
    await h.until<VersionObject>(Version, "cog-3-0-0-linux-amd64", verdict("Passed"), 60_000);
  }, 150_000);

  test("a DB update that reveals a CVE blocks a served build on rescan, with 0 upstream bytes", async () => {
    addScannedProvider("sprocket", "0.9.0", "gobinary-later");
    await h.store.create(providerObject("sprocket", "0.9.0", { blockOnHigh: true }));
    for (const b of BUILDS) await h.until<VersionObject>(Version, `sprocket-0-9-0-${b}`, (x) => x.status?.synced === true && verdict("Passed")(x), 90_000);
    expect((await providerVersions("sprocket"))[0]?.platforms).toHaveLength(4);
    const before = { tofu: upstreams.opentofu.stats.downloadBytes, tofuRequests: upstreams.opentofu.stats.requests, github: upstreams.github.stats.bytesServed, githubRequests: upstreams.github.stats.requests };
    await seedStandInDb(cacheDir, { updatedAt: new Date("2026-12-01T06:00:00Z"), scenarios: { "gobinary-later": "gobinary-high" } });
    for (const b of BUILDS) {
      const v = await h.until<VersionObject>(Version, `sprocket-0-9-0-${b}`, verdict("ScanPolicyViolation"), 90_000);
      expect(v.status?.binaryScan?.dbUpdatedAt).toBe("2026-12-01T06:00:00Z");
    }
    expect(await providerVersions("sprocket")).toEqual([]);
    expect(upstreams.opentofu.stats.downloadBytes - before.tofu).toBe(0);
    expect(upstreams.github.stats.bytesServed - before.github).toBe(0);
    expect(upstreams.opentofu.stats.requests - before.tofuRequests).toBe(0);
    expect(upstreams.github.stats.requests - before.githubRequests).toBe(0);
    expect(h.logs.some((l) => l.msg === "version blocked by the scan policy; it is not served")).toBe(true);
  }, 180_000);
});
