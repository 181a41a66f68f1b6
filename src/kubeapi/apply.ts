// Server-side apply (`application/apply-patch+yaml`), a faithful-enough subset: the applied configuration creates
// the object or is merged into it (maps merge, lists and scalars are replaced: every list of our kinds is atomic),
// and each field manager's applied fields are recorded in `metadata.managedFields` (FieldsV1), so that a field a
// manager stops applying is removed. Conflicts with other managers are not detected: every apply wins, as with
// `--force-conflicts`.
import type { KubeObject } from "../api/meta.ts";
import { isConflict } from "../store/errors.ts";
import { isPlainObject } from "../kits/json.ts";
import { decode, PATCH_TYPES, readBody } from "./body.ts";
import { checkIdentity, checkTypeMeta, decodeChecks, type Call } from "./call.ts";
import { groupVersionOf } from "./resources.ts";
import { ApiError, badRequest, conflict, notFound } from "./status.ts";
import { create, write } from "./write.ts";

type Fields = Record<string, unknown>;
interface ManagedFieldsEntry {
  manager: string;
  operation: string;
  apiVersion: string;
  time: string;
  fieldsType: "FieldsV1";
  fieldsV1: Fields;
  subresource?: string;
}

const IGNORED_META = new Set(["name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "managedFields", "selfLink"]);

function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
}

/** The FieldsV1 set of an applied configuration: `{"f:spec":{"f:forceSync":{}}}`; lists are atomic leaves. */
export function fieldSet(config: Record<string, unknown>, subresource: string | undefined): Fields {
  const walk = (v: unknown): Fields => {
    const out: Fields = {};
    if (isPlainObject(v)) for (const [k, child] of Object.entries(v)) setOwn(out, `f:${k}`, walk(child));
    return out;
  };
  const fields: Fields = {};
  for (const [k, v] of Object.entries(config)) {
    if (k === "apiVersion" || k === "kind") continue;
    if ((k === "status") !== (subresource === "status")) continue;
    if (k === "metadata" && isPlainObject(v)) {
      const meta: Fields = {};
      for (const [mk, mv] of Object.entries(v)) if (!IGNORED_META.has(mk)) setOwn(meta, `f:${mk}`, walk(mv));
      if (Object.keys(meta).length) fields["f:metadata"] = meta;
      continue;
    }
    setOwn(fields, `f:${k}`, walk(v));
  }
  return fields;
}

/** Leaf paths of a FieldsV1 set, e.g. `["spec","forceSync"]`. */
function leaves(fields: Fields, prefix: string[] = []): string[][] {
  const out: string[][] = [];
  for (const [k, v] of Object.entries(fields)) {
    if (!k.startsWith("f:")) continue;
    const path = [...prefix, k.slice(2)];
    if (isPlainObject(v) && Object.keys(v).some((c) => c.startsWith("f:"))) out.push(...leaves(v, path));
    else out.push(path);
  }
  return out;
}

function removePath(obj: unknown, path: string[]): void {
  let cur = obj;
  for (const seg of path.slice(0, -1)) {
    if (!isPlainObject(cur)) return;
    cur = cur[seg];
  }
  if (isPlainObject(cur)) delete cur[path[path.length - 1]!];
}

/** Maps merge recursively; lists and scalars are replaced. */
function mergeInto(target: Record<string, unknown>, config: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(config)) {
    if (isPlainObject(v) && isPlainObject(target[k])) mergeInto(target[k] as Record<string, unknown>, v);
    else setOwn(target, k, structuredClone(v));
  }
}

function managedFieldsOf(obj: KubeObject): ManagedFieldsEntry[] {
  const mf = obj.metadata.managedFields;
  return Array.isArray(mf) ? (mf.filter(isPlainObject) as unknown as ManagedFieldsEntry[]) : [];
}

export async function serverSideApply(call: Call): Promise<Response> {
  const manager = call.query.get("fieldManager");
  if (!manager) throw badRequest("PATCH requests with the apply content type (application/apply-patch+yaml) must have a fieldManager");
  if (manager.length > 128) throw badRequest("fieldManager must be at most 128 characters");
  const force = call.query.get("force");
  if (force !== null && force !== "true" && force !== "false") throw badRequest(`force: invalid value ${JSON.stringify(force.slice(0, 16))}`);
  const config = decode(await readBody(call.request, call.deps.maxBodyBytes), PATCH_TYPES.apply);
  if (!isPlainObject(config)) throw badRequest("the applied configuration must be an object");
  checkTypeMeta(call.r, config, true);
  const meta = config.metadata as Record<string, unknown>;
  if (!meta.name) throw badRequest("metadata.name is required in an applied configuration");
  checkIdentity(call, config as KubeObject);
  const sub = call.subresource;
  // Unknown fields are refused or dropped before they count as applied.
  const warnings = decodeChecks(call, config as KubeObject);
  const fields = fieldSet(config, sub);
  const entryFor = (fields: Fields): ManagedFieldsEntry => ({
    manager,
    operation: "Apply",
    apiVersion: groupVersionOf(call.r),
    time: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    fieldsType: "FieldsV1",
    fieldsV1: fields,
    ...(sub ? { subresource: sub } : {}),
  });
  // An apply that names a resourceVersion is a precondition; otherwise conflicts with other writers are retried.
  const pinned = typeof meta.resourceVersion === "string" && meta.resourceVersion ? meta.resourceVersion : undefined;
  for (let attempt = 0; attempt < 5; attempt++) {
    const stored = await call.deps.store.get<KubeObject>(call.d, call.namespace, call.name!);
    const probe = structuredClone(config) as KubeObject;
    if (!stored) {
      if (sub) throw notFound(call.r, call.name!);
      probe.metadata.managedFields = [entryFor(fields)];
      return create(call, probe, warnings);
    }
    if (pinned && pinned !== stored.metadata.resourceVersion) throw conflict(call.r, call.name!);
    const entries = managedFieldsOf(stored);
    const mine = entries.findIndex((e) => e.manager === manager && e.operation === "Apply" && (e.subresource ?? undefined) === sub);
    const next = structuredClone(stored);
    if (mine >= 0) {
      const now = new Set(leaves(fields).map((p) => p.join("\u0000")));
      for (const p of leaves(entries[mine]!.fieldsV1 ?? {})) if (!now.has(p.join("\u0000"))) removePath(next, p);
    }
    const applied = structuredClone(probe) as Record<string, unknown>;
    delete applied.apiVersion;
    delete applied.kind;
    for (const k of IGNORED_META) delete (applied.metadata as Record<string, unknown>)[k];
    if (sub === "status") mergeInto(next, { status: applied.status ?? {} });
    else {
      delete applied.status;
      mergeInto(next, applied);
    }
    const entry = entryFor(fields);
    next.metadata.managedFields = mine >= 0 ? entries.map((e, i) => (i === mine ? entry : e)) : [...entries, entry];
    next.metadata.resourceVersion = stored.metadata.resourceVersion;
    try {
      return await write(call, next, stored, warnings);
    } catch (e) {
      if (pinned || !(isConflict(e) || (e instanceof ApiError && e.reason === "Conflict"))) throw e;
    }
  }
  throw conflict(call.r, call.name!);
}
