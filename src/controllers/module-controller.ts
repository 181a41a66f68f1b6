// Module controller: one Version per declared version (owned by the Module), garbage collection of removed or
// trimmed versions, forceSync propagated to every Version then reset, and a status that reflects the Versions
// (the skeleton shared with providers is version-owner.ts).
import { Module, Version, type ModuleObject, type VersionObject } from "../api/kinds.ts";
import { LABELS, type KubeObject } from "../api/meta.ts";
import { artifactFileName, moduleArchiveFormat, moduleVersionName, ownerNameFrom } from "../api/naming.ts";
import type { ResourceStore } from "../store/types.ts";
import type { StoragePolicy } from "../storage/policy.ts";
import { lifecycleOf, ownerLabels, type DesiredVersion } from "./children.ts";
import type { Controller, ControllerManager, ObjectKey } from "./manager.ts";
import { VersionOwnerController, type WantedVersions } from "./version-owner.ts";
import { depotListOf, planVersions } from "./versions-plan.ts";

export const MODULE_CONTROLLER = "module";

/** Versions wake the Module they belong to. */
export function ownerKeys(label: string) {
  return (obj: KubeObject): ObjectKey[] => {
    const owner = obj.metadata.ownerReferences?.find((r) => r.controller)?.name ?? ownerNameFrom(obj.metadata, label);
    return owner ? [{ namespace: obj.metadata.namespace ?? "", name: owner }] : [];
  };
}

export class ModuleController extends VersionOwnerController<ModuleObject> implements Controller {
  readonly name = MODULE_CONTROLLER;
  readonly watches = [{ kind: Version, map: ownerKeys(LABELS.module) }];

  constructor(store: ResourceStore, manager: ControllerManager, storagePolicy?: () => StoragePolicy) {
    super(store, manager, Module, LABELS.module, "module", "moduleVersionRefs", storagePolicy);
  }

  protected wanted(module: ModuleObject): WantedVersions {
    const config = module.spec.moduleConfig;
    const plan = planVersions(module.spec.versions.map((v) => v.version), config.versionHistoryLimit, depotListOf(module));
    const extension = moduleArchiveFormat(config.fileFormat) === "zip" ? ".zip" : ".tar.gz";
    const marks = ownerLabels(LABELS.module, module);
    const moduleConfigRef = { ...structuredClone(config), name: config.name ?? module.metadata.name };
    const nameOf = (version: string) => moduleVersionName(module.metadata.name, version);
    const desired: DesiredVersion[] = plan.keep.map((version) => ({
      name: nameOf(version),
      labels: marks.labels,
      annotations: marks.annotations,
      spec: { type: "Module", version, moduleConfigRef, fileName: artifactFileName(extension), ...lifecycleOf([...module.spec.versions, ...(module.spec.depotVersions ?? [])], version) },
      wantedBy: plan.owners.get(version) ?? [],
    }));
    return {
      plan,
      desired,
      trimmed: new Set(plan.trimmed.map(nameOf)),
      ownerLabel: marks.labels[LABELS.module],
      storage: { config: config.storageConfig, field: "spec.moduleConfig.storageConfig" },
      refs: (current: ReadonlyMap<string, VersionObject>) => {
        const refs: Record<string, { name: string; fileName?: string }> = {};
        for (const version of plan.keep) {
          const name = nameOf(version);
          const v = current.get(name);
          refs[version] = { name, ...(v?.spec.fileName ? { fileName: v.spec.fileName } : {}) };
        }
        return refs;
      },
    };
  }
}
