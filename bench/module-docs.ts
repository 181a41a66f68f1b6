// Benchmark: module documentation extraction. Cold (first call: worker start + wasm compile) and warm times for
// the fixtures, a synthetic module at the read limits (2 MiB of .tf in 256 KiB files), how long the event loop is
// blocked meanwhile (the parser runs in a worker, so this should stay near the timer resolution), and memory.
//   bun bench/module-docs.ts [--runs 20]
import { archiveEntries, moduleDocsFixtureFiles, type ModuleDocsFixture } from "../fixtures/module-docs/index.ts";
import { WorkerHclParser } from "../src/artifacts/hcl-parser.ts";
import { extractModuleDocsFromEntries, type ArchiveFileEntry } from "../src/artifacts/module-docs.ts";
import { table } from "./support.ts";

const runsArg = process.argv.indexOf("--runs");
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 20;

const rssMiB = () => Math.round(process.memoryUsage().rss / 1024 / 1024);
const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

/** The longest gap between 1 ms timer ticks while `work` runs: how long the event loop was blocked. */
async function withLoopLag<T>(work: () => Promise<T>): Promise<{ result: T; lagMs: number }> {
  let last = performance.now();
  let lag = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    lag = Math.max(lag, now - last);
    last = now;
  }, 1);
  try {
    const result = await work();
    return { result, lagMs: lag };
  } finally {
    clearInterval(timer);
  }
}

/** 8 files × 250 KiB of variables with object types, validations and heredocs: the extractor's byte budget. */
function largeModule(): ArchiveFileEntry[] {
  const files: Record<string, string> = {};
  for (let f = 0; f < 8; f++) {
    let text = "";
    for (let i = 0; text.length < 250 * 1024 - 400; i++) {
      text += `variable "f${f}_v${i}" {\n  description = <<-EOT\n    Setting ${i} of file ${f}.\n    Second line.\n  EOT\n  type = map(object({\n    a = string\n    b = optional(list(number), [])\n  }))\n  default = {}\n  validation {\n    condition     = length(var.f${f}_v${i}) < 10\n    error_message = "too many"\n  }\n}\n`;
    }
    files[f < 4 ? `variables-${f}.tf` : `modules/m${f}/variables.tf`] = text;
  }
  return archiveEntries(files);
}

const parser = new WorkerHclParser();
const rows: Record<string, string | number>[] = [];
const rssBefore = rssMiB();

const coldStart = performance.now();
await extractModuleDocsFromEntries(archiveEntries(moduleDocsFixtureFiles("terraform-aws-vpc")), { parser });
const coldMs = performance.now() - coldStart;

const cases: [string, () => ArchiveFileEntry[]][] = [
  ...(["terraform-aws-vpc", "terraform-azurerm-network"] as ModuleDocsFixture[]).map((name) => [name, () => archiveEntries(moduleDocsFixtureFiles(name))] as [string, () => ArchiveFileEntry[]]),
  ["synthetic 2 MiB (8 × 250 KiB)", largeModule],
];
for (const [name, entries] of cases) {
  const input = entries();
  const bytes = input.reduce((n, e) => n + e.size, 0);
  const times: number[] = [];
  let maxLag = 0;
  let out = 0;
  let inputs = 0;
  const runs = bytes > 1024 * 1024 ? Math.max(3, Math.round(RUNS / 5)) : RUNS;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const { result, lagMs } = await withLoopLag(() => extractModuleDocsFromEntries(input, { parser }));
    times.push(performance.now() - t0);
    maxLag = Math.max(maxLag, lagMs);
    out = Buffer.byteLength(JSON.stringify(result));
    inputs = result.root.inputs.length + result.submodules.reduce((n, m) => n + m.inputs.length, 0);
  }
  rows.push({
    module: name,
    "input KiB": Math.round(bytes / 1024),
    files: input.filter((e) => e.path.endsWith(".tf") || e.path.endsWith(".tf.json")).length,
    inputs,
    runs,
    "p50 ms": quantile(times, 0.5).toFixed(1),
    "max ms": Math.max(...times).toFixed(1),
    "loop blocked max ms": maxLag.toFixed(1),
    "JSON KiB": Math.round(out / 1024),
  });
}
parser.close();

console.log(`cold first extraction (worker start + wasm compile + terraform-aws-vpc): ${coldMs.toFixed(0)} ms`);
console.log(table(rows));
console.log(`resident memory: ${rssBefore} MiB before, ${rssMiB()} MiB after (worker closed)`);
