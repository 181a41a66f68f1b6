// The policy, artifacts, sources and storage unit tests, and the runtime adapter's, under Deno (issue #18): the same files bun test runs,
// through `deno test` with deno.json's bun:test shim (test/deno/bun-test-shim.ts). Any Deno failure fails this
// test with Deno's report; the tests that do not hold on Deno are the named few of bun-only.ts, nothing else.
import { describe, expect, test } from "bun:test";
import { BUN_ONLY_TESTS } from "./bun-only.ts";
import { ROOT, runDeno } from "./deno.ts";

// src/runtime: the adapter's own conformance test (runtime.test.ts), which Deno runs against deno.ts.
export const UNIT_FOLDERS = ["src/policy", "src/artifacts", "src/sources", "src/storage", "src/runtime"];

function testFiles(): string[] {
  return UNIT_FOLDERS.flatMap((folder) => [...new Bun.Glob(`${folder}/**/*.test.ts`).scanSync({ cwd: ROOT })]).sort();
}

interface DenoTestReport {
  passed: number;
  failed: number;
  ignored: number;
  ignoredNames: string[];
  failedNames: string[];
}

/** Deno's summary line ("ok | 600 passed | 0 failed | 1 ignored (40s)") and the names of the ignored and failed tests. */
export function parseDenoTest(output: string): DenoTestReport | undefined {
  const summary = /^(?:ok|FAILED) \| (\d+) passed(?: \((\d+) steps?\))? \| (\d+) failed(?: \((\d+) steps?\))?(?: \| (\d+) ignored)?/m.exec(output);
  if (!summary) return undefined;
  const named = (outcome: string) => [...output.matchAll(new RegExp(`^(.*) \\.\\.\\. ${outcome}(?: \\(|$)`, "gm"))].map((m) => m[1]!.trim());
  return { passed: Number(summary[1]), failed: Number(summary[3]), ignored: Number(summary[5] ?? 0), ignoredNames: named("ignored"), failedNames: [...new Set(named("FAILED"))] };
}

describe("unit tests under Deno", () => {
  test("policy, artifacts, sources, storage and runtime: every test passes under deno test, except the listed Bun-only ones", async () => {
    const files = testFiles();
    expect(files.length).toBeGreaterThanOrEqual(31);
    // --no-check: the test files are typed against bun:test's declarations (tsc checks them); --expose-gc: runtime.gc().
    const run = await runDeno(["test", "--no-check", "--allow-all", "--v8-flags=--expose-gc", ...files]);
    const output = run.stdout + run.stderr;
    const report = parseDenoTest(output);
    const failures = () => `deno test: exit ${run.exitCode}, ${JSON.stringify(report && { passed: report.passed, failed: report.failed, ignored: report.ignored, failedNames: report.failedNames })}\n${output.slice(-30_000)}`;
    if (!report || run.exitCode !== 0 || report.failed !== 0) throw new Error(failures());
    expect(report.ignoredNames.sort()).toEqual([...BUN_ONLY_TESTS.keys()].sort());
    expect(report.ignored).toBe(BUN_ONLY_TESTS.size);
    // About as many tests as bun test counts in these folders (632 when this was written): not a handful.
    expect(report.passed).toBeGreaterThan(600);
    console.log(`deno test: ${files.length} files, ${report.passed} passed, ${report.failed} failed, ${report.ignored} ignored (Bun-only, listed)`);
  }, 900_000);

  test("the report parser sees failures: a failing test under the shim fails the run", async () => {
    const { mkdir, rm, writeFile } = await import("node:fs/promises");
    const { join } = await import("node:path");
    const dir = join(ROOT, ".tmp", "deno-units-probe");
    await mkdir(dir, { recursive: true });
    const probe = join(dir, `probe-${process.pid}.test.ts`);
    await writeFile(
      probe,
      `import { afterAll, beforeAll, describe, expect, test } from "bun:test";
let ready = false;
const order: string[] = [];
beforeAll(() => void (ready = true));
afterAll(() => void order.push("afterAll"));
describe("probe", () => {
  test("passes", () => expect({ a: 1, b: undefined }).toEqual({ a: 1 }));
  test.each([[1, 2], [2, 3]])("%d + 1 = %d", (a, b) => expect(a + 1).toBe(b));
  test("fails", () => expect(ready && [1, 2]).toEqual([1, 3]));
  test("rejects", async () => { await expect(Promise.resolve(1)).rejects.toThrow(); });
});
`,
    );
    try {
      const run = await runDeno(["test", "--no-check", "--allow-all", probe]);
      const report = parseDenoTest(run.stdout + run.stderr);
      expect(run.exitCode).not.toBe(0);
      expect(report).toMatchObject({ passed: 3, failed: 2, ignored: 0, failedNames: ["probe > fails", "probe > rejects"] });
    } finally {
      await rm(probe, { force: true });
    }
  }, 120_000);
});
