// Dependencies point down the layers table of docs/architecture.md: a forbidden import anywhere in src/ fails here
// with the file, line and the rule it breaks.
import { describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { parseLayers, productionFiles, topLevelOf, violationsIn } from "./layers.ts";

const ROOT = join(import.meta.dir, "../..");
const doc = await Bun.file(join(ROOT, "docs/architecture.md")).text();
const layers = parseLayers(doc);
const layerOf = (name: string) => layers.find((l) => l.names.includes(name))!;

describe("the layers table", () => {
  test("names every top-level entry of src/ exactly once", () => {
    const entries = readdirSync(join(ROOT, "src"), { withFileTypes: true })
      .filter((e) => e.isDirectory() || (e.name.endsWith(".ts") && !e.name.endsWith(".test.ts")))
      .map((e) => (e.isDirectory() ? `${e.name}/` : e.name));
    const named = layers.flatMap((l) => l.names);
    expect(new Set(named).size).toBe(named.length);
    expect(entries.filter((e) => !named.includes(e))).toEqual([]);
    expect(named.filter((n) => !entries.includes(n))).toEqual([]);
  });

  test("is read as the doc says: server and controllers never meet, kits and api import nothing of ours", () => {
    expect([...layerOf("api/").mayImport]).toEqual([]);
    expect([...layerOf("kits/").mayImport]).toEqual([]);
    expect(layerOf("server/").mayImport.has("controllers/")).toBe(false);
    expect(layerOf("controllers/").mayImport.has("server/")).toBe(false);
    expect(layerOf("server/").mayImport.has("cli/")).toBe(false);
    expect(layerOf("storage/").mayImport.has("artifacts/")).toBe(false);
    expect([...layerOf("store/").mayImport].sort()).toEqual(["api/", "kits/", "log.ts", "metrics/", "runtime/"]);
    expect(layerOf("controllers/").mayImport.has("sources/")).toBe(true);
    expect(layerOf("roles/").mayImport.has("server/")).toBe(true);
  });
});

describe("imports in src/", () => {
  test("a forbidden import is reported with its file and line; a marked compatibility re-export is not", () => {
    const source = [
      'import { deepEqual } from "../kits/json.ts";',
      'import type { Module } from "../api/types.ts";',
      'import { runStandalone } from "../roles/standalone.ts";',
      'export { x } from "../cli/flags.ts"; // moved: import from src/roles/x.ts',
      '  const m = await import("../controllers/manager.ts");',
      "import {",
      "  a,",
      "  b,",
      '} from "../controllers/children.ts";',
    ].join("\n");
    expect(violationsIn("server/example.ts", source, layers).map((v) => [v.line, v.imports])).toEqual([
      [3, "roles/"],
      [5, "controllers/"],
      [9, "controllers/"],
    ]);
    expect(violationsIn("storage/deep/x.ts", 'import { toBase64 } from "../../artifacts/hash.ts";', layers)).toHaveLength(1);
    expect(violationsIn("nowhere/x.ts", "", layers)[0]!.text).toContain("no row");
    expect(topLevelOf("log.ts")).toBe("log.ts");
  });

  test("every production file keeps to its layer", async () => {
    const src = join(ROOT, "src");
    const found = [];
    for (const file of await productionFiles(src)) found.push(...violationsIn(file, await Bun.file(join(src, file)).text(), layers));
    expect(found.map((v) => `src/${v.file}:${v.line} imports ${v.imports} — ${v.text}`)).toEqual([]);
  });
});
