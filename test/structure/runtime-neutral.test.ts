// Production code of src/ runs on Bun and on Deno: a direct Bun API anywhere outside the Bun implementation of the
// runtime adapter (src/runtime/bun.ts) fails here with its file and line.
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { productionFiles } from "./layers.ts";
import { BUN_ONLY, runtimeViolationsIn, TEST_SUITES } from "./runtime-neutral.ts";

const SRC = join(import.meta.dirname, "../../src");

describe("runtime-neutral src/", () => {
  test("a direct Bun use is reported with its file, line and what it is; comments and the adapter are not", () => {
    const source = [
      "// Bun.file reads in chunks (a comment may name Bun APIs)",
      'import { Database } from "bun:sqlite";',
      "const f = Bun.file(path);",
      "/* Bun.serve in a block comment */ const url = 'http://x//y';",
      'import type { Server } from "bun";',
      "const here = import.meta.dir;",
      'import wasm from "x.wasm" with { type: "file" };',
      "if (typeof Bun !== 'undefined') {}",
      'const ok = await import.meta.resolve("x"); const s = "Bun is nice";',
      "  const sleep = () =>",
      "    Bun.sleep(5);",
      'import x from "./app.css" with { type: "text" };',
    ].join("\n");
    expect(runtimeViolationsIn("server/example.ts", source).map((v) => [v.line, v.what])).toEqual([
      [2, "a bun module"],
      [3, "the Bun global"],
      [5, "a bun module"],
      [6, "a Bun-only import.meta field (use import.meta.url / dirname / filename)"],
      [7, "a Bun-only import attribute"],
      [8, "the Bun global"],
      [11, "the Bun global"],
    ]);
    expect(runtimeViolationsIn("runtime/bun.ts", source)).toEqual([]);
    expect(runtimeViolationsIn("storage/conformance.ts", 'import { test } from "bun:test";')).toEqual([]);
    expect(runtimeViolationsIn("storage/conformance.ts", "await Bun.sleep(1);")).toHaveLength(1);
    expect(runtimeViolationsIn("storage/other.ts", 'import { test } from "bun:test";')).toHaveLength(1);
  });

  test("the allowed files exist (a stale entry would hide nothing, but would mislead)", () => {
    for (const f of [...Object.keys(BUN_ONLY), ...Object.keys(TEST_SUITES)]) expect({ f, exists: existsSync(join(SRC, f)) }).toEqual({ f, exists: true });
  });

  test("no production file outside src/runtime/bun.ts uses Bun directly", async () => {
    const files = await productionFiles(SRC);
    expect(files.length).toBeGreaterThan(100);
    const found = files.flatMap((f) => runtimeViolationsIn(f, readFileSync(join(SRC, f), "utf8")));
    expect(found.map((v) => `src/${v.file}:${v.line} uses ${v.what} — ${v.text} (go through src/runtime/, Web APIs or node: modules)`)).toEqual([]);
  });
});
