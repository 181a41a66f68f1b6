// Field ownership of `Update` operations, as the API server records it in metadata.managedFields: the manager of
// a write owns every field it set or changed (FieldsV1: `{"f:spec":{"f:versions":{}}}`; lists are atomic, as every
// list of our kinds is), and those fields leave other managers' Update entries. Apply entries (server-side apply,
// written by the Kubernetes-compatible API) are kept as they are. This is what tells the controller, the Depot
// logic and a person's `kubectl edit` apart in `kubectl get -o yaml --show-managed-fields`.
import type { KubeObject } from "../api/meta.ts";
import { deepEqual, isPlainObject } from "./patch.ts";

type Fields = Record<string, unknown>;
export interface ManagedFieldsEntry {
  manager: string;
  operation: "Update" | "Apply";
  apiVersion: string;
  time: string;
  fieldsType: "FieldsV1";
  fieldsV1: Fields;
  subresource?: string;
}

const SERVER_META = new Set(["uid", "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "managedFields", "selfLink", "name", "namespace"]);

/** Leaf paths set or changed from `before` to `after` (objects recurse; anything else is one leaf). */
function changedLeaves(before: unknown, after: unknown, path: string[], out: string[][]): void {
  if (isPlainObject(after)) {
    const b = isPlainObject(before) ? before : {};
    for (const [k, v] of Object.entries(after)) {
      if (path.length === 1 && path[0] === "metadata" && SERVER_META.has(k)) continue;
      changedLeaves(b[k], v, [...path, k], out);
    }
    if (!isPlainObject(before) && Object.keys(after).length === 0) out.push(path);
    return;
  }
  if (!deepEqual(before, after)) out.push(path);
}

/** Leaf paths present in `before` and gone from `after`. */
function removedLeaves(before: unknown, after: unknown, path: string[], out: string[][]): void {
  if (!isPlainObject(before)) return;
  const a = isPlainObject(after) ? after : undefined;
  for (const [k, v] of Object.entries(before)) {
    if (path.length === 1 && path[0] === "metadata" && SERVER_META.has(k)) continue;
    if (!a || !(k in a)) out.push([...path, k]);
    else removedLeaves(v, a[k], [...path, k], out);
  }
}

function setOwn(obj: Fields, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
}

function addPath(fields: Fields, path: string[]): void {
  let cur = fields;
  for (const seg of path) {
    const k = `f:${seg}`;
    if (!isPlainObject(cur[k])) setOwn(cur, k, {});
    cur = cur[k] as Fields;
  }
}

/** Remove `path` (and everything under it) from a FieldsV1 set; also a leaf that is a prefix of `path`. */
function dropPath(fields: Fields, path: string[]): void {
  let cur: Fields | undefined = fields;
  const trail: [Fields, string][] = [];
  for (const seg of path) {
    const k = `f:${seg}`;
    if (!cur || !isPlainObject(cur[k])) return;
    trail.push([cur, k]);
    const next = cur[k] as Fields;
    if (Object.keys(next).length === 0) break; // an owned leaf above the changed field: ownership moves whole
    cur = next;
  }
  const last = trail.pop();
  if (!last) return;
  delete last[0][last[1]];
  // Prune emptied parents.
  for (let i = trail.length - 1; i >= 0; i--) {
    const [parent, key] = trail[i]!;
    if (Object.keys(parent[key] as Fields).length) break;
    delete parent[key];
  }
}

const scopeOf = (path: string[], statusSubresource: boolean) => (statusSubresource && path[0] === "status" ? "status" : undefined);

/**
 * managedFields for `next` written by `manager` over `stored` (undefined on create). `statusSubresource`: the kind
 * has one, so status fields are recorded under subresource "status".
 */
export function recordUpdate(stored: KubeObject | undefined, next: KubeObject, manager: string, statusSubresource: boolean, now: string): ManagedFieldsEntry[] | undefined {
  const entries = (Array.isArray(stored?.metadata.managedFields) ? structuredClone(stored!.metadata.managedFields) : []) as ManagedFieldsEntry[];
  const changed: string[][] = [];
  const removed: string[][] = [];
  const strip = (o: KubeObject | undefined) => (o ? { ...o, apiVersion: undefined, kind: undefined } : undefined);
  changedLeaves(strip(stored), strip(next), [], changed);
  removedLeaves(strip(stored), strip(next), [], removed);
  const real = changed.filter((p) => p.length > 0 && p[0] !== "apiVersion" && p[0] !== "kind");
  if (!real.length && !removed.length) return stored?.metadata.managedFields as ManagedFieldsEntry[] | undefined;
  for (const e of entries) {
    if (e.operation !== "Update" || !isPlainObject(e.fieldsV1)) continue;
    for (const p of [...real, ...removed]) dropPath(e.fieldsV1, p);
  }
  for (const sub of [undefined, "status"] as const) {
    const mine = real.filter((p) => scopeOf(p, statusSubresource) === sub);
    if (!mine.length) continue;
    let entry = entries.find((e) => e.manager === manager && e.operation === "Update" && e.subresource === sub);
    if (!entry) {
      entry = { manager, operation: "Update", apiVersion: next.apiVersion, time: now, fieldsType: "FieldsV1", fieldsV1: {}, ...(sub ? { subresource: sub } : {}) };
      entries.push(entry);
    }
    for (const p of mine) addPath(entry.fieldsV1, p);
    entry.time = now;
    entry.apiVersion = next.apiVersion;
  }
  return entries.filter((e) => e.operation !== "Update" || Object.keys(e.fieldsV1 ?? {}).length > 0);
}
