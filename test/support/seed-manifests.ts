// Extracts the YAML manifests from the seeds (/work/shared/seeds; ../shared/seeds from the repository root in CI).
// The seeds are text dumps of web pages: some blocks kept their indentation, most lost it (`spec:` and `versions:`
// at column 0). A block starts at an `apiVersion:` line (or a `storageConfig:` snippet) and ends at the first line
// that is not YAML; a block without indentation is re-indented by walking our CRD schemas (src/api/types.ts),
// which say for every key which object it belongs to. Nothing is hand-copied: what the seeds say is what is applied.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { TSchema } from "@sinclair/typebox";
import { specSchemaOf } from "../../src/api/kind-schemas.ts";
import { kindFor } from "../../src/api/kinds.ts";
import { StorageConfig } from "../../src/api/types.ts";

export interface SeedBlock {
  file: string;
  /** 1-based line of the block's first line in the seed. */
  line: number;
  /** "manifest" (apiVersion …) or "storageConfig" (a storage snippet). */
  type: "manifest" | "storageConfig";
  yaml: string;
  /** Whether the block had to be re-indented. */
  reindented: boolean;
}

const KEY_LINE = /^(- )?([A-Za-z][A-Za-z0-9_.-]*):(?:\s+(.*))?$/;
const ITEM_LINE = /^- (.+)$/;

type Schema = TSchema & { type?: string; required?: string[]; properties?: Record<string, Schema>; items?: Schema; patternProperties?: Record<string, Schema>; additionalProperties?: boolean | Schema };

const STRING_MAP: Schema = { type: "object", patternProperties: { "^.*$": { type: "string" } } } as unknown as Schema;
const METADATA: Schema = { type: "object", properties: { name: { type: "string" }, namespace: { type: "string" }, labels: STRING_MAP, annotations: STRING_MAP } } as unknown as Schema;

function rootSchema(apiVersion: string, kind: string): Schema | undefined {
  const d = kindFor(apiVersion, kind);
  const spec = d && specSchemaOf(d);
  if (!spec) return undefined;
  return { type: "object", properties: { apiVersion: { type: "string" }, kind: { type: "string" }, metadata: METADATA, spec: spec as Schema } } as unknown as Schema;
}

/** The schema of property `key` of an object schema (maps accept any key). */
function propertyOf(schema: Schema, key: string): Schema | undefined {
  if (schema.type !== "object") return undefined;
  if (schema.properties?.[key]) return schema.properties[key];
  const pattern = schema.patternProperties && Object.values(schema.patternProperties)[0];
  if (pattern) return pattern;
  return typeof schema.additionalProperties === "object" ? schema.additionalProperties : undefined;
}

interface Frame {
  schema: Schema;
  indent: number;
  /** Keys already given in this object. */
  seen: Set<string>;
}

/**
 * Re-indents flat lines against a schema. Returns the YAML and how many lines it consumed; stops at the first line
 * that is not a key or list item the schema can place (the prose after the block).
 */
function reindent(lines: string[], root: Schema): { yaml: string; used: number } {
  const frames: Frame[] = [{ schema: root, indent: 0, seen: new Set() }];
  const out: string[] = [];
  let used = 0;
  for (const raw of lines) {
    const line = raw.trim();
    if (!line) break;
    const key = KEY_LINE.exec(line);
    const item = key?.[1] ? key : key ? undefined : ITEM_LINE.exec(line);
    if (key && !key[1]) {
      // A key: belongs to the innermost open object that has it — unless an outer open object requires it and has
      // not had it yet (Depot `global.storageConfig` after `global.moduleConfig: {…}`, which also has one).
      const name = key[2]!;
      let i = frames.length - 1;
      while (i >= 0 && !propertyOf(frames[i]!.schema, name)) i--;
      if (i < 0) break;
      const outer = frames.findIndex((f, j) => j < i && f.schema.required?.includes(name) && !f.seen.has(name) && !!f.schema.properties?.[name]);
      if (outer >= 0) i = outer;
      frames[i]!.seen.add(name);
      frames.length = i + 1;
      const frame = frames[i]!;
      const child = propertyOf(frame.schema, key[2]!)!;
      out.push(`${" ".repeat(frame.indent)}${line}`);
      if (!key[3] && (child.type === "object" || child.type === "array")) frames.push({ schema: child, indent: frame.indent + 2, seen: new Set() });
    } else if (item) {
      // A list item: belongs to the innermost open array.
      let i = frames.length - 1;
      while (i >= 0 && frames[i]!.schema.type !== "array") i--;
      if (i < 0) break;
      frames.length = i + 1;
      const list = frames[i]!;
      out.push(`${" ".repeat(list.indent)}${line}`);
      const itemSchema = list.schema.items!;
      if (key && itemSchema.type === "object") {
        frames.push({ schema: itemSchema, indent: list.indent + 2, seen: new Set([key[2]!]) });
        const child = propertyOf(itemSchema, key[2]!);
        if (!child) break;
        if (!key[3] && (child.type === "object" || child.type === "array")) frames.push({ schema: child, indent: list.indent + 4, seen: new Set() });
      }
    } else break;
    used++;
  }
  return { yaml: `${out.join("\n")}\n`, used };
}

/** An indented block: lines up to the first blank line or unindented line that is not a top-level key. */
function takeIndented(lines: string[]): { yaml: string; used: number } {
  let used = 0;
  for (const line of lines) {
    if (!line.trim()) break;
    if (!/^\s/.test(line) && !KEY_LINE.test(line)) break;
    used++;
  }
  return { yaml: `${lines.slice(0, used).join("\n")}\n`, used };
}

export function extractSeedBlocks(seedsDir: string): SeedBlock[] {
  const blocks: SeedBlock[] = [];
  for (const file of readdirSync(seedsDir).filter((f) => f.endsWith(".txt")).sort()) {
    const lines = readFileSync(join(seedsDir, file), "utf8").split(/\r?\n/);
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      const api = /^apiVersion:\s*(\S+)\s*$/.exec(line);
      if (api) {
        const rest = lines.slice(i);
        const kind = /^kind:\s*(\S+)\s*$/.exec(rest[1] ?? "")?.[1] ?? "";
        const indented = rest.slice(1, 6).some((l) => /^\s+\S/.test(l));
        const schema = rootSchema(api[1]!, kind);
        // Foreign kinds (Argo CD's Application, …) are not ours to apply; take them as they stand.
        const taken = indented || !schema ? takeIndented(rest) : reindent(rest, schema);
        blocks.push({ file, line: i + 1, type: "manifest", yaml: taken.yaml, reindented: !indented && !!schema });
        i += Math.max(0, taken.used - 1);
      } else if (/^storageConfig:\s*$/.test(line)) {
        const taken = reindent(lines.slice(i), { type: "object", properties: { storageConfig: StorageConfig as Schema } } as unknown as Schema);
        blocks.push({ file, line: i + 1, type: "storageConfig", yaml: taken.yaml, reindented: true });
        i += Math.max(0, taken.used - 1);
      }
    }
  }
  return blocks;
}
