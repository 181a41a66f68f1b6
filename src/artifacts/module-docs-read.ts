// Declarations out of one parsed configuration file. Both inputs share one shape: HCL's JSON conversion of a `.tf`
// file and Terraform's JSON syntax of a `.tf.json` file map a block type to its labels to a body, where any level
// may also be an array (several blocks with the same labels), and expressions are `${...}` template strings.
import type { ModuleCall, ModuleInput, ModuleOutput } from "../api/module-docs.ts";

export interface FileDeclarations {
  inputs: ModuleInput[];
  outputs: ModuleOutput[];
  requiredVersions: string[];
  providers: { name: string; source?: string; version?: string }[];
  resources: string[];
  dataSources: string[];
  moduleCalls: ModuleCall[];
}

export interface ReadLimits {
  maxDescriptionChars: number;
  maxTypeChars: number;
  maxDefaultBytes: number;
}

type Body = Record<string, unknown>;

const isObject = (v: unknown): v is Body => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Every body under `value` with `depth` labels: [labels, body] pairs, arrays flattened at every level (a few
 * levels deep at most: hostile JSON nested thousands deep must not exhaust the stack).
 */
function blocks(value: unknown, depth: number, labels: string[] = [], arrays = 0): [string[], Body][] {
  if (Array.isArray(value)) return arrays >= 4 ? [] : value.flatMap((v) => blocks(v, depth, labels, arrays + 1));
  if (!isObject(value)) return [];
  if (depth === 0) return [[labels, value]];
  return Object.entries(value)
    .filter(([k]) => k !== "//") // JSON syntax comments
    .flatMap(([k, v]) => blocks(v, depth - 1, [...labels, k], arrays));
}

/** Whether a JSON value nests at most `max` levels (checked without recursion). */
function nestsWithin(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (typeof v !== "object" || v === null) continue;
    if (d >= max) return false;
    for (const child of Object.values(v)) stack.push([child, d + 1]);
  }
  return true;
}

/** `${expr}` → `expr` when the whole string is one interpolation (how both syntaxes carry a bare expression). */
export function unwrapExpression(s: string): string {
  if (!s.startsWith("${") || !s.endsWith("}")) return s;
  let depth = 0;
  for (let i = 1; i < s.length; i++) {
    const c = s[i];
    if (c === "{") depth++;
    else if (c === "}" && --depth === 0) return i === s.length - 1 ? s.slice(2, -1).trim() : s;
  }
  return s;
}

const literalString = (v: unknown): string | undefined => (typeof v === "string" ? v : typeof v === "number" || typeof v === "boolean" ? String(v) : undefined);
const literalBool = (v: unknown): boolean | undefined => (typeof v === "boolean" ? v : typeof v === "string" && ["true", "false"].includes(unwrapExpression(v)) ? unwrapExpression(v) === "true" : undefined);

function cut(s: string, max: number, onCut: () => void): string {
  if (s.length <= max) return s;
  onCut();
  return `${s.slice(0, max)}…`;
}

export function readDeclarations(doc: unknown, file: string, limits: ReadLimits, onTruncate: () => void): FileDeclarations {
  const out: FileDeclarations = { inputs: [], outputs: [], requiredVersions: [], providers: [], resources: [], dataSources: [], moduleCalls: [] };
  if (!isObject(doc)) return out;
  const description = (v: unknown) => {
    const s = literalString(v);
    return s === undefined ? undefined : cut(s.trimEnd(), limits.maxDescriptionChars, onTruncate);
  };

  for (const [[name], body] of blocks(doc.variable, 1)) {
    const input: ModuleInput = { name: name!, required: !("default" in body), sensitive: literalBool(body.sensitive) ?? false, hasValidation: blocks(body.validation, 0).length > 0, file };
    const type = literalString(body.type);
    if (type !== undefined) input.type = cut(unwrapExpression(type), limits.maxTypeChars, onTruncate);
    const text = description(body.description);
    if (text !== undefined) input.description = text;
    if ("default" in body) {
      if (nestsWithin(body.default, 32) && Buffer.byteLength(JSON.stringify(body.default ?? null)) <= limits.maxDefaultBytes) input.default = body.default ?? null;
      else (input.defaultTruncated = true), onTruncate();
    }
    const nullable = literalBool(body.nullable);
    if (nullable !== undefined) input.nullable = nullable;
    out.inputs.push(orderInput(input));
  }

  for (const [[name], body] of blocks(doc.output, 1)) {
    const output: ModuleOutput = { name: name!, sensitive: literalBool(body.sensitive) ?? false, file };
    const text = description(body.description);
    if (text !== undefined) output.description = text;
    out.outputs.push({ name: output.name, ...(output.description !== undefined ? { description: output.description } : {}), sensitive: output.sensitive, file });
  }

  for (const [, body] of blocks(doc.terraform, 0)) {
    const rv = literalString(body.required_version);
    if (rv !== undefined) out.requiredVersions.push(unwrapExpression(rv));
    for (const [, providers] of blocks(body.required_providers, 0)) {
      for (const [name, spec] of Object.entries(providers)) {
        if (name === "//") continue;
        if (isObject(spec)) {
          const source = literalString(spec.source);
          const version = literalString(spec.version);
          out.providers.push({ name, ...(source !== undefined ? { source } : {}), ...(version !== undefined ? { version } : {}) });
        } else {
          const version = literalString(spec); // Terraform 0.12's `aws = "~> 3.0"`
          out.providers.push({ name, ...(version !== undefined ? { version: unwrapExpression(version) } : {}) });
        }
      }
    }
  }

  for (const [[type]] of blocks(doc.resource, 2)) out.resources.push(type!);
  for (const [[type]] of blocks(doc.data, 2)) out.dataSources.push(type!);
  for (const [[name], body] of blocks(doc.module, 1)) {
    const source = literalString(body.source);
    const version = literalString(body.version);
    out.moduleCalls.push({ name: name!, ...(source !== undefined ? { source } : {}), ...(version !== undefined ? { version } : {}) });
  }
  return out;
}

/** Fixed key order, so the same module always serialises to the same JSON (the ConfigMap is rewritten only on change). */
function orderInput(i: ModuleInput): ModuleInput {
  const o: ModuleInput = { name: i.name } as ModuleInput;
  if (i.type !== undefined) o.type = i.type;
  if (i.description !== undefined) o.description = i.description;
  if ("default" in i) o.default = i.default;
  if (i.defaultTruncated) o.defaultTruncated = true;
  o.required = i.required;
  o.sensitive = i.sensitive;
  if (i.nullable !== undefined) o.nullable = i.nullable;
  o.hasValidation = i.hasValidation;
  o.file = i.file;
  return o;
}
