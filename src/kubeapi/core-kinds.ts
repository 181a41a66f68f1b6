// What the API server does to the core kinds on write, beyond the schema: Secret `stringData` folded into
// base64 `data`, `immutable` Secrets and ConfigMaps, Namespaces that are Active and carry their name label, and
// the legacy service-account token controller filling `data.token` of a new token Secret.
import { randomBytes } from "node:crypto";
import type { KubeObject } from "../api/meta.ts";
import type { FieldError } from "../api/validate.ts";
import { deepEqual, isPlainObject } from "../kits/json.ts";
import type { ResourceInfo } from "./resources.ts";

export const SERVICE_ACCOUNT_TOKEN_TYPE = "kubernetes.io/service-account-token";
export const SERVICE_ACCOUNT_NAME_ANNOTATION = "kubernetes.io/service-account.name";
const NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export const toBase64 = (text: string) => Buffer.from(text, "utf8").toString("base64");
export const fromBase64 = (b64: string) => Buffer.from(b64, "base64").toString("utf8");

function checkKeys(map: unknown, field: string, base64: boolean, errors: FieldError[]): void {
  if (!isPlainObject(map)) return;
  for (const [k, v] of Object.entries(map)) {
    if (k.length > 253 || !CONFIG_KEY.test(k)) errors.push({ field: `${field}[${k.slice(0, 64)}]`, message: "a valid config key must consist of alphanumeric characters, '-', '_' or '.'" });
    if (base64 && typeof v === "string" && !BASE64.test(v)) errors.push({ field: `${field}[${k.slice(0, 64)}]`, message: "illegal base64 data" });
  }
}

/** Fold `stringData` into `data` (the API server never stores stringData). */
function foldStringData(obj: KubeObject): void {
  const stringData = obj.stringData;
  delete obj.stringData;
  if (!isPlainObject(stringData)) return;
  const data = isPlainObject(obj.data) ? obj.data : {};
  for (const [k, v] of Object.entries(stringData)) if (typeof v === "string") Object.defineProperty(data, k, { value: toBase64(v), enumerable: true, writable: true, configurable: true });
  obj.data = data;
}

/** Defaults and server-filled fields of a new object. */
export function prepareCreate(r: ResourceInfo, obj: KubeObject): void {
  if (r.group !== "") return;
  if (r.resource === "namespaces") obj.status = { phase: "Active" };
  if (r.resource === "secrets") {
    if (!obj.type) obj.type = "Opaque";
    foldStringData(obj);
    const data = (obj.data ?? {}) as Record<string, string>;
    if (obj.type === SERVICE_ACCOUNT_TOKEN_TYPE && !data.token) {
      // What the token controller does for a manually created token Secret: fill in an opaque token.
      data.token = toBase64(randomBytes(32).toString("base64url"));
      data.namespace = toBase64(obj.metadata.namespace ?? "default");
      obj.data = data;
    }
  }
}

/** Normalise and check an object about to be written (create, update or patch result). */
export function checkWrite(r: ResourceInfo, obj: KubeObject, stored: KubeObject | undefined): FieldError[] {
  if (r.group !== "") return [];
  const errors: FieldError[] = [];
  switch (r.resource) {
    case "namespaces":
      obj.metadata.labels = { ...(obj.metadata.labels ?? {}), [NAMESPACE_NAME_LABEL]: obj.metadata.name };
      if (stored && obj.status === undefined) obj.status = stored.status;
      break;
    case "secrets": {
      foldStringData(obj);
      if (!obj.type) obj.type = stored?.type ?? "Opaque";
      checkKeys(obj.data, "data", true, errors);
      if (stored && stored.type !== obj.type) errors.push({ field: "type", message: `${JSON.stringify(obj.type)}: field is immutable` });
      if (obj.type === SERVICE_ACCOUNT_TOKEN_TYPE && !obj.metadata.annotations?.[SERVICE_ACCOUNT_NAME_ANNOTATION]) {
        errors.push({ field: `metadata.annotations[${SERVICE_ACCOUNT_NAME_ANNOTATION}]`, message: "is required" });
      }
      checkImmutable(obj, stored, ["data", "immutable"], errors);
      break;
    }
    case "configmaps":
      checkKeys(obj.data, "data", false, errors);
      checkKeys(obj.binaryData, "binaryData", true, errors);
      checkImmutable(obj, stored, ["data", "binaryData", "immutable"], errors);
      break;
  }
  return errors;
}

function checkImmutable(obj: KubeObject, stored: KubeObject | undefined, fields: string[], errors: FieldError[]): void {
  if (stored?.immutable !== true) return;
  for (const f of fields) {
    if (!deepEqual(obj[f], stored[f])) errors.push({ field: f, message: "field is immutable when `immutable` is set" });
  }
}
