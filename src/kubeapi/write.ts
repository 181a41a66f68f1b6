// create (POST), update (PUT, also of `/status`), delete and deletecollection of store-backed kinds, with the API
// server's rules: generateName, no unconditional updates of custom resources, create-on-update for Leases,
// DeleteOptions preconditions, and Namespaces that take their contents with them.
import type { KubeObject } from "../api/meta.ts";
import { isNotFound } from "../store/errors.ts";
import { readObject, readOptionalObject } from "./body.ts";
import { admit, checkIdentity, checkTypeMeta, fieldManagerOf, isDryRun, type Call } from "./call.ts";
import { dryRunCreate, dryRunUpdate } from "./dry-run.ts";
import { enforceOwnerReferencePermissions } from "./owner-references.ts";
import { SYSTEM_NAMESPACE } from "./identity.ts";
import { renderList, renderObject } from "./output.ts";
import { listSelected } from "./read.ts";
import { conflict, forbidden, fromStoreError, invalid, jsonResponse, notFound, successStatus } from "./status.ts";

const GENERATE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789";
const PROTECTED_NAMESPACES = new Set(["default", SYSTEM_NAMESPACE]);

function generateName(prefix: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(5));
  return prefix + [...bytes].map((b) => GENERATE_ALPHABET[b % GENERATE_ALPHABET.length]).join("");
}

export async function createObject(call: Call): Promise<Response> {
  const body = await readObject(call.request, call.deps.maxBodyBytes);
  checkTypeMeta(call.r, body);
  const obj = body as KubeObject;
  checkIdentity(call, obj);
  const meta = obj.metadata;
  if (!meta.name && typeof meta.generateName === "string" && meta.generateName) meta.name = generateName(meta.generateName.slice(0, 58));
  if (!meta.name) throw invalid(call.r, "", [{ field: "metadata.name", message: "is required" }]);
  return create(call, obj);
}

/** Admission, dry run or the store's create; 201 with the created object. */
export async function create(call: Call, obj: KubeObject, extraWarnings: string[] = []): Promise<Response> {
  const warnings = [...extraWarnings, ...admit(call, obj, undefined)];
  const name = obj.metadata.name;
  if (call.deps.ownerReferencesAuthorize) await enforceOwnerReferencePermissions(call, obj, undefined, call.deps.ownerReferencesAuthorize);
  if (call.r.namespaced && (await call.deps.namespaces.isTerminating(call.namespace))) {
    throw forbidden(call.r, name, `unable to create new content in namespace ${call.namespace} because it is being terminated`);
  }
  const created = isDryRun(call.query) ? await dryRunCreate(call, obj) : await call.deps.store.create(obj, { fieldManager: fieldManagerOf(call) }).catch((e) => {
    throw fromStoreError(e, call.r, name);
  });
  return renderObject(call.r, created, call.output, 201, warnings);
}

/** Custom resources need a resourceVersion on update; the core kinds we serve allow unconditional updates. */
const allowsUnconditionalUpdate = (call: Call) => !call.d.spec;

export async function updateObject(call: Call): Promise<Response> {
  const body = await readObject(call.request, call.deps.maxBodyBytes);
  checkTypeMeta(call.r, body);
  const obj = body as KubeObject;
  checkIdentity(call, obj);
  const stored = await call.deps.store.get<KubeObject>(call.d, call.namespace, call.name!);
  if (!stored) {
    // Leases are created by an update, like on the API server (leader election relies on it).
    if (call.r.resource === "leases" && !call.subresource) return create(call, obj);
    throw notFound(call.r, call.name!);
  }
  if (!obj.metadata.resourceVersion && !allowsUnconditionalUpdate(call)) {
    throw invalid(call.r, call.name!, [{ field: "metadata.resourceVersion", message: "0x0: must be specified for an update" }]);
  }
  if (obj.metadata.managedFields === undefined && stored.metadata.managedFields !== undefined) obj.metadata.managedFields = stored.metadata.managedFields;
  return write(call, obj, stored);
}

/** Admission, dry run or the store's update/updateStatus of `next` over `stored`. */
export async function write(call: Call, next: KubeObject, stored: KubeObject, extraWarnings: string[] = []): Promise<Response> {
  const warnings = [...extraWarnings, ...admit(call, next, stored)];
  if (call.deps.ownerReferencesAuthorize) await enforceOwnerReferencePermissions(call, next, stored, call.deps.ownerReferencesAuthorize);
  const store = call.deps.store;
  let written: KubeObject;
  if (isDryRun(call.query)) written = dryRunUpdate(call, next, stored);
  else {
    const options = { fieldManager: fieldManagerOf(call) };
    written = await (call.subresource === "status" ? store.updateStatus(next, options) : store.update(next, options)).catch((e) => {
      throw fromStoreError(e, call.r, call.name!);
    });
  }
  return renderObject(call.r, written, call.output, 200, warnings);
}

interface Preconditions {
  uid?: string;
  resourceVersion?: string;
}

function preconditionsOf(options: Record<string, unknown> | undefined): Preconditions {
  const p = options?.preconditions;
  if (!p || typeof p !== "object") return {};
  const { uid, resourceVersion } = p as Record<string, unknown>;
  return { ...(typeof uid === "string" && uid ? { uid } : {}), ...(typeof resourceVersion === "string" && resourceVersion ? { resourceVersion } : {}) };
}

export async function deleteObject(call: Call): Promise<Response> {
  const options = await readOptionalObject(call.request, call.deps.maxBodyBytes);
  const dryRun = isDryRun(call.query, options);
  const name = call.name!;
  const store = call.deps.store;
  const stored = await store.get<KubeObject>(call.d, call.namespace, name);
  if (!stored) throw notFound(call.r, name);
  const pre = preconditionsOf(options);
  if (pre.uid && pre.uid !== stored.metadata.uid) {
    throw conflict(call.r, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${stored.metadata.uid}`);
  }
  if (pre.resourceVersion && pre.resourceVersion !== stored.metadata.resourceVersion) {
    throw conflict(call.r, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${stored.metadata.resourceVersion}`);
  }
  if (call.r.resource === "namespaces" && PROTECTED_NAMESPACES.has(name)) throw forbidden(call.r, name, "this namespace may not be deleted");
  if (dryRun) {
    if (stored.metadata.finalizers?.length || call.r.resource === "namespaces") stored.metadata.deletionTimestamp ??= new Date().toISOString().replace(/\.\d+Z$/, "Z");
    return renderObject(call.r, stored, call.output);
  }
  if (call.r.resource === "namespaces") {
    const terminating = await call.deps.namespaces.beginDeletion(stored, pre.resourceVersion).catch((e) => {
      throw fromStoreError(e, call.r, name);
    });
    return renderObject(call.r, terminating, call.output);
  }
  await store.delete(call.d, call.namespace, name, pre.resourceVersion ? { resourceVersion: pre.resourceVersion } : {}).catch((e) => {
    if (!isNotFound(e)) throw fromStoreError(e, call.r, name);
  });
  const after = await store.get<KubeObject>(call.d, call.namespace, name);
  if (after && after.metadata.uid === stored.metadata.uid) return renderObject(call.r, after, call.output);
  return jsonResponse(successStatus({ name, group: call.r.group, kind: call.r.resource, uid: stored.metadata.uid }));
}

export async function deleteCollection(call: Call): Promise<Response> {
  const options = await readOptionalObject(call.request, call.deps.maxBodyBytes);
  const dryRun = isDryRun(call.query, options);
  const { items, resourceVersion } = await listSelected(call);
  const deleted: KubeObject[] = [];
  for (const o of items) {
    if (call.r.resource === "namespaces" && PROTECTED_NAMESPACES.has(o.metadata.name)) continue;
    if (!dryRun) {
      const gone = await (call.r.resource === "namespaces" ? call.deps.namespaces.beginDeletion(o) : call.deps.store.delete(call.d, o.metadata.namespace, o.metadata.name)).then(
        () => true,
        (e) => {
          if (isNotFound(e)) return false;
          throw fromStoreError(e, call.r, o.metadata.name);
        },
      );
      if (!gone) continue;
    }
    deleted.push(o);
  }
  return renderList(call.r, deleted, resourceVersion, call.output);
}
