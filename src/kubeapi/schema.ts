// Structural schemas of everything the API stores, used the way the API server uses them on decode: unknown
// fields are found (fieldValidation=Strict rejects them, Warn/Ignore prune them) and `null` means "not set".
// For our kinds the schema is the CRD's; type checks stay with the store (validate.ts) which words them better.
// The core kinds get small hand-written schemas with type checks, since nothing else validates them.
import { crdFor } from "../api/crd.ts";
import type { FieldError } from "../api/validate.ts";
import type { ResourceInfo } from "./resources.ts";

export interface Structural {
  type?: string;
  properties?: Record<string, Structural>;
  additionalProperties?: Structural | boolean;
  items?: Structural;
  required?: string[];
  "x-kubernetes-preserve-unknown-fields"?: boolean;
  [other: string]: unknown;
}

const str: Structural = { type: "string" };
const int: Structural = { type: "integer" };
const bool: Structural = { type: "boolean" };
const strMap: Structural = { type: "object", additionalProperties: str };
const strList: Structural = { type: "array", items: str };
const anything: Structural = { "x-kubernetes-preserve-unknown-fields": true };

export const OBJECT_META: Structural = {
  type: "object",
  properties: {
    name: str,
    generateName: str,
    namespace: str,
    selfLink: str,
    uid: str,
    resourceVersion: str,
    generation: int,
    creationTimestamp: str,
    deletionTimestamp: str,
    deletionGracePeriodSeconds: int,
    labels: strMap,
    annotations: strMap,
    ownerReferences: {
      type: "array",
      items: { type: "object", properties: { apiVersion: str, kind: str, name: str, uid: str, controller: bool, blockOwnerDeletion: bool } },
    },
    finalizers: strList,
    managedFields: { type: "array", items: { type: "object", ...anything } },
  },
};

const object = (properties: Record<string, Structural>): Structural => ({
  type: "object",
  properties: { apiVersion: str, kind: str, metadata: OBJECT_META, ...properties },
});

const CORE: Record<string, Structural> = {
  namespaces: object({
    spec: { type: "object", properties: { finalizers: strList } },
    status: { type: "object", properties: { phase: str, conditions: { type: "array", items: { type: "object", ...anything } } } },
  }),
  secrets: object({ data: strMap, stringData: strMap, type: str, immutable: bool }),
  configmaps: object({ data: strMap, binaryData: strMap, immutable: bool }),
  leases: object({
    spec: {
      type: "object",
      properties: { holderIdentity: str, leaseDurationSeconds: int, acquireTime: str, renewTime: str, leaseTransitions: int, strategy: str, preferredHolder: str },
    },
  }),
};

const cache = new Map<string, Structural>();

export function schemaOf(r: ResourceInfo): Structural | undefined {
  const d = r.descriptor;
  if (!d) return undefined;
  let s = cache.get(r.resource);
  if (!s) {
    if (d.spec) {
      const crd = crdFor(d) as { spec: { versions: { schema: { openAPIV3Schema: Structural } }[] } };
      const root = structuredClone(crd.spec.versions[0]!.schema.openAPIV3Schema);
      root.properties = { ...root.properties, metadata: OBJECT_META };
      s = root;
    } else s = CORE[r.resource] ?? object({});
    cache.set(r.resource, s);
  }
  return s;
}

export interface DecodeReport {
  /** Paths of fields the schema does not know, e.g. `spec.moduleConfig.repoOwnr`. */
  unknown: string[];
  typeErrors: FieldError[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const join = (path: string, key: string) => (path ? `${path}.${key}` : key);

function typeOk(type: string | undefined, v: unknown): boolean {
  switch (type) {
    case "string":
      return typeof v === "string";
    case "integer":
      return typeof v === "number" && Number.isInteger(v);
    case "number":
      return typeof v === "number";
    case "boolean":
      return typeof v === "boolean";
    case "object":
      return isObject(v);
    case "array":
      return Array.isArray(v);
    default:
      return true;
  }
}

/**
 * Walk `value` against `schema` in place: drop `null` members and unknown fields (recording their paths), and
 * with `checkTypes` record type mismatches. Returns the report; the value is modified.
 */
export function pruneUnknown(schema: Structural, value: unknown, checkTypes: boolean): DecodeReport {
  const report: DecodeReport = { unknown: [], typeErrors: [] };
  walk(schema, value, "", checkTypes, report);
  return report;
}

function walk(schema: Structural, value: unknown, path: string, checkTypes: boolean, report: DecodeReport): void {
  if (checkTypes && schema.type && !typeOk(schema.type, value)) {
    report.typeErrors.push({ field: path, message: `${JSON.stringify(value)?.slice(0, 64)}: ${path} in body must be of type ${schema.type}` });
    return;
  }
  if (Array.isArray(value)) {
    if (schema.items) value.forEach((item, i) => walk(schema.items!, item, `${path}[${i}]`, checkTypes, report));
    return;
  }
  if (!isObject(value)) return;
  const preserve = schema["x-kubernetes-preserve-unknown-fields"] === true;
  for (const key of Object.keys(value)) {
    const child = value[key];
    if (child === null) {
      delete value[key];
      continue;
    }
    const sub = schema.properties?.[key] ?? (isObject(schema.additionalProperties) ? schema.additionalProperties : undefined);
    if (sub) walk(sub, child, join(path, key), checkTypes, report);
    else if (!preserve && schema.additionalProperties !== true && (schema.properties || schema.type === "object")) {
      report.unknown.push(join(path, key));
      delete value[key];
    }
  }
}
