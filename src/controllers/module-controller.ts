// Module controller: one Version per declared version (owned by the Module), garbage collection of removed or
// trimmed versions, forceSync propagated to every Version then reset, and a status that reflects the Versions.
import { Module, Version, type ModuleObject, type VersionObject } from "../api/kinds.ts";
import { LABELS, type KubeObject } from "../api/meta.ts";
import { artifactFileName, moduleArchiveFormat, moduleVersionName, ownerNameFrom, protocolVersion, unservableName } from "../api/naming.ts";
import type { ResourceStore } from "../store/types.ts";
import type { StoragePolicy } from "../storage/policy.ts";
import type { ObjectCache } from "../store/multi-namespace-cache.ts";
import { describeError, readiness, setConditions } from "./conditions.ts";
import { lifecycleOf, ownerLabels, reconcileChildren, RefusedCreates, type DesiredVersion } from "./children.ts";
import type { Controller, ControllerManager, ObjectKey, ReconcileContext } from "./manager.ts";
import { storageRefusal } from "./storage-check.ts";
import { summarizeVersions } from "./summary.ts";
import { depotListOf, planVersions } from "./versions-plan.ts";
import { patchSpec, patchStatusIfChanged } from "./writes.ts";

export const MODULE_CONTROLLER = "module";

/** Versions wake the Module they belong to. */
export function ownerKeys(label: string) {
  return (obj: KubeObject): ObjectKey[] => {
    const owner = obj.metadata.ownerReferences?.find((r) => r.controller)?.name ?? ownerNameFrom(obj.metadata, label);
    return owner ? [{ namespace: obj.metadata.namespace ?? "", name: owner }] : [];
  };
}

export class ModuleController implements Controller {
  readonly name = MODULE_CONTROLLER;
  readonly kind = Module;
  readonly watches = [{ kind: Version, map: ownerKeys(LABELS.module) }];
  private readonly modules: ObjectCache<ModuleObject>;
  private readonly versions: ObjectCache<VersionObject>;
  private readonly refusedCreates = new RefusedCreates();

  constructor(
    private readonly store: ResourceStore,
    manager: ControllerManager,
    private readonly storagePolicy?: () => StoragePolicy,
  ) {
    this.modules = manager.cache<ModuleObject>(Module);
    this.versions = manager.cache<VersionObject>(Version);
  }

  async reconcile(key: ObjectKey, { log }: ReconcileContext) {
    const module = this.modules.get(key.namespace, key.name);
    if (!module || module.metadata.deletionTimestamp) return;
    // A name the registry protocols cannot address would never be served: say so once instead of syncing it.
    const unservable = unservableName(module.metadata.name);
    if (unservable) return this.writeFailure(module, "InvalidSpec", unservable);
    const config = module.spec.moduleConfig;
    const plan = planVersions(module.spec.versions.map((v) => v.version), config.versionHistoryLimit, depotListOf(module));
    const extension = moduleArchiveFormat(config.fileFormat) === "zip" ? ".zip" : ".tar.gz";
    const marks = ownerLabels(LABELS.module, module);
    const moduleConfigRef = { ...structuredClone(config), name: config.name ?? module.metadata.name };
    const desired: DesiredVersion[] = plan.keep.map((version) => ({
      name: moduleVersionName(module.metadata.name, version),
      labels: marks.labels,
      annotations: marks.annotations,
      spec: { type: "Module", version, moduleConfigRef, fileName: artifactFileName(extension), ...lifecycleOf([...module.spec.versions, ...(module.spec.depotVersions ?? [])], version) },
      wantedBy: plan.owners.get(version) ?? [],
    }));
    const trimmed = new Set(plan.trimmed.map((version) => moduleVersionName(module.metadata.name, version)));
    const ownerLabel = marks.labels[LABELS.module];
    const existing = this.versions.list(key.namespace).filter((v) => v.metadata.labels?.[LABELS.module] === ownerLabel || v.metadata.ownerReferences?.some((r) => r.uid === module.metadata.uid));
    let children;
    try {
      children = await reconcileChildren(this.store, module, desired, existing, { forceSync: module.spec.forceSync === true, log, trimmed, refusedCreates: this.refusedCreates });
    } catch (e) {
      // Retried with backoff by the manager; meanwhile the columns and conditions say why.
      await this.writeFailure(module, "VersionWriteFailed", `could not write this module's Versions: ${describeError(e)}`).catch((statusError) => log.warn("could not report the failure in status", { error: statusError }));
      throw e;
    }
    if (children.created.length || children.deleted.length) log.info("module versions reconciled", { created: children.created, deleted: children.deleted });
    if (children.refused.length) log.warn("module versions refused by the API", { refused: children.refused });
    if (module.spec.forceSync) await patchSpec(this.store, Module, module, { forceSync: false });

    const refs: Record<string, { name: string; fileName?: string }> = {};
    for (const version of plan.keep) {
      const name = moduleVersionName(module.metadata.name, version);
      const v = children.current.get(name);
      refs[version] = { name, ...(v?.spec.fileName ? { fileName: v.spec.fileName } : {}) };
    }
    const summary = storageRefusal(this.storagePolicy, key.namespace, module.spec.moduleConfig.storageConfig, "spec.moduleConfig.storageConfig") ?? summarizeVersions("module", [...children.current.values()], { ...plan, invalid: [...plan.invalid, ...children.refused] }, children.foreign);
    await patchStatusIfChanged(this.store, Module, module, {
      latestVersion: plan.latest ?? null,
      latestServedVersion: plan.keep[0] ? protocolVersion(plan.keep[0]) : null,
      moduleVersionRefs: refs,
      synced: summary.synced,
      syncStatus: summary.syncStatus,
      observedGeneration: module.metadata.generation,
      conditions: setConditions(module.status?.conditions, readiness(summary.ready, summary.reason, summary.message), module.metadata.generation),
    });
  }

  private async writeFailure(module: ModuleObject, reason: string, message: string): Promise<void> {
    await patchStatusIfChanged(this.store, Module, module, {
      synced: false,
      syncStatus: `${reason === "InvalidSpec" ? "Invalid module spec" : "Failed to sync module"}: ${message}`,
      observedGeneration: module.metadata.generation,
      conditions: setConditions(module.status?.conditions, readiness(false, reason, message), module.metadata.generation),
    });
  }
}
