// Benchmark: time and peak resident memory of `opendepot standalone` syncing 200 module versions and 40 provider
// builds from the upstream fakes; bytes re-downloaded by a second full reconcile (a restart); and a 700 MB provider
// passing through with flat memory.   bun bench/sync.ts [--big-mib 700]
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GitHubFake } from "../fixtures/github-fake.ts";
import { OpenTofuRegistryFake } from "../fixtures/opentofu-registry-fake.ts";
import { sampleModuleFiles } from "../fixtures/upstream-fakes.ts";
import { freePort, waitFor } from "../test/support/ports.ts";
import { rssMiB, table, numberArg as arg } from "./support.ts";

const MODULES = 10;
const VERSIONS_PER_MODULE = 20;
const PROVIDER_VERSIONS = 10;
const BIG_MIB = arg("big-mib", 700);

async function startRegistry(root: string, env: Record<string, string>) {
  const port = freePort();
  const proc = Bun.spawn(["bun", join(import.meta.dir, "..", "src", "main.ts"), "standalone", "--listen", `127.0.0.1:${port}`, "--data-dir", join(root, "data"), "--manifests", join(root, "manifests"), "--log-level", "warn", "--admin-listen", "off"], {
    env: { ...process.env, ...env },
    stdout: "ignore",
    stderr: "inherit",
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.ok, 60_000, "registry");
  let peak = 0;
  const sampler = setInterval(async () => {
    peak = Math.max(peak, await rssMiB(proc.pid).catch(() => 0));
  }, 100);
  return {
    url,
    peak: () => peak,
    async stop() {
      clearInterval(sampler);
      proc.kill("SIGTERM");
      await proc.exited;
    },
  };
}

async function countServed(url: string): Promise<{ modules: number; builds: number }> {
  let modules = 0;
  for (let m = 0; m < MODULES; m++) {
    const r = await fetch(`${url}/opendepot/modules/v1/default/mod-${m}/aws/versions`);
    if (r.ok) modules += ((await r.json()) as { modules: { versions: unknown[] }[] }).modules[0]!.versions.length;
  }
  const p = await fetch(`${url}/opendepot/providers/v1/default/widget/versions`);
  const builds = p.ok ? ((await p.json()) as { versions: { platforms: unknown[] }[] }).versions.reduce((n, v) => n + v.platforms.length, 0) : 0;
  return { modules, builds };
}

async function main() {
  const github = new GitHubFake();
  const registry = new OpenTofuRegistryFake();
  await Promise.all([github.start(), registry.start()]);
  const env = { OPENDEPOT_GITHUB_API_URL: github.url, OPENDEPOT_OPENTOFU_REGISTRY_URL: registry.url };
  const root = await mkdtemp(join(tmpdir(), "opendepot-bench-sync-"));
  await mkdir(join(root, "manifests"), { recursive: true });
  const docs: string[] = [];
  for (let m = 0; m < MODULES; m++) {
    const tags = Array.from({ length: VERSIONS_PER_MODULE }, (_, i) => `v1.${i}.0`);
    github.addRepo("acme", `mod-${m}`, { releases: tags, files: sampleModuleFiles });
    docs.push(`apiVersion: opendepot.defdev.io/v1alpha1\nkind: Module\nmetadata:\n  name: mod-${m}\nspec:\n  moduleConfig: { repoOwner: acme, provider: aws, fileFormat: zip }\n  versions:\n${tags.map((t) => `    - version: ${t}`).join("\n")}\n`);
  }
  const providerVersions = Array.from({ length: PROVIDER_VERSIONS }, (_, i) => `2.${i}.0`);
  registry.addProvider("hashicorp", "widget", { versions: providerVersions });
  docs.push(`apiVersion: opendepot.defdev.io/v1alpha1\nkind: Provider\nmetadata:\n  name: widget\nspec:\n  providerConfig: { operatingSystems: [linux, darwin], architectures: [amd64, arm64] }\n  versions:\n${providerVersions.map((v) => `    - version: ${v}`).join("\n")}\n`);
  await writeFile(join(root, "manifests", "registry.yaml"), docs.join("---\n"));

  const rows: Record<string, string | number>[] = [];
  const t0 = performance.now();
  let reg = await startRegistry(root, env);
  await waitFor(async () => {
    const c = await countServed(reg.url);
    return c.modules === MODULES * VERSIONS_PER_MODULE && c.builds === PROVIDER_VERSIONS * 4;
  }, 600_000, "everything synced");
  rows.push({ phase: `first sync: ${MODULES * VERSIONS_PER_MODULE} module versions + ${PROVIDER_VERSIONS * 4} provider builds`, "seconds": ((performance.now() - t0) / 1000).toFixed(1), "peak RSS MiB": reg.peak(), "upstream bytes": github.stats.bytesServed + registry.stats.downloadBytes });
  await reg.stop();

  const before = github.stats.bytesServed + registry.stats.downloadBytes;
  const t1 = performance.now();
  reg = await startRegistry(root, env);
  await Bun.sleep(5000); // the restart reconciles every Version once
  const c = await countServed(reg.url);
  rows.push({ phase: `restart: full reconcile of ${c.modules + c.builds} versions`, "seconds": ((performance.now() - t1) / 1000).toFixed(1), "peak RSS MiB": reg.peak(), "upstream bytes": github.stats.bytesServed + registry.stats.downloadBytes - before });
  await reg.stop();

  if (BIG_MIB > 0) {
    registry.addProvider("hashicorp", "huge", { versions: ["1.0.0"], platforms: [{ os: "linux", arch: "amd64" }], binarySize: BIG_MIB * 1024 * 1024 });
    await writeFile(join(root, "manifests", "huge.yaml"), "apiVersion: opendepot.defdev.io/v1alpha1\nkind: Provider\nmetadata:\n  name: huge\nspec:\n  providerConfig: { operatingSystems: [linux], architectures: [amd64] }\n  versions:\n    - version: 1.0.0\n");
    const t2 = performance.now();
    reg = await startRegistry(root, env);
    await waitFor(async () => (await fetch(`${reg.url}/opendepot/providers/v1/default/huge/1.0.0/download/linux/amd64`)).ok, 600_000, "huge provider");
    rows.push({ phase: `one ${BIG_MIB} MiB provider (download, verify, h1, store)`, "seconds": ((performance.now() - t2) / 1000).toFixed(1), "peak RSS MiB": reg.peak(), "upstream bytes": registry.stats.downloadBytes });
    await reg.stop();
  }
  console.log(table(rows));
  await Promise.all([github.stop(), registry.stop()]);
}

await main();
