// Acceptance for scanning when things go wrong or time passes: periodic rescans and forceSync, a stale DB, and
// scanner trouble (crash, kill after a hang, garbage output, fatal error, DB missing) failing closed under a gate
// without ever unserving what was already served. Stand-in `trivy` from fixtures/trivy.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Module, Provider, Version, type VersionObject } from "../../src/api/kinds.ts";
import { sampleModuleFiles, startSampleUpstreams, type SampleUpstreams } from "../../fixtures/upstream-fakes.ts";
import { seedStandInDb, standInInvocations, STANDIN_TRIVY } from "../../fixtures/trivy/standin-db.ts";
import { startHarness, type Harness } from "../support/registry-harness.ts";
import { waitFor, type JsonResponse } from "../support/ports.ts";
import { addScannedProvider as addProvider, addScannedRepo as addRepo, condition, moduleObject, providerObject, verdict } from "../support/scanning.ts";

let upstreams: SampleUpstreams;
const addScannedRepo = (repo: string, scenario: string) => addRepo(upstreams, repo, scenario);
const addScannedProvider = (name: string, version: string, scenario: string) => addProvider(upstreams, name, version, scenario);

beforeAll(async () => {
  upstreams = await startSampleUpstreams();
});
afterAll(async () => {
  await upstreams?.stop();
});

describe("periodic rescans (--rescan-interval) and forceSync", () => {
  let periodic: Harness;
  let cache: string;
  beforeAll(async () => {
    cache = await mkdtemp(join(tmpdir(), "opendepot-trivy-periodic-"));
    await seedStandInDb(cache);
    upstreams.github.addRepo("acme", "terraform-aws-periodic", { releases: ["v1.0.0"], files: sampleModuleFiles });
    periodic = await startHarness({ env: upstreams.env, flags: ["--scanning-enabled", "--scan-modules", "--trivy-path", STANDIN_TRIVY, "--trivy-cache-dir", cache, "--rescan-interval", "2s", "--opentofu-api-url", upstreams.opentofu.url] });
  });
  afterAll(async () => {
    await periodic?.stop();
    await rm(cache, { recursive: true, force: true });
  });

  test("a served module is scanned again every interval from its stored bytes; forceSync re-downloads and rescans", async () => {
    await periodic.store.create(moduleObject("periodic", "terraform-aws-periodic", { blockOnCritical: true }));
    const first = await periodic.until<VersionObject>(Version, "periodic-1-0-0", (x) => x.status?.synced === true && verdict("Passed")(x), 60_000);
    const archives = upstreams.github.stats.archivesServed;
    const runs = async () => (await standInInvocations(cache)).filter((a) => a[0] === "config").length;
    const before = await runs();
    await waitFor(async () => (await runs()) >= before + 2, 30_000, "two periodic rescans");
    const later = (await periodic.get<VersionObject>(Version, "periodic-1-0-0"))!;
    expect(Date.parse(later.status!.sourceScan!.scannedAt)).toBeGreaterThan(Date.parse(first.status!.sourceScan!.scannedAt));
    expect(upstreams.github.stats.archivesServed).toBe(archives);

    const scans = await runs();
    await periodic.store.patch(Version, "default", "periodic-1-0-0", { type: "merge", patch: { spec: { forceSync: true } } });
    const synced = await periodic.until<VersionObject>(Version, "periodic-1-0-0", (x) => x.spec.forceSync !== true && upstreams.github.stats.archivesServed > archives, 30_000);
    expect(await runs()).toBeGreaterThan(scans);
    expect(synced.status?.scanVerdict?.reason).toBe("Passed"); // the published object was scanned, not the dropped re-fetch
    expect(condition(synced, "Scanned")?.status).toBe("True");
  }, 90_000);

  test("a stale vulnerability DB is said out loud in the verdict", async () => {
    await seedStandInDb(cache, { updatedAt: new Date(Date.now() - 30 * 86_400_000) });
    addScannedProvider("oldie", "1.0.0", "clean");
    await periodic.store.create(providerObject("oldie", "1.0.0", undefined, true));
    const v = await periodic.until<VersionObject>(Version, "oldie-1-0-0-linux-amd64", verdict("Passed"), 60_000);
    expect(v.status?.scanVerdict?.message).toMatch(/the vulnerability DB is (29|30) days old .*is the DB refresh job running\?/);
  }, 60_000);
});

describe("scanner trouble fails closed under a gate", () => {
  let trouble: Harness;
  let emptyCache: string;
  let workDir: string;
  beforeAll(async () => {
    emptyCache = await mkdtemp(join(tmpdir(), "opendepot-trivy-empty-"));
    workDir = await mkdtemp(join(tmpdir(), "opendepot-scan-work-"));
    for (const s of ["crash", "hang", "garbage", "fatal"]) addScannedRepo(`terraform-aws-${s}`, s);
    trouble = await startHarness({
      env: upstreams.env,
      flags: ["--scanning-enabled", "--scan-modules", "--trivy-path", STANDIN_TRIVY, "--trivy-cache-dir", emptyCache, "--work-dir", workDir, "--scan-timeout", "2s", "--scan-concurrency", "2", "--opentofu-api-url", upstreams.opentofu.url],
    });
  });
  afterAll(async () => {
    await trouble?.stop();
    await rm(emptyCache, { recursive: true, force: true });
    await rm(workDir, { recursive: true, force: true });
  });
  const troubleGet = (path: string) => fetch(new URL(path, trouble.url)) as Promise<JsonResponse>;

  for (const [scenario, says] of [["crash", "Trivy crashed (exit 2): panic: runtime error"], ["hang", "did not finish within 3s and was killed"], ["garbage", "output is unusable"], ["fatal", "Trivy failed (exit 1)"]] as const) {
    test(`${scenario} → ScanFailed, not served`, async () => {
      await trouble.store.create(moduleObject(`m-${scenario}`, `terraform-aws-${scenario}`, { blockOnCritical: true }));
      const v = await trouble.until<VersionObject>(Version, `m-${scenario}-1-0-0`, verdict("ScanFailed"), 60_000);
      expect(v.status?.scanVerdict?.blocked).toBe(true);
      expect(condition(v, "Ready")).toMatchObject({ status: "False", reason: "ScanFailed" });
      expect(condition(v, "Scanned")?.message).toContain(says);
      expect(v.status?.sourceScan).toBeUndefined(); // never a silent "no findings"
      expect(((await (await troubleGet(`/opendepot/modules/v1/default/m-${scenario}/aws/versions`)).json()).modules[0].versions)).toEqual([]);
    }, 90_000);
  }

  test("DB missing in offline mode → ScanFailed saying how to seed it; without a gate the build is served, marked unscanned", async () => {
    addScannedProvider("nodb", "1.0.0", "clean");
    await trouble.store.create(providerObject("nodb", "1.0.0", { blockOnCritical: true }, true));
    const v = await trouble.until<VersionObject>(Version, "nodb-1-0-0-linux-amd64", verdict("ScanFailed"), 60_000);
    expect(v.status?.scanVerdict?.blocked).toBe(true);
    expect(condition(v, "Ready")?.message).toContain(`trivy image --download-db-only --cache-dir ${emptyCache}`);
    expect(condition(v, "Ready")?.message).toContain("--skip-db-update cannot be specified on the first run");
    expect((await (await troubleGet("/opendepot/providers/v1/default/nodb/versions")).json()).versions).toEqual([]);

    await trouble.store.patch(Provider, "default", "nodb", { type: "merge", patch: { spec: { providerConfig: { scanConfig: { blockOnCritical: false } } } } });
    const open = await trouble.until<VersionObject>(Version, "nodb-1-0-0-linux-amd64", (x) => x.status?.synced === true && condition(x, "Ready")?.reason === "Unscanned", 60_000);
    expect(open.status?.scanVerdict).toMatchObject({ blocked: false, reason: "ScanFailed" });
    await waitFor(async () => (await (await troubleGet("/opendepot/providers/v1/default/nodb/versions")).json()).versions.length === 1, 20_000, "served unscanned");
  }, 120_000);

  test("an outage never unserves: a served build whose first scan under a new gate fails stays served", async () => {
    addScannedProvider("legacy", "1.0.0", "clean");
    await trouble.store.create(providerObject("legacy", "1.0.0", undefined, true));
    await trouble.until<VersionObject>(Version, "legacy-1-0-0-linux-amd64", (x) => x.status?.synced === true && verdict("ScanFailed")(x), 60_000);
    const before = (await trouble.get<VersionObject>(Version, "legacy-1-0-0-linux-amd64"))!.status!.scanVerdict!.policy;
    await trouble.store.patch(Provider, "default", "legacy", { type: "merge", patch: { spec: { providerConfig: { scanConfig: { blockOnHigh: true } } } } });
    const v = await trouble.until<VersionObject>(Version, "legacy-1-0-0-linux-amd64", (x) => x.status?.scanVerdict?.policy !== before && verdict("ScanFailed")(x), 60_000);
    expect(v.status?.scanVerdict?.blocked).toBe(false);
    expect(condition(v, "Ready")).toMatchObject({ status: "True", reason: "Unscanned" });
    expect(condition(v, "Ready")?.message).toContain("it was served before it could be scanned");
    expect((await (await troubleGet("/opendepot/providers/v1/default/legacy/versions")).json()).versions).toHaveLength(1);
  }, 90_000);

  test("temp dirs are removed on every path (crash, kill, garbage, DB missing)", async () => {
    for (const s of ["crash", "hang", "garbage", "fatal"]) await trouble.store.delete(Module, "default", `m-${s}`);
    await trouble.store.delete(Provider, "default", "nodb");
    await trouble.store.delete(Provider, "default", "legacy");
    const scanned = (await standInInvocations(emptyCache)).map((a) => a.at(-1)!);
    for (const what of ["modscan", "binscan"]) expect(scanned.some((p) => p.startsWith(join(workDir, `opendepot-${what}-`)))).toBe(true);
    const left = await waitFor(async () => ((await readdir(workDir)).length === 0 ? "empty" : undefined), 30_000, "the work dir to be empty");
    expect(left).toBe("empty");
  }, 60_000);
});
