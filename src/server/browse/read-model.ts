// The browse API as typed functions over the in-memory catalog and the download-stats snapshot: what the HTTP
// routes serve and what the Registry Explorer pages render. Every function takes the request's Visibility and
// returns only what it allows; an invisible resource is reported exactly like a missing one (undefined).
import type { VersionObject } from "../../api/kinds.ts";
import { protocolVersion } from "../../api/naming.ts";
import type { SecurityFinding } from "../../api/types.ts";
import { dayOf, EMPTY_SNAPSHOT, lastDays, type StatsSnapshot } from "../../stats/types.ts";
import { BoundedMemo } from "../http.ts";
import { DEFAULT_YANK_GRACE_MS, lifecycleOf, type LifecyclePolicy } from "../lifecycle.ts";
import { compareNewestFirst } from "../../api/version.ts";
import type { BrowseCatalog } from "./catalog.ts";
import { DepotViews } from "./depots.ts";
import {
  addCounts,
  browseStorageConfig,
  countFindings,
  dedupeFindings,
  emptyCounts,
  healthOf,
  highestRank,
  scanSummary,
  SEVERITY_RANK,
  storageConfigOfResource,
  type ResourceSummary,
} from "./summary.ts";
import type {
  BrowseDepot,
  BrowseKind,
  BrowseResource,
  BrowseResourceDetail,
  BrowseScanFindings,
  BrowseStats,
  BrowseVersionSummary,
  DailyCount,
  DepotGraph,
  Page,
  ScanCounts,
  VersionsPage,
} from "./types.ts";
import { sorter, tieBreak, type SortKey } from "./sorting.ts";
import type { Visibility } from "./viewer.ts";

export { SORT_KEYS, type SortKey } from "./sorting.ts";
export const SEVERITIES = ["critical", "high", "medium", "low", "unknown"] as const;

export interface ResourceFilters {
  namespaces?: string[];
  kind?: BrowseKind;
  q?: string;
  synced?: boolean;
  os?: string;
  arch?: string;
  /** Resources with at least one finding at or above this severity. */
  severity?: keyof ScanCounts;
  sortBy?: SortKey;
  sortDir?: "asc" | "desc";
  page?: number;
  pageSize?: number;
}

export interface VersionFilters {
  q?: string;
  synced?: "true" | "false" | "progressing";
  os?: string;
  arch?: string;
  page?: number;
  pageSize?: number;
}


export class BrowseReadModel {
  private readonly now: () => number;
  private readonly depotViews: DepotViews;
  private readonly visibleMemo = new BoundedMemo<{ generation: string; list: ResourceSummary[] }>(1_000);
  private readonly statsMemo = new BoundedMemo<{ generation: string; body: BrowseStats }>(1_000);

  private readonly lifecycle: LifecyclePolicy;

  constructor(
    private readonly catalog: BrowseCatalog,
    private readonly stats: () => StatsSnapshot = () => EMPTY_SNAPSHOT,
    options: { now?: () => number; lifecycle?: LifecyclePolicy } = {},
  ) {
    this.now = options.now ?? Date.now;
    this.lifecycle = options.lifecycle ?? { yankGraceMs: DEFAULT_YANK_GRACE_MS, now: this.now };
    this.depotViews = new DepotViews(catalog, this.now, (vis) => this.visible(vis));
  }

  /** Changes whenever any answer for this caller may change: catalog, GroupBindings, counts, or the day. */
  generationFor(vis: Visibility): string {
    return `${this.catalog.generation}/${vis.bindingsGeneration}/${this.stats().generation}/${dayOf(this.now())}`;
  }

  // ---- namespaces ----
  /** Public (labelled) namespaces, plus those holding something this caller may see (`public: false`). */
  namespaces(vis: Visibility): { items: { name: string; public: boolean }[] } {
    const names = new Map<string, boolean>();
    for (const ns of this.catalog.publicNamespaceNames()) names.set(ns, true);
    if (!vis.publicOnly) for (const s of this.visible(vis)) if (!names.has(s.namespace)) names.set(s.namespace, false);
    return { items: [...names].sort(([a], [b]) => a.localeCompare(b)).map(([name, pub]) => ({ name, public: pub })) };
  }

  // ---- resources ----
  resources(vis: Visibility, f: ResourceFilters = {}): Page<BrowseResource> {
    const q = f.q?.toLowerCase();
    const namespaces = f.namespaces?.length ? new Set(f.namespaces) : undefined;
    const minRank = f.severity ? SEVERITY_RANK[f.severity] : undefined;
    const platformFilter = f.os || f.arch ? (v: VersionObject) => (!f.os || v.spec.operatingSystem === f.os) && (!f.arch || v.spec.architecture === f.arch) : undefined;
    const matched: { s: ResourceSummary; card: BrowseResource }[] = [];
    for (const s of this.visible(vis)) {
      if (namespaces && !namespaces.has(s.namespace)) continue;
      if (f.kind && s.kind !== f.kind) continue;
      if (q && !s.haystack.includes(q)) continue;
      if (f.synced !== undefined && s.synced !== f.synced) continue;
      const card = this.card(s, vis, s.kind === "provider" ? platformFilter : undefined);
      if (minRank !== undefined && highestRank(card.scanCounts) < minRank) continue;
      matched.push({ s, card });
    }
    const dir = f.sortDir === "desc" ? -1 : 1;
    const by = sorter(f.sortBy ?? "name");
    matched.sort((a, b) => dir * by(a.card, b.card) || tieBreak(a.card, b.card));
    const page = f.page ?? 1;
    const pageSize = f.pageSize ?? 20;
    return { items: matched.slice((page - 1) * pageSize, page * pageSize).map((m) => m.card), totalCount: matched.length, page, pageSize };
  }

  // ---- one resource ----
  detail(vis: Visibility, kind: BrowseKind, ns: string, name: string, options: { version?: string; days?: number } = {}): BrowseResourceDetail | undefined | "no-such-version" {
    const s = this.find(vis, kind, ns, name);
    if (!s) return undefined;
    const snap = this.stats();
    const card = this.card(s, vis);
    const o = s.object;
    const sourceScan = s.versions.find((v) => v.status?.sourceScan)?.status?.sourceScan;
    const binary = this.binaryLatestPerPlatform(s.versions);
    const config = o.kind === "Module" ? o.spec.moduleConfig : o.spec.providerConfig;
    const depot = this.depotViews.depotOf(vis, s);
    const detail: BrowseResourceDetail = {
      ...card,
      versions: s.versions.map((v) => this.versionSummary(s, v, snap)),
      ...(sourceScan?.findings?.length ? { sourceScanFindings: dedupeFindings(sourceScan.findings) } : {}),
      ...(Object.keys(binary).length ? { binaryScanFindings: binary } : {}),
      storageConfig: browseStorageConfig(storageConfigOfResource(o)),
      githubConfig: { useAuthenticatedClient: config.githubClientConfig?.useAuthenticatedClient === true },
      ...(depot ? { depotRef: { namespace: depot.metadata.namespace ?? ns, name: depot.metadata.name } } : {}),
      ...(o.kind === "Module" && o.spec.moduleConfig.repoOwner ? { repoOwner: o.spec.moduleConfig.repoOwner } : {}),
      ...(config.versionHistoryLimit !== undefined ? { versionHistoryLimit: config.versionHistoryLimit } : {}),
      ...(config.versionConstraints ? { versionConstraints: config.versionConstraints } : {}),
      ...(o.kind === "Provider" ? sourceRepositoryOf(o.spec.providerConfig.sourceRepository, o.status?.resolvedSourceRepository) : {}),
      downloadsSeries: series(snap.daily(ns, kind, name), options.days ?? 30, this.now()),
    };
    if (kind === "module") {
      let shown: VersionObject | undefined;
      if (options.version) {
        shown = s.versions.find((v) => protocolVersion(v.spec.version) === options.version);
        if (!shown) return "no-such-version";
      } else shown = s.versions.find((v) => healthOf(v) === "synced");
      if (shown) {
        const readme = this.catalog.readmeOf(shown);
        if (readme !== undefined) detail.readmeContent = readme;
        detail.documentationVersion = shown.spec.version;
      }
      detail.documentation = shown ? this.catalog.docsOf(shown) : null;
    }
    return detail;
  }

  versions(vis: Visibility, kind: BrowseKind, ns: string, name: string, f: VersionFilters = {}): VersionsPage | undefined {
    const s = this.find(vis, kind, ns, name);
    if (!s) return undefined;
    const snap = this.stats();
    const q = f.q?.toLowerCase();
    const os = new Set<string>();
    const arch = new Set<string>();
    const items: BrowseVersionSummary[] = [];
    for (const v of s.versions) {
      if (v.spec.operatingSystem) os.add(v.spec.operatingSystem);
      if (v.spec.architecture) arch.add(v.spec.architecture);
      if (q && !v.spec.version.toLowerCase().includes(q)) continue;
      if (f.os && v.spec.operatingSystem?.toLowerCase() !== f.os) continue;
      if (f.arch && v.spec.architecture?.toLowerCase() !== f.arch) continue;
      if (f.synced) {
        const h = healthOf(v);
        if ((f.synced === "true" && h !== "synced") || (f.synced === "false" && h !== "failed") || (f.synced === "progressing" && h !== "progressing")) continue;
      }
      items.push(this.versionSummary(s, v, snap));
    }
    const page = f.page ?? 1;
    const pageSize = f.pageSize ?? 20;
    return {
      items: items.slice((page - 1) * pageSize, page * pageSize),
      totalCount: items.length,
      page,
      pageSize,
      ...(os.size ? { availableOS: [...os].sort() } : {}),
      ...(arch.size ? { availableArch: [...arch].sort() } : {}),
    };
  }

  scanFindings(vis: Visibility, kind: BrowseKind, ns: string, name: string, options: { version?: string; binaryVersion?: string } = {}): BrowseScanFindings | undefined {
    const s = this.find(vis, kind, ns, name);
    if (!s) return undefined;
    const scanned = s.versions.filter((v) => v.status?.sourceScan);
    const scannedVersions = unique(scanned.map((v) => protocolVersion(v.spec.version)));
    const selected = (options.version && scannedVersions.includes(options.version) ? options.version : undefined) ?? scannedVersions[0];
    const source = selected ? scanned.find((v) => protocolVersion(v.spec.version) === selected)?.status?.sourceScan : undefined;
    const out: BrowseScanFindings = {
      ...(source?.findings?.length ? { sourceScanFindings: dedupeFindings(source.findings) } : {}),
      ...(selected ? { selectedVersion: selected } : {}),
      ...(scannedVersions.length ? { scannedVersions } : {}),
    };
    if (kind === "provider") {
      const binary = options.binaryVersion
        ? this.binaryAt(s.versions, options.binaryVersion)
        : this.binaryLatestPerPlatform(s.versions);
      if (Object.keys(binary).length) out.binaryScanFindings = binary;
      const binaryVersions = unique(s.versions.filter((v) => v.status?.binaryScan?.findings?.length).map((v) => protocolVersion(v.spec.version)));
      if (binaryVersions.length) out.binaryVersions = binaryVersions;
    }
    return out;
  }

  // ---- depots ----
  depots(vis: Visibility, ns?: string): { items: BrowseDepot[] } {
    return this.depotViews.depots(vis, ns);
  }

  graph(vis: Visibility, ns?: string): DepotGraph {
    return this.depotViews.graph(vis, ns);
  }

  // ---- stats ----
  /** Memoised per caller, namespace and series length until the catalog, the bindings, the counts or the day change. */
  registryStats(vis: Visibility, ns?: string, days = 30): BrowseStats {
    const snap = this.stats();
    const key = vis.cacheKey === undefined ? undefined : `${vis.cacheKey}|${ns ?? ""}|${days}`;
    const generation = `${this.catalog.generation}/${vis.bindingsGeneration}/${snap.generation}/${dayOf(this.now())}`;
    const memo = key === undefined ? undefined : this.statsMemo.get(key);
    if (memo && memo.generation === generation) return memo.body;
    const body = this.computeStats(vis, snap, ns, days);
    if (key !== undefined) this.statsMemo.set(key, { generation, body });
    return body;
  }

  private computeStats(vis: Visibility, snap: StatsSnapshot, ns: string | undefined, days: number): BrowseStats {
    const out: BrowseStats = {
      totalModules: 0,
      totalProviders: 0,
      totalDepots: this.depotViews.visibleDepots(vis, ns).length,
      totalVersions: 0,
      totalStorageBytes: 0,
      totalDownloads: 0,
      syncHealth: { syncedVersions: 0, unsyncedVersions: 0, failedVersions: 0 },
      securityPosture: { ...emptyCounts(), totalAffectedResources: 0 },
      storageDistribution: [],
      mostDownloaded: [],
      downloadsSeries: [],
    };
    const backends = new Map<string, number>();
    const perDay = new Map<string, number>();
    const popular: BrowseStats["mostDownloaded"] = [];
    for (const s of this.visible(vis)) {
      if (ns && s.namespace !== ns) continue;
      if (s.kind === "module") out.totalModules++;
      else out.totalProviders++;
      out.totalVersions += s.versions.length;
      out.totalStorageBytes += s.storageBytes;
      out.syncHealth.syncedVersions += s.health.synced;
      out.syncHealth.unsyncedVersions += s.health.progressing;
      out.syncHealth.failedVersions += s.health.failed;
      addCounts(out.securityPosture, s.posture);
      out.securityPosture.totalAffectedResources += s.affectedVersions;
      backends.set(s.storageBackend, (backends.get(s.storageBackend) ?? 0) + 1);
      // Downloads of visible resources only (v0.9 reported the global counter to everyone).
      out.totalDownloads += snap.resource(s.namespace, s.kind, s.name)?.count ?? 0;
      for (const [day, n] of snap.daily(s.namespace, s.kind, s.name) ?? []) perDay.set(day, (perDay.get(day) ?? 0) + n);
      for (const v of s.statsVersions) {
        const c = snap.version(s.namespace, s.kind, s.name, v.version);
        if (c?.count) popular.push({ namespace: s.namespace, kind: s.kind, name: s.name, version: v.version, downloadCount: c.count, ...(c.lastAt ? { lastDownloadedAt: c.lastAt } : {}) });
      }
    }
    out.storageDistribution = [...backends].sort(([a], [b]) => a.localeCompare(b)).map(([backend, count]) => ({ backend, count }));
    out.mostDownloaded = popular.sort((a, b) => b.downloadCount - a.downloadCount || `${a.namespace}/${a.name}/${a.version}`.localeCompare(`${b.namespace}/${b.name}/${b.version}`)).slice(0, 10);
    out.downloadsSeries = series(perDay, days, this.now());
    return out;
  }

  // ---- helpers ----
  /** What this caller may see, memoised per caller until the catalog or the bindings change. */
  private visible(vis: Visibility): ResourceSummary[] {
    const key = vis.cacheKey;
    const generation = `${this.catalog.generation}/${vis.bindingsGeneration}`;
    const memo = key === undefined ? undefined : this.visibleMemo.get(key);
    if (memo && memo.generation === generation) return memo.list;
    const list = this.catalog.summaries().filter((s) => vis.resource(s.kind, s.namespace, s.name, s.labelledPublic));
    if (key !== undefined) this.visibleMemo.set(key, { generation, list });
    return list;
  }

  private find(vis: Visibility, kind: BrowseKind, ns: string, name: string): ResourceSummary | undefined {
    const s = this.catalog.summary(kind, ns, name);
    return s && vis.resource(kind, ns, name, s.labelledPublic) ? s : undefined;
  }

  private card(s: ResourceSummary, vis: Visibility, platform?: (v: VersionObject) => boolean): BrowseResource {
    const downloads = this.stats().resource(s.namespace, s.kind, s.name);
    const scan = platform ? scanSummary(s.kind, s.versions, s.latestVersion, platform) : { scanCounts: s.scanCounts, lastScanned: s.lastScanned };
    const platforms = platform ? s.platforms.filter((p) => s.versions.some((v) => v.spec.operatingSystem === p.os && v.spec.architecture === p.arch && platform(v))) : s.platforms;
    return {
      kind: s.kind,
      namespace: s.namespace,
      name: s.name,
      ...(s.latestVersion ? { latestVersion: s.latestVersion } : {}),
      synced: s.synced,
      ...(s.syncStatus ? { syncStatus: s.syncStatus } : {}),
      ...(s.hasUnsyncedVersions ? { hasUnsyncedVersions: true } : {}),
      ...(s.provider ? { provider: s.provider } : {}),
      ...(s.repoUrl ? { repoUrl: s.repoUrl } : {}),
      ...(s.providerNamespace ? { providerNamespace: s.providerNamespace } : {}),
      ...(s.kind === "provider" ? { platforms } : {}),
      ...(scan.scanCounts ? { scanCounts: scan.scanCounts } : {}),
      ...(scan.lastScanned ? { lastScanned: scan.lastScanned } : {}),
      public: vis.isPublic(s.namespace, s.labelledPublic),
      totalDownloads: downloads?.count ?? 0,
      ...(downloads?.lastAt ? { lastDownloadedAt: downloads.lastAt } : {}),
    };
  }

  private versionSummary(s: ResourceSummary, v: VersionObject, snap: StatsSnapshot): BrowseVersionSummary {
    const findings = [...dedupeFindings(v.status?.sourceScan?.findings), ...dedupeFindings(v.status?.binaryScan?.findings)];
    const scans = [v.status?.sourceScan?.scannedAt, v.status?.binaryScan?.scannedAt].filter((x): x is string => !!x).sort();
    const downloads = snap.version(s.namespace, s.kind, s.name, protocolVersion(v.spec.version));
    return {
      name: v.metadata.name,
      version: v.spec.version,
      synced: v.status?.synced === true,
      ...(v.status?.syncStatus ? { syncStatus: v.status.syncStatus } : {}),
      ...(v.spec.operatingSystem ? { os: v.spec.operatingSystem } : {}),
      ...(v.spec.architecture ? { arch: v.spec.architecture } : {}),
      ...(v.status?.sourceScan || v.status?.binaryScan ? { scanCounts: countFindings(findings) } : {}),
      ...(scans.length ? { lastScanned: scans.at(-1) } : {}),
      ...(v.spec.fileName ? { fileName: v.spec.fileName } : {}),
      ...(v.status?.checksum ? { checksum: v.status.checksum } : {}),
      ...(downloads?.count ? { downloadCount: downloads.count } : {}),
      ...(downloads?.lastAt ? { lastDownloadedAt: downloads.lastAt } : {}),
      ...(v.status?.archiveSizeBytes ? { archiveSizeBytes: v.status.archiveSizeBytes } : {}),
      ...definedOnly(lifecycleOf(v, this.lifecycle)),
    };
  }

  /** Per `os/arch`: the binary findings of the newest Version of that platform that has a binary scan. */
  private binaryLatestPerPlatform(versions: VersionObject[]): Record<string, SecurityFinding[]> {
    const out: Record<string, SecurityFinding[]> = {};
    for (const v of versions) {
      const scan = v.status?.binaryScan;
      if (!scan || !v.spec.operatingSystem || !v.spec.architecture) continue;
      const key = `${v.spec.operatingSystem}/${v.spec.architecture}`;
      if (!(key in out)) out[key] = dedupeFindings(scan.findings);
    }
    return Object.fromEntries(Object.entries(out).filter(([, f]) => f.length > 0));
  }

  private binaryAt(versions: VersionObject[], version: string): Record<string, SecurityFinding[]> {
    const out: Record<string, SecurityFinding[]> = {};
    for (const v of versions) {
      if (protocolVersion(v.spec.version) !== version || !v.status?.binaryScan?.findings?.length) continue;
      out[`${v.spec.operatingSystem}/${v.spec.architecture}`] = dedupeFindings(v.status.binaryScan.findings);
    }
    return out;
  }

}

function sourceRepositoryOf(spec: string | undefined, resolved: string | undefined): { sourceRepository?: string } {
  const repo = spec || resolved;
  return repo ? { sourceRepository: repo } : {};
}

function unique(versions: string[]): string[] {
  return [...new Set(versions)].sort(compareNewestFirst);
}

/** `days` UTC days ending today, oldest first, zero-filled. */
export function series(perDay: ReadonlyMap<string, number> | undefined, days: number, nowMs: number): DailyCount[] {
  return lastDays(days, nowMs).map((date) => ({ date, count: perDay?.get(date) ?? 0 }));
}

/** `{ deprecated, yanked }` without the keys that are undefined (the JSON stays v0.9's shape for other versions). */
function definedOnly<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
