// Benchmark: what the scan stage costs OpenDepot itself (Trivy's own time is not measurable here: the stand-in
// answers at once). Reports median wall time of
// - parsing Trivy reports: the real 8-failure IaC report, and a 23 MB one with 8,000 failures (`misconfig-x1000`);
// - spooling + verifying + extracting a stored module zip of N files (the input of `trivy config`);
// - one full stand-in run through runTrivy (process start of `bun` dominates; real Trivy starts in ~1.3 s).
//   bun bench/scan.ts [--files 500] [--runs 7]
import { mkdtemp, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { zipSync } from "fflate";
import { seedStandInDb, STANDIN_TRIVY } from "../fixtures/trivy/standin-db.ts";
import { extractModuleArchive } from "../src/artifacts/extract.ts";
import { parseTrivyReport } from "../src/scan/report.ts";
import { runTrivy } from "../src/scan/runner.ts";
import { table, numberArg as arg } from "./support.ts";

const FILES = arg("files", 500);
const RUNS = arg("runs", 7);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
async function time(fn: () => Promise<unknown> | unknown): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    await fn();
    samples.push(performance.now() - t);
  }
  return median(samples);
}

const root = await mkdtemp(join(tmpdir(), "opendepot-bench-scan-"));
try {
  const cache = join(root, "cache");
  await seedStandInDb(cache);
  const small = await readFile(join(import.meta.dir, "../fixtures/trivy/reports/terraform-misconfig.json"), "utf8");
  const hugeDir = join(root, "huge");
  await mkdir(hugeDir);
  await writeFile(join(hugeDir, "main.tf"), "# trivy-scenario: misconfig-x1000\n");
  const proc = Bun.spawn([STANDIN_TRIVY, "config", "--format", "json", "--quiet", hugeDir], { stdout: "pipe" });
  const huge = await new Response(proc.stdout).text();
  await proc.exited;

  const files = Object.fromEntries(Array.from({ length: FILES }, (_, i) => [`modules/m${i % 20}/file${i}.tf`, new TextEncoder().encode(`resource "null_resource" "r${i}" {}\n`.repeat(20))]));
  const zipPath = join(root, "module.zip");
  await writeFile(zipPath, zipSync(files));
  let n = 0;
  const rows = [
    { step: "parse real IaC report (8 findings, 21 KB)", "median ms": (await time(() => parseTrivyReport(small, "module"))).toFixed(2) },
    { step: `parse huge report (8,000 findings, ${(huge.length / 1e6).toFixed(1)} MB)`, "median ms": (await time(() => parseTrivyReport(huge, "module"))).toFixed(1) },
    {
      step: `extract stored module zip (${FILES} files)`,
      "median ms": (await time(async () => {
        const dir = join(root, `x${n++}`);
        await mkdir(dir);
        await extractModuleArchive(zipPath, "zip", dir);
      })).toFixed(1),
    },
    { step: "runTrivy, stand-in writing the huge report (spawn + 23 MB pipe + parse)", "median ms": (await time(() => runTrivy("module", hugeDir, { path: STANDIN_TRIVY, cacheDir: cache, offline: true, timeoutMs: 60_000 }))).toFixed(1) },
  ];
  console.log(table(rows));
} finally {
  await rm(root, { recursive: true, force: true });
}
