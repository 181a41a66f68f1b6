// What the embedded store checks of every object it is asked to write, as the API server would: the kind is one
// it knows, metadata and ownership shapes, our kinds' spec and status against their schemas (with defaults applied),
// and the size limit.
import { kindFor, type KindDescriptor } from "../api/kinds.ts";
import type { KubeObject } from "../api/meta.ts";
import { validateMetadata, type FieldError } from "../api/validate-metadata.ts";
import { isPlainObject } from "../kits/json.ts";
import { StoreError, invalid } from "./errors.ts";

/** etcd's default request limit (--max-request-bytes 1.5 MiB): no object can be larger. */
export const MAX_OBJECT_BYTES = 1.5 * 1024 * 1024;

// The schema checks of our kinds (TypeBox and every schema of types.ts) are loaded by the first write of one of
// them, not with the store: a process that only reads (a registry serving what the store holds) never needs them.
type SchemaChecks = typeof import("../api/validate.ts");
let schemaChecks: SchemaChecks | undefined;
let loadingSchemaChecks: Promise<SchemaChecks> | undefined;
/** Resolves once the schema checks are loaded; synchronous (no await) once they are, and for core kinds. */
export function schemaChecksFor(d: KindDescriptor): Promise<SchemaChecks> | undefined {
  if (!d.spec || schemaChecks) return undefined;
  return (loadingSchemaChecks ??= import("../api/validate.ts").then((m) => (schemaChecks = m)));
}
export function loadedSchemaChecks(): SchemaChecks {
  if (!schemaChecks) throw new Error("schema checks used before they were loaded (await schemaChecksFor first)");
  return schemaChecks;
}

export function checkObject(obj: KubeObject, d: KindDescriptor): void {
  const errors: FieldError[] = [...validateMetadata(obj, d), ...validateOwnership(obj)];
  const checks = d.spec ? loadedSchemaChecks() : undefined;
  if (checks) {
    for (const key of Object.keys(obj)) {
      if (!["apiVersion", "kind", "metadata", "spec", "status"].includes(key)) errors.push({ field: key, message: "unknown field" });
    }
    errors.push(...checks.validateSpec(obj, d), ...checks.validateStatus(obj, d));
  }
  if (errors.length) throw invalid(d.kind, String(obj.metadata?.name ?? ""), errors);
  checks?.applyDefaults(obj, d);
  if (Buffer.byteLength(JSON.stringify(obj)) > MAX_OBJECT_BYTES) throw new StoreError("Invalid", `${d.kind} "${obj.metadata.name}": etcdserver: request is too large`);
}

export function descriptorOf(obj: KubeObject): KindDescriptor {
  if (!isPlainObject(obj) || !isPlainObject(obj.metadata)) throw invalid(String(obj?.kind ?? "object"), "", [{ field: "metadata", message: "is required" }]);
  const d = kindFor(String(obj.apiVersion), String(obj.kind));
  if (!d) throw invalid(String(obj.kind), String(obj.metadata.name), [{ field: "kind", message: `unknown kind ${obj.kind} in ${obj.apiVersion}` }]);
  if (typeof obj.metadata.name !== "string" || !obj.metadata.name) throw invalid(d.kind, "", [{ field: "metadata.name", message: "is required" }]);
  return d;
}

/** The store relies on these shapes (garbage collection, deletion), so they are checked for every kind. */
function validateOwnership(obj: KubeObject): FieldError[] {
  const errors: FieldError[] = [];
  const { finalizers, ownerReferences } = obj.metadata;
  if (finalizers !== undefined && (!Array.isArray(finalizers) || finalizers.some((f) => typeof f !== "string" || !f))) {
    errors.push({ field: "metadata.finalizers", message: "must be a list of non-empty strings" });
  }
  if (ownerReferences !== undefined) {
    if (!Array.isArray(ownerReferences)) errors.push({ field: "metadata.ownerReferences", message: "must be a list" });
    else
      ownerReferences.forEach((r, i) => {
        for (const f of ["apiVersion", "kind", "name", "uid"] as const) {
          if (!isPlainObject(r) || typeof r[f] !== "string" || !r[f]) errors.push({ field: `metadata.ownerReferences[${i}].${f}`, message: "is required" });
        }
      });
  }
  return errors;
}
