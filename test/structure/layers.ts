// The layer rules of docs/architecture.md, read from the doc's own table ("Folders of `src/` and what each may
// import") so the picture newcomers read and the rule CI checks cannot drift apart.
import { Glob } from "bun";
import { dirname, join, relative } from "node:path";

export interface Layer {
  /** Top-level entries of src/ this row owns: "api/", "log.ts", … */
  names: string[];
  /** Top-level entries this row may import besides its own. */
  mayImport: Set<string>;
}

const ticked = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].flatMap((m) => m[1]!.split(/\s+/)).filter(Boolean);

/** Rows of the first table under the "Folders of `src/`" heading. */
export function parseLayers(markdown: string): Layer[] {
  const section = markdown.split(/^## /m).find((s) => s.startsWith("Folders of `src/`"));
  if (!section) throw new Error('docs/architecture.md has no "## Folders of `src/`" section');
  const rows = section.split("\n").filter((l) => l.startsWith("| `")).map((l) => l.split("|").slice(1, -1).map((c) => c.trim()));
  const layers: Layer[] = [];
  const kits = rows.find((r) => ticked(r[0]!).includes("kits/"));
  if (!kits) throw new Error("the layers table has no `kits/` row");
  for (const [folders, , may] of rows as [string, string, string][]) {
    const mayImport = new Set<string>();
    if (may === "everything") for (const r of rows) for (const n of ticked(r[0]!)) mayImport.add(n);
    else if (may === "all of the above") for (const l of layers) for (const n of l.names) mayImport.add(n);
    else if (may !== "nothing of ours") {
      for (const n of ticked(may)) mayImport.add(n);
      if (/\bkits\b(?!\/)/.test(may.replace(/`[^`]*`/g, ""))) for (const n of ticked(kits[0]!)) mayImport.add(n);
    }
    layers.push({ names: ticked(folders), mayImport });
  }
  return layers;
}

/** "api/" for src/api/kinds.ts, "log.ts" for src/log.ts. */
export function topLevelOf(pathInSrc: string): string {
  const parts = pathInSrc.split("/");
  return parts.length > 1 ? `${parts[0]}/` : parts[0]!;
}

export interface Violation {
  file: string;
  line: number;
  imports: string;
  text: string;
}

// Static imports, re-exports and dynamic import() of relative paths; type-only imports count too (a layer that
// needs another's types depends on it).
const IMPORT = /(?:^|\s)(?:import|export)\b[^'"`;]*?\bfrom\s*["']([^"']+)["']|\bimport\s*\(\s*["']([^"']+)["']\s*\)|^import\s*["']([^"']+)["']/gm;
/** A compatibility re-export left at an old path while parallel branches merge; the integrator deletes these. */
export const MOVED_MARKER = "// moved: import from ";

export function violationsIn(file: string, source: string, layers: Layer[]): Violation[] {
  const own = topLevelOf(file);
  const layer = layers.find((l) => l.names.includes(own));
  if (!layer) return [{ file, line: 0, imports: own, text: `src/${own} is in no row of the layers table` }];
  const out: Violation[] = [];
  for (const m of source.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2] ?? m[3]!;
    if (!spec.startsWith(".")) continue;
    const end = m.index + m[0].length;
    const line = source.slice(0, end).split("\n").length;
    const text = source.split("\n")[line - 1]!;
    if (text.includes(MOVED_MARKER)) continue;
    const target = relative("src", join("src", dirname(file), spec));
    if (target.startsWith("..")) continue;
    const top = topLevelOf(target);
    if (top !== own && !layer.mayImport.has(top)) out.push({ file, line, imports: top, text: text.trim() });
  }
  return out;
}

/** Every production file of src/ (tests may reach across layers to set things up). */
export async function productionFiles(srcDir: string): Promise<string[]> {
  const files: string[] = [];
  for await (const f of new Glob("**/*.ts").scan(srcDir)) if (!f.endsWith(".test.ts") && !f.endsWith(".d.ts")) files.push(f);
  return files.sort();
}
