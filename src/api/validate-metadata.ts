// Validation of what every object carries (name, namespace, labels, annotations, data sizes), without TypeBox: the
// store checks this on every write, while the schema checks of our kinds (validate.ts) load on the first such write.
import type { KindDescriptor } from "./kinds.ts";
import type { KubeObject } from "./meta.ts";
import { isNamespaceName, isObjectName } from "./naming.ts";

export interface FieldError {
  /** JSON path of the field, e.g. `spec.versions[0].version`. */
  field: string;
  message: string;
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

export function formatErrors(errors: FieldError[]): string {
  return errors.map((e) => (e.field ? `${e.field}: ${e.message}` : e.message)).join("; ");
}
