// What the Module and Provider controllers share: keeping a set of owned Versions equal to a desired set —
// create the missing ones, update only the fields the owner controls (never finalizers, fileName, forceSync or
// status), and delete the ones no longer desired. Deleting a Version runs its finalizer, which removes the artifact.
// Each Version records which owners want it (annotation wanted-by, docs/ownership.md), so that a deletion can name
// the owner that asked for it: in the log here, and on the Version for the finalizer's log.
import { API_VERSION, LABELS, type KubeObject, type OwnerReference } from "../api/meta.ts";
import { DELETION_REQUESTED_BY_ANNOTATION, HISTORY_LIMIT_OWNER, WANTED_BY_ANNOTATION } from "../api/ownership.ts";
import type { Logger } from "../log.ts";
import { Version, type VersionObject } from "../api/kinds.ts";
import type { VersionSpec } from "../api/types.ts";
import { isAlreadyExists, isNotFound, StoreError } from "../store/errors.ts";
import type { ResourceStore } from "../store/types.ts";
import { deepEqual } from "../store/patch.ts";
import { ownerMarks } from "../api/naming.ts";
import { normalizeVersion } from "../sources/constraints.ts";
import { patchSpec, replaceField } from "./writes.ts";

export interface DesiredVersion {
  name: string;
  labels: Record<string, string>;
  /** Full owner names whose labels had to be cut (see ownerMarks in api/naming.ts). */
  annotations?: Record<string, string>;
  /** Fields the owner controls. `fileName` is only used when creating. */
  spec: VersionSpec;
  /** The owners that list this version (recorded in the wanted-by annotation). */
  wantedBy: string[];
}

export interface ChildrenResult {
  created: string[];
  updated: string[];
  deleted: string[];
  /** Version names that exist but belong to something else (left alone, reported). */
  foreign: string[];
  /** Versions the API refused as invalid (`name: reason`): retrying cannot help until the owner's spec changes. */
  refused: string[];
  /** Current Version objects of the desired set (after this pass's writes), by name. */
  current: Map<string, VersionObject>;
}

/**
 * The controller reference of a child, with `blockOwnerDeletion` (as client-go's SetControllerReference), so a
 * foreground deletion of a Module waits until its Versions' finalizers removed the artifacts. Under the
 * OwnerReferencesPermissionEnforcement admission plugin (on by default on OpenShift) that needs `update` on the
 * owner's `finalizers` subresource, which the chart grants (modules, providers, versions).
 */
export function ownerReference(owner: KubeObject): OwnerReference {
  const apiVersion = typeof owner.apiVersion === "string" && owner.apiVersion ? owner.apiVersion : API_VERSION;
  return { apiVersion, kind: owner.kind, name: owner.metadata.name, uid: owner.metadata.uid!, controller: true, blockOwnerDeletion: true };
}

export const isOwnedBy = (obj: KubeObject, owner: KubeObject) => obj.metadata.ownerReferences?.some((r) => r.uid === owner.metadata.uid) ?? false;

const OWNED_SPEC_FIELDS = ["type", "version", "operatingSystem", "architecture", "moduleConfigRef", "providerConfigRef"] as const;
/** Follow the owner's version entry both ways: set, changed and cleared (the entry decides for owned Versions). */
const LIFECYCLE_FIELDS = ["deprecated", "yanked"] as const;

/** `deprecated`/`yanked` of the owner's spec.versions entry for a version (by normalised version). */
export function lifecycleOf(entries: { version?: string; deprecated?: VersionSpec["deprecated"]; yanked?: VersionSpec["yanked"] }[], version: string): Pick<VersionSpec, "deprecated" | "yanked"> {
  const want = normalizeVersion(version.trim());
  if (!want) return {};
  const entry = entries.find((e) => e.version !== undefined && normalizeVersion(e.version.trim()) === want && (e.deprecated || e.yanked));
  return { ...(entry?.deprecated ? { deprecated: structuredClone(entry.deprecated) } : {}), ...(entry?.yanked ? { yanked: structuredClone(entry.yanked) } : {}) };
}

/**
 * Creates the API refused as invalid, per owner generation: the same create would be refused again, so it is not
 * repeated (not even on resync) until the owner's spec changes.
 */
export class RefusedCreates {
  private readonly byOwner = new Map<string, { generation: number | undefined; refused: Map<string, string> }>();

  forOwner(owner: KubeObject): Map<string, string> {
    const uid = owner.metadata.uid ?? `${owner.metadata.namespace}/${owner.metadata.name}`;
    let entry = this.byOwner.get(uid);
    if (!entry || entry.generation !== owner.metadata.generation) this.byOwner.set(uid, (entry = { generation: owner.metadata.generation, refused: new Map() }));
    // Bounded: owners come and go; a forgotten refusal only costs one more refused create.
    if (this.byOwner.size > 10_000) this.byOwner.delete(this.byOwner.keys().next().value!);
    return entry.refused;
  }
}

export async function reconcileChildren(
  store: ResourceStore,
  owner: KubeObject,
  desired: DesiredVersion[],
  existing: VersionObject[],
  options: { forceSync: boolean; log: Logger; trimmed?: ReadonlySet<string>; refusedCreates?: RefusedCreates },
): Promise<ChildrenResult> {
  const result: ChildrenResult = { created: [], updated: [], deleted: [], foreign: [], refused: [], current: new Map() };
  const byName = new Map(existing.map((v) => [v.metadata.name, v]));
  const ns = owner.metadata.namespace;
  const refused = options.refusedCreates?.forOwner(owner) ?? new Map<string, string>();

  for (const d of desired) {
    const found = byName.get(d.name) ?? (await store.get<VersionObject>(Version, ns, d.name));
    if (!found && refused.has(d.name)) {
      result.refused.push(`${d.name}: ${refused.get(d.name)}`);
      continue;
    }
    if (!found) {
      const obj: VersionObject = {
        apiVersion: API_VERSION,
        kind: "Version",
        metadata: { name: d.name, namespace: ns, labels: d.labels, annotations: { ...d.annotations, [WANTED_BY_ANNOTATION]: d.wantedBy.join(",") }, ownerReferences: [ownerReference(owner)] },
        spec: d.spec,
      };
      try {
        result.current.set(d.name, await store.create<VersionObject>(obj));
        result.created.push(d.name);
      } catch (e) {
        if (e instanceof StoreError && e.reason === "Invalid") {
          refused.set(d.name, e.message);
          result.refused.push(`${d.name}: ${e.message}`);
          continue;
        }
        if (!isAlreadyExists(e)) throw e;
        const raced = await store.get<VersionObject>(Version, ns, d.name);
        if (raced) result.current.set(d.name, raced);
      }
      continue;
    }
    if (!isOwnedBy(found, owner)) {
      result.foreign.push(d.name);
      continue;
    }
    let current: VersionObject | undefined = found;
    for (const field of OWNED_SPEC_FIELDS) {
      const want = (d.spec as Record<string, unknown>)[field];
      const have = (found.spec as Record<string, unknown>)[field];
      if (want !== undefined && !deepEqual(want, have)) current = ((await replaceField(store, Version, current ?? found, `/spec/${field}`, want)) as VersionObject | undefined) ?? current;
    }
    for (const field of LIFECYCLE_FIELDS) {
      if (!deepEqual(d.spec[field], found.spec[field])) current = ((await patchSpec(store, Version, current ?? found, { [field]: d.spec[field] ?? null })) as VersionObject | undefined) ?? current;
    }
    const labels = { ...found.metadata.labels, ...d.labels };
    if (!deepEqual(labels, found.metadata.labels ?? {})) current = ((await replaceField(store, Version, current ?? found, "/metadata/labels", labels)) as VersionObject | undefined) ?? current;
    const annotations = { ...found.metadata.annotations, ...d.annotations, [WANTED_BY_ANNOTATION]: d.wantedBy.join(",") };
    if (!deepEqual(annotations, found.metadata.annotations ?? {})) current = ((await replaceField(store, Version, current ?? found, "/metadata/annotations", annotations)) as VersionObject | undefined) ?? current;
    if (options.forceSync && !found.spec.forceSync) current = ((await replaceField(store, Version, current ?? found, "/spec/forceSync", true)) as VersionObject | undefined) ?? current;
    if (current !== found) result.updated.push(d.name);
    if (current) result.current.set(d.name, current);
  }

  const wanted = new Set(desired.map((d) => d.name));
  for (const v of existing) {
    if (wanted.has(v.metadata.name) || !isOwnedBy(v, owner) || v.metadata.deletionTimestamp) continue;
    // Every owner that listed it has dropped it (or versionHistoryLimit trimmed it): name them, then delete.
    const requestedBy = options.trimmed?.has(v.metadata.name) ? HISTORY_LIMIT_OWNER : v.metadata.annotations?.[WANTED_BY_ANNOTATION] || "unknown";
    try {
      const annotations = { ...v.metadata.annotations, [DELETION_REQUESTED_BY_ANNOTATION]: requestedBy };
      await replaceField(store, Version, v, "/metadata/annotations", annotations);
      await store.delete(Version, ns, v.metadata.name);
      result.deleted.push(v.metadata.name);
      options.log.info("version deleted: no owner lists it any more", { version: v.metadata.name, requestedBy, owner: `${owner.kind}/${owner.metadata.name}` });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
  return result;
}

/** The labels naming a child's owner (cut to 63 characters with a hash) and the annotations keeping full names. */
export const ownerLabels = (label: string, owner: KubeObject) => ownerMarks({ [label]: owner.metadata.name, [LABELS.namespace]: owner.metadata.namespace ?? "default" });
