// The Depot views of the browse API: the flat list, the relationship graph (edges from each Depot's status), and
// which Depot manages a resource — all restricted to what the caller may see.
import type { DepotObject } from "../../api/kinds.ts";
import { LABELS } from "../../api/meta.ts";
import type { BrowseCatalog } from "./catalog.ts";
import { storageBackendOf, type ResourceSummary } from "./summary.ts";
import type { BrowseDepot, BrowseKind, DepotGraph } from "./types.ts";
import type { Visibility } from "./viewer.ts";

export class DepotViews {
  constructor(
    private readonly catalog: BrowseCatalog,
    private readonly now: () => number,
    private readonly visible: (vis: Visibility) => ResourceSummary[],
  ) {}

  depots(vis: Visibility, ns?: string): { items: BrowseDepot[] } {
    return {
      items: this.visibleDepots(vis, ns).map((d) => ({
        namespace: d.metadata.namespace ?? "default",
        name: d.metadata.name,
        modules: this.managed(vis, d, "module"),
        providers: this.managed(vis, d, "provider"),
        ...(d.spec.pollingIntervalMinutes !== undefined ? { pollingIntervalMinutes: d.spec.pollingIntervalMinutes } : {}),
        storageBackend: d.spec.global?.storageConfig ? storageBackendOf(d.spec.global.storageConfig) : "unknown",
      })),
    };
  }

  graph(vis: Visibility, ns?: string): DepotGraph {
    const depots = this.visibleDepots(vis, ns);
    const resources = this.visible(vis).filter((s) => !ns || s.namespace === ns);
    const depotIdOf = new Map<string, string>();
    const edges: DepotGraph["edges"] = [];
    const graphDepots = depots.map((d) => {
      const dns = d.metadata.namespace ?? "default";
      const id = `depot/${dns}/${d.metadata.name}`;
      const managedModuleNames = this.managed(vis, d, "module");
      const managedProviderNames = this.managed(vis, d, "provider");
      for (const [kind, names] of [["module", managedModuleNames], ["provider", managedProviderNames]] as const) {
        for (const n of names) {
          const target = `${kind}/${dns}/${n}`;
          if (!depotIdOf.has(target)) depotIdOf.set(target, id);
          edges.push({ id: `edge/${id}/${target}`, source: id, target });
        }
      }
      return {
        id,
        namespace: dns,
        name: d.metadata.name,
        storageBackend: d.spec.global?.storageConfig ? storageBackendOf(d.spec.global.storageConfig) : "unknown",
        ...(d.spec.pollingIntervalMinutes !== undefined ? { pollingIntervalMinutes: d.spec.pollingIntervalMinutes } : {}),
        managedModuleNames,
        managedProviderNames,
      };
    });
    const modules: DepotGraph["modules"] = [];
    const providers: DepotGraph["providers"] = [];
    for (const s of resources) {
      const id = `${s.kind}/${s.namespace}/${s.name}`;
      if (s.kind === "module") {
        const depotID = depotIdOf.get(id);
        modules.push({
          id,
          namespace: s.namespace,
          name: s.name,
          ...(s.provider ? { provider: s.provider } : {}),
          synced: s.synced,
          ...(s.syncStatus ? { syncStatus: s.syncStatus } : {}),
          ...(s.repoUrl ? { repoURL: s.repoUrl } : {}),
          ...(s.latestVersion ? { latestVersion: s.latestVersion } : {}),
          ...(depotID ? { depotID } : {}),
          ...(s.scanCounts ? { scanCounts: s.scanCounts } : {}),
        });
      } else providers.push({ id, namespace: s.namespace, name: s.name, ...(s.providerNamespace ? { providerNamespace: s.providerNamespace } : {}), synced: s.synced });
    }
    return {
      depots: graphDepots,
      modules,
      providers,
      edges,
      summary: { totalDepots: graphDepots.length, totalModules: modules.length, totalProviders: providers.length },
      generatedAt: new Date(this.now()).toISOString(),
    };
  }


  visibleDepots(vis: Visibility, ns?: string): DepotObject[] {
    return this.catalog
      .depots()
      .filter((d) => (!ns || d.metadata.namespace === ns) && vis.depot(d.metadata.namespace ?? "default", d.metadata.labels?.[LABELS.public] === "true"))
      .sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`));
  }

  /** The names a Depot manages, restricted to the resources this caller may see. */
  private managed(vis: Visibility, d: DepotObject, kind: BrowseKind): string[] {
    const ns = d.metadata.namespace ?? "default";
    const names = (kind === "module" ? d.status?.modules : d.status?.providers) ?? [];
    return [...new Set(names)].filter((n) => {
      const s = this.catalog.summary(kind, ns, n);
      return s && vis.resource(kind, ns, n, s.labelledPublic);
    });
  }

  /** The visible Depot managing a resource: its label, else the first Depot in its namespace listing it. */
  depotOf(vis: Visibility, s: ResourceSummary): DepotObject | undefined {
    const label = s.object.metadata.labels?.[LABELS.depot];
    const candidates = this.visibleDepots(vis, s.namespace);
    return (
      (label ? candidates.find((d) => d.metadata.name === label) : undefined) ??
      candidates.find((d) => ((s.kind === "module" ? d.status?.modules : d.status?.providers) ?? []).includes(s.name))
    );
  }
}
