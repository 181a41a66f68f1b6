// Provider controller: one Version per version × OS × architecture (`aws-5-80-0-linux-amd64`), owned by the
// Provider, with the same garbage collection, history limit, forceSync and status rules as modules.
import { Provider, Version, type ProviderObject, type VersionObject } from "../api/kinds.ts";
import { LABELS } from "../api/meta.ts";
import { protocolVersion, providerVersionName, unservableName } from "../api/naming.ts";
import type { ObjectCache } from "../store/multi-namespace-cache.ts";
import type { ResourceStore } from "../store/types.ts";
import type { StoragePolicy } from "../storage/policy.ts";
import { lifecycleOf, ownerLabels, reconcileChildren, RefusedCreates, type DesiredVersion } from "./children.ts";
import { describeError, readiness, setConditions } from "./conditions.ts";
import type { Controller, ControllerManager, ObjectKey, ReconcileContext } from "./manager.ts";
import { ownerKeys } from "./module-controller.ts";
import { storageRefusal } from "./storage-check.ts";
import { summarizeVersions } from "./summary.ts";
import { depotListOf, planVersions } from "./versions-plan.ts";
import { patchSpec, patchStatusIfChanged } from "./writes.ts";

export const PROVIDER_CONTROLLER = "provider";
const PLATFORM = /^[a-z0-9][a-z0-9_]{0,31}$/;

export class ProviderController implements Controller {
  readonly name = PROVIDER_CONTROLLER;
  readonly kind = Provider;
  readonly watches = [{ kind: Version, map: ownerKeys(LABELS.provider) }];
  private readonly providers: ObjectCache<ProviderObject>;
  private readonly versions: ObjectCache<VersionObject>;
  private readonly refusedCreates = new RefusedCreates();

  constructor(
    private readonly store: ResourceStore,
    manager: ControllerManager,
    private readonly storagePolicy?: () => StoragePolicy,
  ) {
    this.providers = manager.cache<ProviderObject>(Provider);
    this.versions = manager.cache<VersionObject>(Version);
  }

  async reconcile(key: ObjectKey, { log }: ReconcileContext) {
    const provider = this.providers.get(key.namespace, key.name);
    if (!provider || provider.metadata.deletionTimestamp) return;
    const unservable = unservableName(provider.metadata.name);
    if (unservable) return this.writeFailure(provider, "InvalidSpec", unservable);
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
    const existing = this.versions.list(key.namespace).filter((v) => v.metadata.labels?.[LABELS.provider] === marks.labels[LABELS.provider] || v.metadata.ownerReferences?.some((r) => r.uid === provider.metadata.uid));
    // With an invalid platform list nothing is desired; keep what exists rather than deleting every build.
    let children;
    try {
      children = problems.length
        ? { created: [], deleted: [], foreign: [], refused: [], current: new Map(existing.map((v) => [v.metadata.name, v])) }
        : await reconcileChildren(this.store, provider, desired, existing, { forceSync: provider.spec.forceSync === true, log, trimmed, refusedCreates: this.refusedCreates });
    } catch (e) {
      // Retried with backoff by the manager; meanwhile the columns and conditions say why.
      await this.writeFailure(provider, "VersionWriteFailed", `could not write this provider's Versions: ${describeError(e)}`).catch((statusError) => log.warn("could not report the failure in status", { error: statusError }));
      throw e;
    }
    if (children.refused.length) log.warn("provider versions refused by the API", { refused: children.refused });
    if (children.created.length || children.deleted.length) log.info("provider versions reconciled", { created: children.created, deleted: children.deleted });
    if (provider.spec.forceSync) await patchSpec(this.store, Provider, provider, { forceSync: false });

    const summary = storageRefusal(this.storagePolicy, key.namespace, provider.spec.providerConfig.storageConfig, "spec.providerConfig.storageConfig") ?? summarizeVersions("provider", [...children.current.values()], { ...plan, invalid: [...plan.invalid, ...children.refused] }, children.foreign);
    await patchStatusIfChanged(this.store, Provider, provider, {
      latestVersion: plan.latest ?? null,
      latestServedVersion: plan.keep[0] ? protocolVersion(plan.keep[0]) : null,
      providerVersionRefs: refs,
      synced: summary.synced,
      syncStatus: summary.syncStatus,
      observedGeneration: provider.metadata.generation,
      conditions: setConditions(provider.status?.conditions, readiness(summary.ready, summary.reason, summary.message), provider.metadata.generation),
    });
  }

  private async writeFailure(provider: ProviderObject, reason: string, message: string): Promise<void> {
    await patchStatusIfChanged(this.store, Provider, provider, {
      synced: false,
      syncStatus: `${reason === "InvalidSpec" ? "Invalid provider spec" : "Failed to sync provider"}: ${message}`,
      observedGeneration: provider.metadata.generation,
      conditions: setConditions(provider.status?.conditions, readiness(false, reason, message), provider.metadata.generation),
    });
  }
}
