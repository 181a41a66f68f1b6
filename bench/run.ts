// `bun run bench`: every benchmark in bench/, one after the other (they would skew each other if run together), then
// one markdown table of the headline ratios each reported through summarize(). A benchmark that fails is listed
// with its exit code; the run goes on with the rest and exits non-zero at the end.
//   bun bench/run.ts [--only registry,auth] [-- extra args passed to every bench]
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { table } from "./support.ts";

const BENCHES = ["registry", "metrics", "auth", "storage", "download", "sync", "depot", "startup"];
const onlyIndex = process.argv.indexOf("--only");
const only = onlyIndex > 0 ? process.argv[onlyIndex + 1]!.split(",") : BENCHES;
const unknown = only.filter((name) => !BENCHES.includes(name));
if (unknown.length) {
  console.error(`unknown bench: ${unknown.join(", ")} (known: ${BENCHES.join(", ")})`);
  process.exit(2);
}
const passThrough = process.argv.includes("--") ? process.argv.slice(process.argv.indexOf("--") + 1) : [];

const summaryFile = join(await mkdtemp(join(tmpdir(), "opendepot-bench-run-")), "summary.jsonl");
const failed: string[] = [];
for (const name of only) {
  console.log(`\n## bench/${name}.ts\n`);
  const proc = Bun.spawn(["bun", join(import.meta.dir, `${name}.ts`), ...passThrough], {
    stdout: "inherit",
    stderr: "inherit",
    env: { ...process.env, OPENDEPOT_BENCH_SUMMARY: summaryFile },
  });
  const code = await proc.exited;
  if (code !== 0) failed.push(`${name} (exit ${code})`);
}

const rows = (await readFile(summaryFile, "utf8").catch(() => ""))
  .split("\n")
  .filter(Boolean)
  .map((line) => JSON.parse(line) as Record<string, string>);
console.log("\n## Summary\n");
console.log(rows.length ? table(rows) : "(no benchmark reported a ratio)");
if (failed.length) {
  console.log(`\nfailed: ${failed.join(", ")}`);
  process.exit(1);
}
