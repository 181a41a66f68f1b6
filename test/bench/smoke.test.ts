// The benchmarks still run: `bun run bench` at toy sizes (one short round each) must finish with every bench's
// section and its summary rows, and exit 0. No figure is checked (timings belong in bench/, never in tests); what
// this catches is a bench that no longer runs at all, as bench/depot.ts once died at its first create and nothing
// noticed. bench/storage.ts (1 GiB through four backends) is left out for its size.
import { expect, test } from "bun:test";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..", "..");
const BENCHES = ["registry", "metrics", "auth", "download", "sync", "depot", "startup"];
// Each bench reads the sizes it knows and ignores the rest (bench/support.ts numberArg).
const TOY = ["--seconds", "1", "--rounds", "1", "--modules", "20", "--versions", "3", "--connections", "4", "--mib", "8", "--concurrent", "4", "--concurrent-mib", "2", "--many", "8", "--many-mib", "1", "--big-blocks", "1", "--big-mib", "4", "--releases", "50", "--runs", "1"];

test("bun run bench at toy sizes: every bench runs to the end and reports", async () => {
  for (const tool of ["wrk", "nginx", "curl"]) expect({ tool, found: Bun.which(tool) !== null }).toEqual({ tool, found: true });
  const proc = Bun.spawn(["bun", join(ROOT, "bench", "run.ts"), "--only", BENCHES.join(","), "--", ...TOY], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  expect({ code, failed: /^failed: .*$/m.exec(out)?.[0], stderr: code === 0 ? "" : err.slice(-4000) }).toEqual({ code: 0, failed: undefined, stderr: "" });
  for (const bench of BENCHES) expect(out).toContain(`## bench/${bench}.ts`);
  const summary = out.slice(out.indexOf("## Summary"));
  // The benches that report ratios each have rows in the one summary table.
  for (const bench of ["registry", "metrics", "auth", "download", "startup"]) expect({ bench, rows: summary.includes(`| ${bench}`) }).toEqual({ bench, rows: true });
}, 300_000);
