// Writing what a Depot entry discovered into its Module or Provider.
//
// Ownership (docs/ownership.md): a Depot-managed Module/Provider carries the label opendepot.defdev.io/depot=<depot
// name>, and the Depot writes only its own list spec.depotVersions (plus the config it manages); spec.versions
// belongs to the person and is never written here. No ownerReference: the garbage collector would delete the
// resource with the Depot, and the seeds promise that deleting a Depot (the last step of a migration) leaves its
// Modules and Providers serving. A resource labelled for another Depot that still exists is left alone (the entry
// reports ManagedByAnotherDepot); an unlabelled one, or one whose Depot is gone, is adopted, and its depotVersions
// become this Depot's to keep in step with its constraint.
import { API_VERSION, DEPOT_VERSIONS_ANNOTATION, LABELS, type KubeObject } from "../api/meta.ts";
import { Module, Provider, type DepotObject, type ModuleObject, type ProviderObject } from "../api/kinds.ts";
import { ownerMarks, ownerNameFrom } from "../api/naming.ts";
import { isAlreadyExists, isConflict, isNotFound } from "../store/errors.ts";
import { deepEqual } from "../store/patch.ts";
import type { ResourceStore } from "../store/types.ts";
import type { DepotEntry } from "./depot-entries.ts";
import { EntryError, type Discovery } from "./depot-discovery.ts";
import { mergeVersions, migrateLegacy } from "./depot-merge.ts";

export interface ApplyResult {
  action: "created" | "updated" | "unchanged";
  added: string[];
  removed: string[];
}

type Managed = ModuleObject | ProviderObject;
const ATTEMPTS = 5;

const kindOf = (entry: { kind: "Module" | "Provider" }) => (entry.kind === "Module" ? Module : Provider);

/** Create or update the entry's Module/Provider: config replaced, versions merged (see depot-merge.ts). */
export async function applyEntry(
  store: ResourceStore,
  depot: DepotObject,
  entry: DepotEntry,
  discovery: Discovery,
  depotExists: (name: string) => boolean,
): Promise<ApplyResult> {
  const ns = depot.metadata.namespace ?? "default";
  const kind = kindOf(entry);
  const configField = entry.kind === "Module" ? "moduleConfig" : "providerConfig";
  const merge = (current: { version?: string }[]) =>
    mergeVersions(current, { matched: discovery.matched, constraints: entry.constraints, historyLimit: entry.historyLimit, authoritative: discovery.found > 0 });

  // The Depot's name as a label value (cut with a hash past 63 characters; the full name then in an annotation).
  const marks = ownerMarks({ [LABELS.depot]: depot.metadata.name });

  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const existing = await store.get<Managed>(kind, ns, entry.name);
    if (!existing) {
      const merged = merge([]);
      const obj = {
        apiVersion: API_VERSION,
        kind: entry.kind,
        metadata: { name: entry.name, namespace: ns, labels: marks.labels, ...(Object.keys(marks.annotations).length ? { annotations: marks.annotations } : {}) },
        spec: { [configField]: structuredClone(entry.config), versions: [], depotVersions: merged.versions },
      } as unknown as Managed;
      try {
        await store.create(obj);
        return { action: "created", added: merged.added, removed: [] };
      } catch (e) {
        if (isAlreadyExists(e)) continue;
        throw e;
      }
    }
    if (existing.metadata.deletionTimestamp) throw new EntryError("BeingDeleted", `${entry.kind} ${entry.name} is being deleted; it will be recreated by a later poll`);
    const owner = ownerNameFrom(existing.metadata, LABELS.depot);
    if (owner && owner !== depot.metadata.name && depotExists(owner)) {
      throw new EntryError("ManagedByAnotherDepot", `${entry.kind} ${entry.name} is managed by Depot ${owner}; remove it from that Depot first`);
    }
    const legacy = migrateLegacy(existing.spec.versions ?? [], existing.spec.depotVersions ?? [], existing.metadata.annotations?.[DEPOT_VERSIONS_ANNOTATION]);
    const merged = merge(legacy.depotVersions);
    const next = structuredClone(existing) as Managed & { spec: Record<string, unknown> };
    next.metadata.labels = { ...existing.metadata.labels, ...marks.labels };
    next.metadata.annotations = { ...existing.metadata.annotations, ...marks.annotations };
    delete next.metadata.annotations[DEPOT_VERSIONS_ANNOTATION];
    if (!marks.annotations[LABELS.depot]) delete next.metadata.annotations[LABELS.depot];
    if (!Object.keys(next.metadata.annotations).length) delete next.metadata.annotations;
    next.spec[configField] = structuredClone(entry.config);
    next.spec.versions = legacy.versions;
    next.spec.depotVersions = merged.versions;
    if (deepEqual(next.metadata, existing.metadata) && deepEqual(next.spec, existing.spec)) return { action: "unchanged", added: [], removed: [] };
    try {
      await store.update(next);
      return { action: "updated", added: merged.added, removed: merged.removed };
    } catch (e) {
      if (isConflict(e) || isNotFound(e)) continue;
      throw e;
    }
  }
  throw new EntryError("Conflict", `${entry.kind} ${entry.name} kept changing while the Depot updated it; will retry`);
}

/**
 * A Module/Provider whose entry was removed from the Depot: it stays, and so do its depotVersions (still served;
 * edit the list to let versions go, or let another Depot adopt it), but it is no longer Depot-managed, so the
 * label and the legacy annotation go.
 */
export async function releaseManaged(store: ResourceStore, obj: KubeObject): Promise<void> {
  const kind = obj.kind === "Module" ? Module : Provider;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const current = await store.get<KubeObject>(kind, obj.metadata.namespace, obj.metadata.name);
    if (!current || current.metadata.labels?.[LABELS.depot] !== obj.metadata.labels?.[LABELS.depot]) return;
    const next = structuredClone(current);
    delete next.metadata.labels![LABELS.depot];
    if (next.metadata.annotations) {
      delete next.metadata.annotations[DEPOT_VERSIONS_ANNOTATION];
      delete next.metadata.annotations[LABELS.depot];
    }
    try {
      await store.update(next);
      return;
    } catch (e) {
      if (isNotFound(e)) return;
      if (!isConflict(e)) throw e;
    }
  }
}
