// The `deno check` gate (issue #18): every non-test file of src/ type-checks under Deno with the repository's
// deno.json, except the files that are Bun's by design. Deno's own output is in the failure message.
import { describe, expect, test } from "bun:test";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { checkErrors, ROOT, runDeno } from "./deno.ts";

/** Bun's by design, each with why (the rest of src/ must check under Deno). */
export const BUN_ONLY = new Map<string, string>([
  ["src/runtime/bun.ts", "the Bun implementation of the runtime adapter (Bun.*, bun:sqlite); deno.json maps it to src/runtime/deno.ts"],
]);

/** Not Deno's to check: the Explorer's browser script (DOM lib; `tsc -p src/ui/client` checks it) and declaration files. */
const notForDeno = (path: string) => path.startsWith("src/ui/client/") || path.endsWith(".d.ts");

export function sourceFiles(): string[] {
  return [...new Bun.Glob("src/**/*.ts").scanSync({ cwd: ROOT })]
    .map((p) => p.split("\\").join("/"))
    .filter((p) => !p.endsWith(".test.ts") && !notForDeno(p) && !BUN_ONLY.has(p))
    .sort();
}

async function denoCheck(files: string[]) {
  const run = await runDeno(["check", "--quiet", ...files]);
  const output = run.stdout + run.stderr;
  return { ...run, output, errors: checkErrors(output) };
}

describe("deno check", () => {
  test("every non-test file of src/ outside the Bun adapter: 0 errors", async () => {
    const files = sourceFiles();
    // The whole of src/ (≈250 files), not a handful that happened to be listed.
    expect(files.length).toBeGreaterThan(200);
    expect(files).toContain("src/runtime/deno.ts");
    expect(files).toContain("src/main.ts");
    const result = await denoCheck(files);
    if (result.exitCode !== 0) throw new Error(`deno check failed on ${files.length} files (${result.errors.length} errors):\n${result.errors.join("\n")}\n\n${result.output.slice(0, 20_000)}`);
    expect(result.errors).toEqual([]);
  }, 300_000);

  test("the gate fails on a type error, naming the file and line", async () => {
    const dir = join(ROOT, ".tmp", "deno-check-probe");
    await mkdir(dir, { recursive: true });
    const probe = join(dir, `probe-${process.pid}.ts`);
    await writeFile(probe, 'import { runtime } from "../../src/runtime/index.ts";\nexport const n: number = runtime.name;\n');
    try {
      const result = await denoCheck([probe]);
      expect(result.exitCode).not.toBe(0);
      expect(result.errors).toEqual([`.tmp/deno-check-probe/probe-${process.pid}.ts:2:14 TS2322 Type 'string' is not assignable to type 'number'.`]);
    } finally {
      await rm(probe, { force: true });
    }
  }, 120_000);

  test("the Bun-only files really are Bun's: Deno rejects them, so the exclusions are needed", async () => {
    for (const [file, why] of BUN_ONLY) {
      const result = await denoCheck([file]);
      expect({ file, why, exitCode: result.exitCode === 0 ? 0 : 1 }).toEqual({ file, why, exitCode: 1 });
    }
  }, 120_000);
});
