// An approximation of strategic merge patch, enough for what kubectl sends for the kinds we serve: a JSON merge
// patch that also understands the directives kubectl emits (`$patch: replace|delete`, `$retainKeys`,
// `$deleteFromPrimitiveList/<list>`, `$setElementOrder/<list>`) and merges the lists the Go types mark
// `patchStrategy: merge` (finalizers as a set; ownerReferences by uid; conditions by type).
import { isPlainObject } from "../kits/json.ts";
import { badRequest } from "./status.ts";

type Json = unknown;
type JsonObject = Record<string, unknown>;

const MERGE_KEYS: Record<string, string | null> = {
  finalizers: null, // a set of strings
  ownerReferences: "uid",
  conditions: "type",
};

function setOwn(obj: JsonObject, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
}

function mergeList(key: string, current: Json, patch: unknown[]): unknown[] {
  const mergeKey = MERGE_KEYS[key];
  const base = Array.isArray(current) ? [...current] : [];
  if (mergeKey === undefined) return patch.filter((p) => !(isPlainObject(p) && p.$patch === "delete"));
  if (mergeKey === null) {
    for (const v of patch) if (!base.some((b) => b === v)) base.push(v);
    return base;
  }
  for (const item of patch) {
    if (!isPlainObject(item)) continue;
    const i = base.findIndex((b) => isPlainObject(b) && b[mergeKey] === item[mergeKey]);
    if (item.$patch === "delete") {
      if (i >= 0) base.splice(i, 1);
    } else if (i >= 0) base[i] = applyStrategicMerge(base[i], item);
    else base.push(applyStrategicMerge(undefined, item));
  }
  return base;
}

/** Apply a strategic merge patch to a JSON document; never mutates its inputs. */
export function applyStrategicMerge(target: Json, patch: Json): Json {
  if (!isPlainObject(patch)) return structuredClone(patch);
  if (patch.$patch === "delete") return undefined;
  const replace = patch.$patch === "replace";
  const result: JsonObject = {};
  if (isPlainObject(target) && !replace) for (const [k, v] of Object.entries(target)) setOwn(result, k, v);
  if (Array.isArray(patch.$retainKeys)) {
    const keep = new Set([...patch.$retainKeys.map(String), ...Object.keys(patch)]);
    for (const k of Object.keys(result)) if (!keep.has(k)) delete result[k];
  }
  for (const [k, v] of Object.entries(patch)) {
    if (k === "$patch" || k === "$retainKeys" || k.startsWith("$setElementOrder/")) continue;
    if (k.startsWith("$deleteFromPrimitiveList/")) {
      const list = k.slice("$deleteFromPrimitiveList/".length);
      if (!Array.isArray(v)) throw badRequest(`${k} must be a list`);
      if (Array.isArray(result[list])) setOwn(result, list, (result[list] as unknown[]).filter((x) => !v.includes(x)));
      continue;
    }
    if (k.startsWith("$")) throw badRequest(`unknown strategic merge patch directive ${JSON.stringify(k.slice(0, 64))}`);
    if (v === null) delete result[k];
    else if (Array.isArray(v)) setOwn(result, k, mergeList(k, result[k], v));
    else {
      const merged = applyStrategicMerge(result[k], v);
      if (merged === undefined) delete result[k];
      else setOwn(result, k, merged);
    }
  }
  return result;
}
