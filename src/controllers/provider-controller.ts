// Provider controller: one Version per version × OS × architecture (`aws-5-80-0-linux-amd64`), owned by the
// Provider, with the same garbage collection, history limit, forceSync and status rules as modules (the shared
// skeleton is version-owner.ts).
import { Provider, Version, type ProviderObject } from "../api/kinds.ts";
import { LABELS } from "../api/meta.ts";
import { providerVersionName } from "../api/naming.ts";
import type { ResourceStore } from "../store/types.ts";
import type { StoragePolicy } from "../storage/policy.ts";
import { lifecycleOf, ownerLabels, type DesiredVersion } from "./children.ts";
import type { Controller, ControllerManager } from "./manager.ts";
import { ownerKeys } from "./module-controller.ts";
import { VersionOwnerController, type WantedVersions } from "./version-owner.ts";
import { depotListOf, planVersions } from "./versions-plan.ts";

export const PROVIDER_CONTROLLER = "provider";
const PLATFORM = /^[a-z0-9][a-z0-9_]{0,31}$/;

export class ProviderController extends VersionOwnerController<ProviderObject> implements Controller {
  readonly name = PROVIDER_CONTROLLER;
  readonly watches = [{ kind: Version, map: ownerKeys(LABELS.provider) }];

  constructor(store: ResourceStore, manager: ControllerManager, storagePolicy?: () => StoragePolicy) {
    super(store, manager, Provider, LABELS.provider, "provider", "providerVersionRefs", storagePolicy);
  }

  protected wanted(provider: ProviderObject): WantedVersions {
    const config = provider.spec.providerConfig;
    const problems: string[] = [];
    const oses = [...new Set(config.operatingSystems ?? [])];
    const arches = [...new Set(config.architectures ?? [])];
    if (!oses.length) problems.push("the provider operatingSystems field cannot be empty");
    if (!arches.length) problems.push("the provider architectures field cannot be empty");
    for (const p of [...oses, ...arches]) if (!PLATFORM.test(p)) problems.push(`"${p.slice(0, 32)}" is not a valid operating system or architecture (lowercase letters, digits, _)`);

    const plan = planVersions(provider.spec.versions.map((v) => v.version), config.versionHistoryLimit, depotListOf(provider));
    if (problems.length) plan.invalid.push(...problems);
    const marks = ownerLabels(LABELS.provider, provider);
    const providerConfigRef = { ...structuredClone(config), name: config.name ?? provider.metadata.name, namespace: config.namespace?.trim() || "hashicorp" };
    const desired: DesiredVersion[] = [];
    const refs: Record<string, { name: string; version: string; operatingSystem: string; architecture: string }> = {};
    if (!problems.length) {
      for (const raw of plan.keep) {
        const version = raw.trim().replace(/^v/i, "");
        const lifecycle = lifecycleOf([...provider.spec.versions, ...(provider.spec.depotVersions ?? [])], raw);
        for (const os of oses) {
          for (const arch of arches) {
            const name = providerVersionName(provider.metadata.name, version, os, arch);
            desired.push({
              name,
              labels: { ...marks.labels, [LABELS.providerOS]: os, [LABELS.providerArch]: arch },
              annotations: marks.annotations,
              spec: { type: "Provider", version, operatingSystem: os, architecture: arch, providerConfigRef, ...lifecycle },
              wantedBy: plan.owners.get(raw) ?? [],
            });
            refs[`${version}-${os}-${arch}`] = { name, version, operatingSystem: os, architecture: arch };
          }
        }
      }
    }
    const trimmed = new Set(plan.trimmed.flatMap((raw) => oses.flatMap((os) => arches.map((arch) => providerVersionName(provider.metadata.name, raw.trim().replace(/^v/i, ""), os, arch)))));
    // With an invalid platform list nothing is desired; keep what exists rather than deleting every build.
    const storage = { config: config.storageConfig, field: "spec.providerConfig.storageConfig" };
    return { plan, desired, trimmed, ownerLabel: marks.labels[LABELS.provider], storage, hold: problems.length > 0, refs: () => refs };
  }
}
