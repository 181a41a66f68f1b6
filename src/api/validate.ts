// Runtime validation of our kinds against the schemas in types.ts, with errors that name the offending field.
import { Value } from "@sinclair/typebox/value";
import { FormatRegistry, type TSchema } from "@sinclair/typebox";
import { specSchemaOf, statusSchemaOf } from "./kind-schemas.ts";
import { kindFor, type KindDescriptor } from "./kinds.ts";
import type { KubeObject } from "./meta.ts";
import { aliasConflicts, storageConfigsOf } from "./storage-aliases.ts";
import { VERSION_PATTERN } from "./types.ts";
import { validateMetadata, type FieldError } from "./validate-metadata.ts";

// The checks every object gets, re-exported: callers that validate whole objects import this file alone.
export { formatErrors, MAX_DATA_BYTES, validateMetadata, type FieldError } from "./validate-metadata.ts";

// TypeBox knows no string formats by itself and fails "Unknown format" on any it meets. Elysia registers its own
// when the server is imported, so without this, writing a condition (lastTransitionTime: date-time) failed in
// processes that never loaded the server (controllers alone, unit tests).
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
if (!FormatRegistry.Has("date-time")) FormatRegistry.Set("date-time", (v) => RFC3339.test(v) && !Number.isNaN(Date.parse(v)));

/** `/spec/versions/0/version` → `spec.versions[0].version` (the form kubectl prints). */
function toFieldPath(pointer: string): string {
  let out = "";
  for (const raw of pointer.split("/").slice(1)) {
    const seg = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    out += /^\d+$/.test(seg) ? `[${seg}]` : out ? `.${seg}` : seg;
  }
  return out;
}

function schemaErrors(schema: TSchema, value: unknown, prefix: string): FieldError[] {
  // One mistake, one line: TypeBox reports a missing property twice ("Expected required property" and "Expected
  // string") and a union once per branch, so each field keeps one message, "is required" first.
  const byField = new Map<string, string>();
  for (const e of Value.Errors(schema, value)) {
    const field = toFieldPath(`/${prefix}${e.path}`);
    const message = /Expected required property/i.test(e.message) ? "is required" : describe(e.schema, e.message, e.value);
    if (!byField.has(field) || message === "is required") byField.set(field, message);
    if (byField.size >= 20) break;
  }
  return [...byField].map(([field, message]) => ({ field, message }));
}

/** Turn TypeBox's messages into the ones a manifest author needs. */
function describe(schema: TSchema, message: string, value: unknown): string {
  if (/Unexpected property/i.test(message)) return "unknown field";
  const pattern = (schema as { pattern?: string }).pattern;
  if (pattern === VERSION_PATTERN && typeof value === "string") return `${JSON.stringify(value.slice(0, 64))} is not a semantic version (1.2.3, v1.2 or 2.0.0-rc.1)`;
  const literals = (schema as { anyOf?: { const?: unknown }[] }).anyOf?.map((s) => s.const);
  if (literals?.length && literals.every((v) => v !== undefined)) return `must be one of ${literals.map((v) => JSON.stringify(v)).join(", ")}`;
  return message;
}

/** Validate the spec of an object of one of our kinds. Core kinds are not schema-checked. */
export function validateSpec(obj: KubeObject, d: KindDescriptor): FieldError[] {
  const schema = specSchemaOf(d);
  if (!schema) return [];
  if (obj.spec === undefined) return d.specRequired ? [{ field: "spec", message: "is required" }] : [];
  const errors = schemaErrors(schema, obj.spec, "spec");
  for (const { path, config } of storageConfigsOf(d.kind, obj.spec as Record<string, unknown>)) errors.push(...aliasConflicts(config, path));
  return errors;
}

export function validateStatus(obj: KubeObject, d: KindDescriptor): FieldError[] {
  const schema = statusSchemaOf(d);
  if (!schema || obj.status === undefined) return [];
  return schemaErrors(schema, obj.status, "status");
}

/** Validate a whole object (metadata, spec, status); unknown top-level fields are reported too. */
export function validateObject(obj: KubeObject): FieldError[] {
  if (!obj || typeof obj !== "object") return [{ field: "", message: "is not an object" }];
  if (typeof obj.apiVersion !== "string") return [{ field: "apiVersion", message: "is required" }];
  if (typeof obj.kind !== "string") return [{ field: "kind", message: "is required" }];
  const d = kindFor(obj.apiVersion, obj.kind);
  if (!d) return [{ field: "kind", message: `unknown kind ${obj.kind} in ${obj.apiVersion}` }];
  const errors = [...validateMetadata(obj, d)];
  if (d.spec) {
    for (const key of Object.keys(obj)) {
      if (!["apiVersion", "kind", "metadata", "spec", "status"].includes(key)) errors.push({ field: key, message: "unknown field" });
    }
  }
  errors.push(...validateSpec(obj, d), ...validateStatus(obj, d));
  return errors;
}

/** Fill the schema defaults of one of our kinds into spec, as the API server does on write. */
export function applyDefaults(obj: KubeObject, d: KindDescriptor): void {
  const schema = specSchemaOf(d);
  if (schema && obj.spec !== undefined) obj.spec = Value.Default(schema, obj.spec);
}
