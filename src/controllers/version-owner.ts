// The shared skeleton of the Module and Provider controllers: both own a set of Versions planned from their spec
// (declared versions, a Depot's additions, the history limit), reconcile them as children, reset forceSync, and
// report the same status fields and failures. Each controller only says which Versions it wants.
import type { KindDescriptor, ModuleObject, ProviderObject, VersionObject } from "../api/kinds.ts";
import { Version } from "../api/kinds.ts";
import { protocolVersion, unservableName } from "../api/naming.ts";
import type { Logger } from "../log.ts";
import type { ObjectCache } from "../store/multi-namespace-cache.ts";
import type { ResourceStore } from "../store/types.ts";
import type { StorageConfig } from "../api/types.ts";
import type { StoragePolicy } from "../storage/policy.ts";
import { reconcileChildren, RefusedCreates, type DesiredVersion } from "./children.ts";
import { describeError, readiness, setConditions } from "./conditions.ts";
import type { ControllerManager, ObjectKey, ReconcileContext } from "./manager.ts";
import { summarizeVersions } from "./summary.ts";
import { storageRefusal } from "./storage-check.ts";
import type { VersionPlan } from "./versions-plan.ts";
import { patchSpec, patchStatusIfChanged } from "./writes.ts";

export type VersionOwner = ModuleObject | ProviderObject;

/** The Versions an owner wants, as its controller planned them. */
export interface WantedVersions {
  plan: VersionPlan;
  desired: DesiredVersion[];
  /** Names of Versions dropped by versionHistoryLimit (deleted, never reported as foreign). */
  trimmed: ReadonlySet<string>;
  /** The owner label value its Versions carry (the owner's name, or its shortened form). */
  ownerLabel: string | undefined;
  /** The spec is unusable as a whole (e.g. an invalid platform list): want nothing, but delete nothing either. */
  hold?: boolean;
  /** The owner's storageConfig and its field path, checked against the operator's storage policy. */
  storage: { config: StorageConfig | undefined; field: string };
  /** The `status.*VersionRefs` map, from the Versions as they are after this pass. */
  refs(current: ReadonlyMap<string, VersionObject>): Record<string, unknown>;
}

export abstract class VersionOwnerController<O extends VersionOwner> {
  abstract readonly name: string;
  protected readonly owners: ObjectCache<O>;
  protected readonly versions: ObjectCache<VersionObject>;
  private readonly refusedCreates = new RefusedCreates();

  constructor(
    protected readonly store: ResourceStore,
    manager: ControllerManager,
    readonly kind: KindDescriptor,
    /** The label that ties a Version to its owner (`LABELS.module` / `LABELS.provider`). */
    private readonly ownerLabelName: string,
    private readonly what: "module" | "provider",
    private readonly refsField: "moduleVersionRefs" | "providerVersionRefs",
    private readonly storagePolicy?: () => StoragePolicy,
  ) {
    this.owners = manager.cache<O>(kind);
    this.versions = manager.cache<VersionObject>(Version);
  }

  /** Which Versions `owner` wants. */
  protected abstract wanted(owner: O): WantedVersions;

  async reconcile(key: ObjectKey, { log }: ReconcileContext) {
    const owner = this.owners.get(key.namespace, key.name);
    if (!owner || owner.metadata.deletionTimestamp) return;
    // A name the registry protocols cannot address would never be served: say so once instead of syncing it.
    const unservable = unservableName(owner.metadata.name);
    if (unservable) return this.writeFailure(owner, "InvalidSpec", unservable);
    const wanted = this.wanted(owner);
    const existing = this.versions.list(key.namespace).filter((v) => v.metadata.labels?.[this.ownerLabelName] === wanted.ownerLabel || v.metadata.ownerReferences?.some((r) => r.uid === owner.metadata.uid));
    let children;
    try {
      children = await this.reconcileVersions(owner, wanted, existing, log);
    } catch (e) {
      // Retried with backoff by the manager; meanwhile the columns and conditions say why.
      await this.writeFailure(owner, "VersionWriteFailed", `could not write this ${this.what}'s Versions: ${describeError(e)}`).catch((statusError) => log.warn("could not report the failure in status", { error: statusError }));
      throw e;
    }
    if (children.created.length || children.deleted.length) log.info(`${this.what} versions reconciled`, { created: children.created, deleted: children.deleted });
    if (children.refused.length) log.warn(`${this.what} versions refused by the API`, { refused: children.refused });
    if (owner.spec.forceSync) await patchSpec(this.store, this.kind, owner, { forceSync: false });

    const { plan } = wanted;
    // A storageConfig the operator's policy refuses is reported on the owner itself, naming the field.
    const summary = storageRefusal(this.storagePolicy, key.namespace, wanted.storage.config, wanted.storage.field) ?? summarizeVersions(this.what, [...children.current.values()], { ...plan, invalid: [...plan.invalid, ...children.refused] }, children.foreign);
    await patchStatusIfChanged(this.store, this.kind, owner, {
      latestVersion: plan.latest ?? null,
      latestServedVersion: plan.keep[0] ? protocolVersion(plan.keep[0]) : null,
      [this.refsField]: wanted.refs(children.current),
      synced: summary.synced,
      syncStatus: summary.syncStatus,
      observedGeneration: owner.metadata.generation,
      conditions: setConditions(owner.status?.conditions, readiness(summary.ready, summary.reason, summary.message), owner.metadata.generation),
    });
  }

  private reconcileVersions(owner: O, wanted: WantedVersions, existing: VersionObject[], log: Logger) {
    if (wanted.hold) return Promise.resolve({ created: [] as string[], deleted: [] as string[], foreign: [] as string[], refused: [] as string[], current: new Map(existing.map((v) => [v.metadata.name, v])) });
    return reconcileChildren(this.store, owner, wanted.desired, existing, { forceSync: owner.spec.forceSync === true, log, trimmed: wanted.trimmed, refusedCreates: this.refusedCreates });
  }

  private async writeFailure(owner: O, reason: string, message: string): Promise<void> {
    await patchStatusIfChanged(this.store, this.kind, owner, {
      synced: false,
      syncStatus: `${reason === "InvalidSpec" ? `Invalid ${this.what} spec` : `Failed to sync ${this.what}`}: ${message}`,
      observedGeneration: owner.metadata.generation,
      conditions: setConditions(owner.status?.conditions, readiness(false, reason, message), owner.metadata.generation),
    });
  }
}
