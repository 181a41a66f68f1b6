// Module documentation from a module's configuration files: inputs, outputs, required providers and Terraform
// version, resources and data sources by type, nested module calls; for the root module, every `modules/<name>/`
// and every `examples/<name>/`. `.tf` files go through HashiCorp's HCL parser (hcl-parser.ts), `.tf.json` through
// JSON.parse: both give the same JSON shape. A file that does not parse is listed in `errors` and the rest of the
// module is still documented; nothing here throws for bad input.
import {
  MODULE_DOCS_SCHEMA_VERSION,
  type ModuleDocs,
  type ModuleDocsModule,
  type ModuleDocsProblem,
  type RequiredProvider,
  type TypeCount,
} from "../api/module-docs.ts";
import { sharedHclParser, HclSyntaxError, type HclParser } from "./hcl-parser.ts";
import { trimToSize } from "./module-docs-bound.ts";
import { configDirectory, DEFAULT_MODULE_DOCS_LIMITS, readModuleSources, type ArchiveFileEntry, type ModuleDocsLimits, type ModuleSourceFile } from "./module-docs-files.ts";
import { readDeclarations, type FileDeclarations } from "./module-docs-read.ts";

export type { ArchiveFileEntry, ModuleDocsLimits, ModuleSourceFile } from "./module-docs-files.ts";

export interface ExtractOptions {
  parser?: HclParser;
  limits?: Partial<ModuleDocsLimits>;
}

const READ_LIMITS = { maxDescriptionChars: 8_192, maxTypeChars: 4_096, maxDefaultBytes: 8_192 };
const MAX_PROBLEMS = 100;
const MAX_MESSAGE_CHARS = 1_000;

/** Documentation of the module whose repackaged archive holds `entries` (paths relative to the module root). */
export async function extractModuleDocsFromEntries(entries: Iterable<ArchiveFileEntry>, options: ExtractOptions = {}): Promise<ModuleDocs> {
  const { files, skipped } = await readModuleSources(entries, options.limits);
  return extractModuleDocs(files, options, skipped);
}

/** Documentation from configuration files already read (paths relative to the module root). */
export async function extractModuleDocs(files: ModuleSourceFile[], options: ExtractOptions = {}, skipped: ModuleDocsProblem[] = []): Promise<ModuleDocs> {
  const limits = { ...DEFAULT_MODULE_DOCS_LIMITS, ...options.limits };
  const parser = options.parser ?? sharedHclParser();
  let truncated = skipped.length > 0;
  const onTruncate = () => {
    truncated = true;
  };
  const errors: ModuleDocsProblem[] = [];
  const byDir = new Map<string, { kind: string; decls: FileDeclarations[] }>();
  let parsed = 0;
  for (const file of [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    const where = configDirectory(file.path);
    if (!where) continue;
    let doc: unknown;
    try {
      doc = await parseFile(parser, file);
    } catch (e) {
      // A syntax error is the file's; a parser failure (crash, timeout) is reported on the file too, and the
      // next file gets a fresh parser.
      const message = e instanceof HclSyntaxError || e instanceof SyntaxError ? e.message : `not parsed: ${(e as Error).message}`;
      errors.push({ file: file.path, message: clip(message) });
      continue;
    }
    let decls: FileDeclarations;
    try {
      decls = readDeclarations(doc, file.path, READ_LIMITS, onTruncate);
    } catch (e) {
      // Parsed but unreadable as configuration (e.g. nested too deep to walk): reported like a syntax error.
      errors.push({ file: file.path, message: clip(`not read: ${(e as Error).message}`) });
      continue;
    }
    parsed++;
    const entry = byDir.get(where.dir) ?? { kind: where.kind, decls: [] };
    entry.decls.push(decls);
    byDir.set(where.dir, entry);
  }

  const modules = [...byDir.entries()].map(([dir, { kind, decls }]) => ({ kind, module: combine(dir, decls, errors) }));
  const docs: ModuleDocs = {
    schemaVersion: MODULE_DOCS_SCHEMA_VERSION,
    root: modules.find((m) => m.kind === "root")?.module ?? combine("", [], errors),
    submodules: modules.filter((m) => m.kind === "submodule").map((m) => m.module),
    examples: modules.filter((m) => m.kind === "example").map((m) => m.module),
    errors: errors.slice(0, MAX_PROBLEMS),
    skipped: skipped.slice(0, MAX_PROBLEMS).map((p) => ({ file: p.file, message: clip(p.message) })),
    truncated: truncated || errors.length > MAX_PROBLEMS || skipped.length > MAX_PROBLEMS,
    filesParsed: parsed,
  };
  return trimToSize(docs, limits.maxOutputBytes);
}

async function parseFile(parser: HclParser, file: ModuleSourceFile): Promise<unknown> {
  let text = new TextDecoder("utf-8", { fatal: false }).decode(file.content);
  if (text.startsWith("\uFEFF")) text = text.slice(1);
  if (file.path.endsWith(".tf.json")) {
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new SyntaxError(`${file.path}: invalid JSON: ${(e as Error).message.replace(/^JSON Parse error: /, "")}`);
    }
  }
  return parser.parse(file.path, text);
}

/** One directory's declarations across its files; a name declared twice is reported, the first one kept. */
function combine(path: string, decls: FileDeclarations[], errors: ModuleDocsProblem[]): ModuleDocsModule {
  const firstByName = <T extends { name: string; file: string }>(what: string, items: T[]): T[] => {
    const seen = new Map<string, T>();
    for (const item of items) {
      const first = seen.get(item.name);
      if (first) errors.push({ file: item.file, message: clip(`duplicate ${what} "${item.name}" (first declared in ${first.file}); this one is ignored`) });
      else seen.set(item.name, item);
    }
    return [...seen.values()].sort(byName);
  };
  const requiredVersions = unique(decls.flatMap((d) => d.requiredVersions));
  const module: ModuleDocsModule = {
    path,
    inputs: firstByName("variable", decls.flatMap((d) => d.inputs)),
    outputs: firstByName("output", decls.flatMap((d) => d.outputs)),
    ...(requiredVersions.length ? { requiredVersion: requiredVersions.join(", ") } : {}),
    requiredProviders: providers(decls.flatMap((d) => d.providers)),
    resources: countByType(decls.flatMap((d) => d.resources)),
    dataSources: countByType(decls.flatMap((d) => d.dataSources)),
    moduleCalls: decls.flatMap((d) => d.moduleCalls).sort(byName),
  };
  return module;
}

function providers(entries: FileDeclarations["providers"]): RequiredProvider[] {
  const merged = new Map<string, RequiredProvider>();
  for (const e of entries) {
    const p = merged.get(e.name) ?? { name: e.name, versionConstraints: [] };
    if (e.source !== undefined && p.source === undefined) p.source = e.source;
    if (e.version !== undefined && !p.versionConstraints.includes(e.version)) p.versionConstraints.push(e.version);
    merged.set(e.name, p);
  }
  return [...merged.values()].sort(byName).map((p) => ({ name: p.name, ...(p.source !== undefined ? { source: p.source } : {}), versionConstraints: p.versionConstraints }));
}

function countByType(types: string[]): TypeCount[] {
  const counts = new Map<string, number>();
  for (const t of types) counts.set(t, (counts.get(t) ?? 0) + 1);
  return [...counts.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([type, count]) => ({ type, count }));
}

const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
const unique = (xs: string[]) => [...new Set(xs)];
const clip = (s: string) => (s.length > MAX_MESSAGE_CHARS ? `${s.slice(0, MAX_MESSAGE_CHARS)}…` : s);
