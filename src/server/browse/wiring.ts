// Builds the browse API and the download counting over the server's caches: the catalog, the read model, the
// stats targets (which resources and versions the counter store is asked about) and the delivery hook.
import type { VersionObject } from "../../api/kinds.ts";
import { protocolVersion } from "../../api/naming.ts";
import type { DownloadStats } from "../../stats/types.ts";
import type { LifecyclePolicy } from "../lifecycle.ts";
import { ownerNameOf } from "../registry-index.ts";
import { BrowseCatalog, type CatalogFeeds } from "./catalog.ts";
import { BrowseReadModel } from "./read-model.ts";
import type { BrowseDeps } from "./routes.ts";
import type { BrowseAuth } from "./viewer.ts";

export function createBrowse(feeds: CatalogFeeds, stats: DownloadStats, auth: BrowseAuth, lifecycle?: LifecyclePolicy): BrowseDeps & { close(): void } {
  const catalog = new BrowseCatalog(feeds);
  const model = new BrowseReadModel(catalog, () => stats.snapshot(), { lifecycle });
  stats.setTargets(() =>
    catalog.summaries().map((s) => ({ namespace: s.namespace, kind: s.kind, name: s.name, versions: s.statsVersions })),
  );
  return { catalog, model, auth, close: () => catalog.close() };
}

/** The delivery hook: one download event for the Module or Provider a served Version belongs to. */
export function countDownloads(stats: DownloadStats): (v: VersionObject) => void {
  return (v) => {
    const name = ownerNameOf(v);
    if (!name) return;
    stats.record({ namespace: v.metadata.namespace ?? "default", kind: v.spec.type === "Module" ? "module" : "provider", name, version: protocolVersion(v.spec.version), at: Date.now() });
  };
}
