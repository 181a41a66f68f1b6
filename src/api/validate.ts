// Runtime validation of our kinds against the schemas in types.ts, with errors that name the offending field.
import { Value } from "@sinclair/typebox/value";
import { FormatRegistry, type TSchema } from "@sinclair/typebox";
import { kindFor, type KindDescriptor } from "./kinds.ts";
import type { KubeObject } from "./meta.ts";
import { isNamespaceName, isObjectName } from "./naming.ts";
import { aliasConflicts, storageConfigsOf } from "./storage-aliases.ts";
import { VERSION_PATTERN } from "./types.ts";

// TypeBox knows no string formats by itself and fails "Unknown format" on any it meets. Elysia registers its own
// when the server is imported, so without this, writing a condition (lastTransitionTime: date-time) failed in
// processes that never loaded the server (controllers alone, unit tests).
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
if (!FormatRegistry.Has("date-time")) FormatRegistry.Set("date-time", (v) => RFC3339.test(v) && !Number.isNaN(Date.parse(v)));

export interface FieldError {
  /** JSON path of the field, e.g. `spec.versions[0].version`. */
  field: string;
  message: string;
}

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

/** Validate the metadata every object needs: a valid name and, for namespaced kinds, a valid namespace. */
export function validateMetadata(obj: KubeObject, d: KindDescriptor): FieldError[] {
  const errors: FieldError[] = [];
  const meta = obj.metadata as unknown;
  if (!meta || typeof meta !== "object") return [{ field: "metadata", message: "is required" }];
  const { name, namespace } = obj.metadata;
  if (typeof name !== "string" || !name) errors.push({ field: "metadata.name", message: "is required" });
  else if (!isObjectName(name)) errors.push({ field: "metadata.name", message: `"${name.slice(0, 64)}" is not a valid name: lowercase letters, digits, '-' and '.', at most 253 characters` });
  if (d.namespaced && namespace !== undefined && (typeof namespace !== "string" || !isNamespaceName(namespace))) {
    errors.push({ field: "metadata.namespace", message: `"${String(namespace).slice(0, 64)}" is not a valid namespace name` });
  }
  for (const key of ["labels", "annotations"] as const) {
    const map = obj.metadata[key];
    if (map === undefined) continue;
    if (typeof map !== "object" || map === null || Array.isArray(map)) {
      errors.push({ field: `metadata.${key}`, message: "must be a map of strings" });
      continue;
    }
    let bytes = 0;
    for (const [k, v] of Object.entries(map)) {
      if (typeof v !== "string") {
        errors.push({ field: `metadata.${key}.${k}`, message: "must be a string" });
        continue;
      }
      errors.push(...qualifiedNameErrors(`metadata.${key}`, k));
      if (key === "labels") errors.push(...labelValueErrors(`metadata.labels`, v));
      bytes += Buffer.byteLength(k) + Buffer.byteLength(v);
    }
    if (key === "annotations" && bytes > MAX_ANNOTATIONS_BYTES) errors.push({ field: "metadata.annotations", message: `Too long: must have at most ${MAX_ANNOTATIONS_BYTES} bytes` });
    if (errors.length > 20) break;
  }
  errors.push(...dataSizeErrors(obj));
  return errors;
}

// The API server's limits (apimachinery validation): label and annotation keys are qualified names, label
// values at most 63 characters, all annotations together at most 256 KiB, ConfigMap and Secret data 1 MiB.
const MAX_ANNOTATIONS_BYTES = 256 * 1024;
export const MAX_DATA_BYTES = 1024 * 1024;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const clip = (s: string) => JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}…` : s);

function qualifiedNameErrors(field: string, key: string): FieldError[] {
  const slash = key.indexOf("/");
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  const errors: FieldError[] = [];
  if (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) {
    errors.push({ field, message: `Invalid value: ${clip(key)}: prefix part must be a lowercase RFC 1123 subdomain of at most 253 characters` });
  }
  if (!name) errors.push({ field, message: `Invalid value: ${clip(key)}: name part must be non-empty` });
  else if (name.length > 63) errors.push({ field, message: `Invalid value: ${clip(key)}: name part must be no more than 63 characters` });
  else if (!QUALIFIED_NAME.test(name)) {
    errors.push({ field, message: `Invalid value: ${clip(key)}: name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character` });
  }
  return errors;
}

function labelValueErrors(field: string, value: string): FieldError[] {
  if (value === "") return [];
  if (value.length > 63) return [{ field, message: `Invalid value: ${clip(value)}: must be no more than 63 characters` }];
  if (!QUALIFIED_NAME.test(value)) {
    return [{ field, message: `Invalid value: ${clip(value)}: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character` }];
  }
  return [];
}

/** ConfigMaps and Secrets hold at most 1 MiB of data (values' bytes; binaryData and Secret data decoded). */
function dataSizeErrors(obj: KubeObject): FieldError[] {
  if (obj.apiVersion !== "v1" || (obj.kind !== "ConfigMap" && obj.kind !== "Secret")) return [];
  let total = 0;
  const add = (map: unknown, encoded: boolean) => {
    if (!map || typeof map !== "object") return;
    for (const v of Object.values(map as Record<string, unknown>)) {
      if (typeof v !== "string") continue;
      total += encoded ? Buffer.from(v, "base64").length : Buffer.byteLength(v);
    }
  };
  add(obj.data, obj.kind === "Secret");
  add(obj.binaryData, true);
  add(obj.stringData, false);
  return total > MAX_DATA_BYTES ? [{ field: "[]", message: `Too long: must have at most ${MAX_DATA_BYTES} bytes` }] : [];
}

/** Validate the spec of an object of one of our kinds. Core kinds are not schema-checked. */
export function validateSpec(obj: KubeObject, d: KindDescriptor): FieldError[] {
  if (!d.spec) return [];
  if (obj.spec === undefined) return d.specRequired ? [{ field: "spec", message: "is required" }] : [];
  const errors = schemaErrors(d.spec, obj.spec, "spec");
  for (const { path, config } of storageConfigsOf(d.kind, obj.spec as Record<string, unknown>)) errors.push(...aliasConflicts(config, path));
  return errors;
}

export function validateStatus(obj: KubeObject, d: KindDescriptor): FieldError[] {
  if (!d.status || obj.status === undefined) return [];
  return schemaErrors(d.status, obj.status, "status");
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
  if (d.spec && obj.spec !== undefined) obj.spec = Value.Default(d.spec, obj.spec);
}

export function formatErrors(errors: FieldError[]): string {
  return errors.map((e) => (e.field ? `${e.field}: ${e.message}` : e.message)).join("; ");
}
