// Module controller: one Version per declared version (owned by the Module), garbage collection of removed or
// trimmed versions, forceSync propagated to every Version then reset, and a status that reflects the Versions.
import { Module, Version, type ModuleObject, type VersionObject } from "../api/kinds.ts";
import { LABELS, type KubeObject } from "../api/meta.ts";
import { artifactFileName, moduleArchiveFormat, moduleVersionName, protocolVersion } from "../api/naming.ts";
import type { ResourceStore } from "../store/types.ts";
import type { StoragePolicy } from "../storage/policy.ts";
import type { ObjectCache } from "../store/multi-namespace-cache.ts";
import { readiness, setConditions } from "./conditions.ts";
import { ownerLabels, reconcileChildren, type DesiredVersion } from "./children.ts";
import type { Controller, ControllerManager, ObjectKey, ReconcileContext } from "./manager.ts";
import { storageRefusal } from "./storage-check.ts";
import { summarizeVersions } from "./summary.ts";
import { depotListOf, planVersions } from "./versions-plan.ts";
import { patchSpec, patchStatusIfChanged } from "./writes.ts";

export const MODULE_CONTROLLER = "module";

/** Versions wake the Module they belong to. */
export function ownerKeys(label: string) {
  return (obj: KubeObject): ObjectKey[] => {
    const owner = obj.metadata.labels?.[label] ?? obj.metadata.ownerReferences?.find((r) => r.controller)?.name;
    return owner ? [{ namespace: obj.metadata.namespace ?? "", name: owner }] : [];
  };
}

export class ModuleController implements Controller {
  readonly name = MODULE_CONTROLLER;
  readonly kind = Module;
  readonly watches = [{ kind: Version, map: ownerKeys(LABELS.module) }];
  private readonly modules: ObjectCache<ModuleObject>;
  private readonly versions: ObjectCache<VersionObject>;

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
    const config = module.spec.moduleConfig;
    const plan = planVersions(module.spec.versions.map((v) => v.version), config.versionHistoryLimit, depotListOf(module));
    const extension = moduleArchiveFormat(config.fileFormat) === "zip" ? ".zip" : ".tar.gz";
    const labels = ownerLabels(LABELS.module, module);
    const moduleConfigRef = { ...structuredClone(config), name: config.name ?? module.metadata.name };
    const desired: DesiredVersion[] = plan.keep.map((version) => ({
      name: moduleVersionName(module.metadata.name, version),
      labels,
      spec: { type: "Module", version, moduleConfigRef, fileName: artifactFileName(extension) },
      wantedBy: plan.owners.get(version) ?? [],
    }));
    const trimmed = new Set(plan.trimmed.map((version) => moduleVersionName(module.metadata.name, version)));
    const existing = this.versions.list(key.namespace).filter((v) => v.metadata.labels?.[LABELS.module] === module.metadata.name || v.metadata.ownerReferences?.some((r) => r.uid === module.metadata.uid));
    const children = await reconcileChildren(this.store, module, desired, existing, { forceSync: module.spec.forceSync === true, log, trimmed });
    if (children.created.length || children.deleted.length) log.info("module versions reconciled", { created: children.created, deleted: children.deleted });
    if (module.spec.forceSync) await patchSpec(this.store, Module, module, { forceSync: false });

    const refs: Record<string, { name: string; fileName?: string }> = {};
    for (const version of plan.keep) {
      const name = moduleVersionName(module.metadata.name, version);
      const v = children.current.get(name);
      refs[version] = { name, ...(v?.spec.fileName ? { fileName: v.spec.fileName } : {}) };
    }
    const summary = storageRefusal(this.storagePolicy, key.namespace, module.spec.moduleConfig.storageConfig, "spec.moduleConfig.storageConfig") ?? summarizeVersions("module", [...children.current.values()], plan, children.foreign);
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
}
