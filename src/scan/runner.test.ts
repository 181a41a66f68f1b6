// The runner against the stand-in trivy (fixtures/trivy), which refuses and fails the way Trivy v0.74 does.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { seedStandInDb, standInRuns, STANDIN_TRIVY } from "../../fixtures/trivy/standin-db.ts";
import { runTrivy, ScanError, shortStderr, trivyArgs, trivyEnv, type TrivyOptions } from "./runner.ts";

let root: string;
let cache: string;
let options: TrivyOptions;

async function tree(name: string, files: Record<string, string | { text: string; mode: number }>): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  for (const [file, spec] of Object.entries(files)) {
    await writeFile(join(dir, file), typeof spec === "string" ? spec : spec.text);
    if (typeof spec !== "string") await chmod(join(dir, file), spec.mode);
  }
  return dir;
}
const failure = async (p: Promise<unknown>): Promise<ScanError> => {
  try {
    await p;
  } catch (e) {
    if (e instanceof ScanError) return e;
    throw e;
  }
  throw new Error("expected the scan to fail");
};
async function standIn(...args: string[]) {
  const proc = Bun.spawn([STANDIN_TRIVY, ...args], { stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { stdout, stderr, code };
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "opendepot-runner-"));
  cache = join(root, "cache");
  await seedStandInDb(cache);
  options = { path: STANDIN_TRIVY, cacheDir: cache, offline: true, timeoutMs: 30_000 };
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe("command lines", () => {
  const o = { cacheDir: "/var/cache/trivy", offline: true, timeoutMs: 300_000 };
  test("module: trivy config (no vuln flags, which it does not have); offline adds --skip-check-update", () => {
    expect(trivyArgs("module", "/tmp/m", o)).toEqual(["config", "--format", "json", "--quiet", "--cache-dir", "/var/cache/trivy", "--timeout", "300s", "--exit-code", "3", "--skip-check-update", "/tmp/m"]);
    expect(trivyArgs("module", "/tmp/m", { ...o, offline: false })).not.toContain("--skip-check-update");
  });
  test("binary: rootfs, source: fs; vuln scanner only; offline = --skip-db-update --offline-scan --skip-java-db-update", () => {
    const tail = ["--format", "json", "--quiet", "--cache-dir", "/var/cache/trivy", "--timeout", "300s", "--exit-code", "3", "--scanners", "vuln", "--list-all-pkgs=false"];
    expect(trivyArgs("binary", "/tmp/b", o)).toEqual(["rootfs", ...tail, "--skip-db-update", "--offline-scan", "--skip-java-db-update", "/tmp/b"]);
    expect(trivyArgs("source", "/tmp/s", { ...o, offline: false })).toEqual(["fs", ...tail, "/tmp/s"]);
  });
});

describe("the stand-in refuses what Trivy refuses", () => {
  test("unknown flag on `trivy config`: usage on stdout, FATAL on stderr, exit 1", async () => {
    const dir = await tree("refuse", { "main.tf": "" });
    const r = await standIn("config", "--offline-scan", dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("Usage:");
    expect(r.stderr).toMatch(/\tFATAL\tFatal error\tunknown flag: --offline-scan\n$/);
  });
  test("bad --severity", async () => {
    const r = await standIn("fs", "--severity", "CRITICAL,INVALID", root);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('invalid argument "[CRITICAL INVALID]" for "--severity" flag');
  });
  test("--exit-code N only when something was found; 0 otherwise", async () => {
    const bad = await tree("exit-bad", { "main.tf": "# trivy-scenario: misconfig\n" });
    const clean = await tree("exit-clean", { "main.tf": "" });
    expect((await standIn("config", "--format", "json", "--exit-code", "3", bad)).code).toBe(3);
    expect((await standIn("config", "--format", "json", "--exit-code", "3", clean)).code).toBe(0);
  });
});

describe("runTrivy", () => {
  test("findings exit with code 3 and are parsed; a clean tree exits 0", async () => {
    const r = await runTrivy("module", await tree("misconfig", { "main.tf": "# trivy-scenario: misconfig\n" }), options);
    expect(r.counts).toEqual({ CRITICAL: 0, HIGH: 5, MEDIUM: 1, LOW: 2, UNKNOWN: 0 });
    const clean = await runTrivy("module", await tree("clean", { "main.tf": "resource \"null_resource\" \"x\" {}\n" }), options);
    expect(clean.findings).toEqual([]);
  });

  test("rootfs: an executable binary is analysed, a non-executable one is not (Trivy's gobinary rule)", async () => {
    const exec = await tree("bin-exec", { "provider-binary": { text: "# trivy-scenario: gobinary-high\n", mode: 0o500 } });
    expect((await runTrivy("binary", exec, options)).findings.map((f) => f.vulnerabilityID)).toEqual(["CVE-2021-38561"]);
    const plain = await tree("bin-plain", { "provider-binary": { text: "# trivy-scenario: gobinary-high\n", mode: 0o600 } });
    expect((await runTrivy("binary", plain, options)).findings).toEqual([]);
  });

  test("fs on go.mod", async () => {
    const r = await runTrivy("source", await tree("gomod", { "go.mod": "module x\n// trivy-scenario: gomod-vulns\n" }), options);
    expect(r.findings).toHaveLength(3);
  });

  const cases: [string, string, RegExp][] = [
    ["crash", "Crashed", /^Trivy crashed \(exit 2\): panic: runtime error/],
    ["fatal", "Failed", /^Trivy failed \(exit 1\): run error: scan error/],
    ["garbage", "BadOutput", /^Trivy exited 0 but its output is unusable: Trivy output is not JSON/],
  ];
  for (const [scenario, kind, message] of cases) {
    test(`${scenario} → ${kind}`, async () => {
      const e = await failure(runTrivy("module", await tree(`mode-${scenario}`, { "main.tf": `# trivy-scenario: ${scenario}\n` }), options));
      expect(e.kind).toBe(kind as ScanError["kind"]);
      expect(e.message).toMatch(message);
    });
  }

  test("a process stuck past --timeout is killed", async () => {
    const e = await failure(runTrivy("module", await tree("mode-hang", { "main.tf": "# trivy-scenario: hang\n" }), { ...options, timeoutMs: 1000 }));
    expect(e.kind).toBe("TimedOut");
    expect(e.message).toContain("was killed");
  });

  test("DB missing in offline mode says how to seed it; online with no DB and no network is a download failure", async () => {
    const empty = join(root, "empty-cache");
    await mkdir(empty, { recursive: true });
    const dir = await tree("nodb", { "go.mod": "module x\n" });
    const offline = await failure(runTrivy("source", dir, { ...options, cacheDir: empty }));
    expect(offline.kind).toBe("DbMissing");
    expect(offline.message).toContain(`trivy image --download-db-only --cache-dir ${empty}`);
    expect(offline.message).toContain("--skip-db-update cannot be specified on the first run");
    const online = await failure(runTrivy("source", dir, { ...options, cacheDir: empty, offline: false }));
    expect(online.kind).toBe("DbMissing");
    expect(online.message).toContain("could not download its vulnerability DB");
    // Misconfiguration scans never need the DB.
    expect((await runTrivy("module", await tree("nodb-mod", { "main.tf": "" }), { ...options, cacheDir: empty })).findings).toEqual([]);
  });

  test("not installed: a missing path, or a name not on PATH", async () => {
    expect((await failure(runTrivy("module", root, { ...options, path: join(root, "nope") }))).kind).toBe("NotInstalled");
    expect((await failure(runTrivy("module", root, { ...options, path: "trivy-not-installed-here" }))).message).toContain("not found on PATH");
  });

  test("an oversized report is refused, not truncated", async () => {
    const e = await failure(runTrivy("module", await tree("big", { "main.tf": "# trivy-scenario: misconfig\n" }), { ...options, maxReportBytes: 1024 }));
    expect(e.kind).toBe("BadOutput");
  });

  test("cancellation kills the process", async () => {
    const abort = new AbortController();
    const run = runTrivy("module", await tree("cancel", { "main.tf": "# trivy-scenario: hang\n" }), options, abort.signal);
    setTimeout(() => abort.abort(), 200);
    expect((await failure(run)).message).toBe("scan cancelled");
  });
});

test("offline, Trivy gets a proxy that refuses everything (remote module sources cannot reach out); online it does not", async () => {
  const env = trivyEnv({ offline: true, env: { PATH: "/bin", NO_PROXY: "*", https_proxy: "http://corp:3128" } });
  expect(env).toMatchObject({ PATH: "/bin", HTTPS_PROXY: "http://127.0.0.1:9", https_proxy: "http://127.0.0.1:9", HTTP_PROXY: "http://127.0.0.1:9", ALL_PROXY: "http://127.0.0.1:9" });
  expect(env.NO_PROXY).toBeUndefined();
  expect(trivyEnv({ offline: false, env: { https_proxy: "http://corp:3128" } })).toEqual({ https_proxy: "http://corp:3128" });
  const runs = await standInRuns(cache);
  expect(runs.length).toBeGreaterThan(0);
  const offline = (r: { argv: string[] }) => r.argv.includes("--skip-db-update") || r.argv.includes("--skip-check-update");
  expect(runs.filter(offline).length).toBeGreaterThan(0);
  expect(runs.filter(offline).every((r) => r.httpsProxy === "http://127.0.0.1:9")).toBe(true);
  expect(runs.filter((r) => !offline(r) && r.argv[0] !== "config").every((r) => r.httpsProxy !== "http://127.0.0.1:9")).toBe(true);
});

test("shortStderr picks the FATAL line", () => {
  expect(shortStderr("2026-01-01T00:00:00Z\tINFO\tx\n2026-01-01T00:00:00Z\tFATAL\tFatal error\tinit error: boom\n")).toBe("init error: boom");
  expect(shortStderr("")).toBe("(no output on stderr)");
});
