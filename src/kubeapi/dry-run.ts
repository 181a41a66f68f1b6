// `dryRun=All`: run the same validation and defaulting a write would, and answer with the object the write would
// have produced, without touching the store. Server-set metadata is filled in the way the store fills it.
import type { KubeObject } from "../api/meta.ts";
import { applyDefaults, validateMetadata, validateSpec, validateStatus } from "../api/validate.ts";
import { deepEqual } from "../kits/json.ts";
import type { Call } from "./call.ts";
import { alreadyExists, invalid } from "./status.ts";

const SERVER_FIELDS = ["uid", "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds"] as const;

function validate(call: Call, obj: KubeObject): void {
  const errors = [...validateMetadata(obj, call.d), ...validateSpec(obj, call.d), ...validateStatus(obj, call.d)];
  if (errors.length) throw invalid(call.r, obj.metadata.name, errors);
  applyDefaults(obj, call.d);
}

export async function dryRunCreate(call: Call, input: KubeObject): Promise<KubeObject> {
  const obj = structuredClone(input);
  for (const f of SERVER_FIELDS) delete obj.metadata[f];
  if (call.d.status) delete obj.status;
  validate(call, obj);
  if (await call.deps.store.get(call.d, obj.metadata.namespace, obj.metadata.name)) throw alreadyExists(call.r, obj.metadata.name);
  obj.metadata.uid = crypto.randomUUID();
  obj.metadata.creationTimestamp = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  obj.metadata.generation = 1;
  return obj;
}

/** The result of replacing `stored` by `next` (main resource) or of replacing its status (`/status`). */
export function dryRunUpdate(call: Call, next: KubeObject, stored: KubeObject): KubeObject {
  let obj: KubeObject;
  if (call.subresource === "status") {
    obj = structuredClone(stored);
    if (next.status === undefined) delete obj.status;
    else obj.status = structuredClone(next.status);
  } else {
    obj = structuredClone(next);
    const from = stored.metadata as Record<string, unknown>;
    const to = obj.metadata as Record<string, unknown>;
    for (const f of SERVER_FIELDS) {
      if (from[f] === undefined) delete to[f];
      else to[f] = from[f];
    }
    if (call.d.status) {
      if (stored.status === undefined) delete obj.status;
      else obj.status = stored.status;
    }
    if (!deepEqual(stored.spec, obj.spec)) obj.metadata.generation = (stored.metadata.generation ?? 0) + 1;
  }
  validate(call, obj);
  return obj;
}
