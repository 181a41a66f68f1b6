// What the browse API knows about one Module or Provider, computed once per change of it or its Versions (never
// per request): its card fields, its Versions in semver order, and the aggregates `stats` sums up.
import type { ModuleObject, ProviderObject, VersionObject } from "../../api/kinds.ts";
import { LABELS } from "../../api/meta.ts";
import { protocolVersion } from "../../api/naming.ts";
import type { SecurityFinding, StorageConfig } from "../../api/types.ts";
import { compareSemverDesc } from "../semver-order.ts";
import type { BrowseKind, BrowseStorageConfig, Platform, ScanCounts } from "./types.ts";

export type VersionHealth = "synced" | "failed" | "progressing";

/** v0.9's rule (syncStatus mentioning failed/error), plus our Synced condition when it says False for a reason. */
export function healthOf(v: VersionObject): VersionHealth {
  const text = (v.status?.syncStatus ?? "").toLowerCase();
  if (text.includes("failed") || text.includes("error")) return "failed";
  if (v.status?.synced === true) return "synced";
  const cond = v.status?.conditions?.find((c) => c.type === "Synced");
  if (cond?.status === "False" && !/progress|pending|waiting/i.test(cond.reason)) return "failed";
  return "progressing";
}

export const emptyCounts = (): ScanCounts => ({ critical: 0, high: 0, medium: 0, low: 0, unknown: 0 });

export const SEVERITY_RANK: Record<keyof ScanCounts, number> = { unknown: 0, low: 1, medium: 2, high: 3, critical: 4 };

export function addCounts(into: ScanCounts, from: ScanCounts): ScanCounts {
  into.critical += from.critical;
  into.high += from.high;
  into.medium += from.medium;
  into.low += from.low;
  into.unknown += from.unknown;
  return into;
}

export const totalOf = (c: ScanCounts) => c.critical + c.high + c.medium + c.low + c.unknown;

/** The highest severity with at least one finding (-1 for none). */
export function highestRank(c: ScanCounts | undefined): number {
  if (!c) return -1;
  for (const k of ["critical", "high", "medium", "low", "unknown"] as const) if (c[k] > 0) return SEVERITY_RANK[k];
  return -1;
}

/** Findings without duplicates (same id, package and installed version), order kept. */
export function dedupeFindings(findings: readonly SecurityFinding[] | undefined): SecurityFinding[] {
  const seen = new Set<string>();
  const out: SecurityFinding[] = [];
  for (const f of findings ?? []) {
    const key = `${f.vulnerabilityID}|${f.pkgName}|${f.installedVersion}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(f);
    }
  }
  return out;
}

export function countFindings(findings: readonly SecurityFinding[]): ScanCounts {
  const c = emptyCounts();
  for (const f of findings) {
    const s = (f.severity ?? "").toLowerCase();
    if (s === "critical" || s === "high" || s === "medium" || s === "low") c[s]++;
    else c.unknown++;
  }
  return c;
}

export function storageBackendOf(config: StorageConfig | undefined): BrowseStorageConfig["backend"] {
  if (!config) return "fileSystem"; // every role's default storage is a directory
  if (config.s3) return "s3";
  if (config.azureStorage) return "azureStorage";
  if (config.gcs) return "gcs";
  if (config.fileSystem) return "fileSystem";
  return "unknown";
}

export function browseStorageConfig(config: StorageConfig | undefined): BrowseStorageConfig {
  return {
    backend: storageBackendOf(config),
    ...(config?.s3 ? { bucket: config.s3.bucket, region: config.s3.region, ...(config.s3.key ? { key: config.s3.key } : {}) } : {}),
    ...(config?.gcs ? { bucket: config.gcs.bucket } : {}),
    ...(config?.fileSystem?.directoryPath ? { directoryPath: config.fileSystem.directoryPath } : {}),
    ...(config?.azureStorage ? { ...config.azureStorage } : {}),
    ...(config?.presign ? { presignEnabled: config.presign.enabled === true, ...(config.presign.ttl ? { presignTTL: config.presign.ttl } : {}) } : {}),
  };
}

/** Newest first by semver precedence (prereleases below their release), then by platform. */
export function compareVersionObjects(a: VersionObject, b: VersionObject): number {
  return (
    compareSemverDesc(protocolVersion(a.spec.version), protocolVersion(b.spec.version)) ||
    `${a.spec.operatingSystem ?? ""}/${a.spec.architecture ?? ""}`.localeCompare(`${b.spec.operatingSystem ?? ""}/${b.spec.architecture ?? ""}`) ||
    a.metadata.name.localeCompare(b.metadata.name)
  );
}

export interface ResourceSummary {
  kind: BrowseKind;
  namespace: string;
  name: string;
  object: ModuleObject | ProviderObject;
  /** Newest first. */
  versions: VersionObject[];
  latestVersion?: string;
  synced: boolean;
  syncStatus?: string;
  hasUnsyncedVersions: boolean;
  provider?: string;
  repoUrl?: string;
  providerNamespace?: string;
  platforms: Platform[];
  scanCounts?: ScanCounts;
  lastScanned?: string;
  /** Label `opendepot.defdev.io/public=true` on the resource (the namespace must carry it too). */
  labelledPublic: boolean;
  /** Lowercase text `q` searches: name, namespace, provider, providerNamespace, repoUrl, latestVersion. */
  haystack: string;
  storageBackend: BrowseStorageConfig["backend"];
  health: { synced: number; failed: number; progressing: number };
  storageBytes: number;
  /** Source + binary findings over all Versions, and how many Versions have any. */
  posture: ScanCounts;
  affectedVersions: number;
  /** Distinct protocol versions (for the stats store's keys), each with the raw spec form when it differs. */
  statsVersions: { version: string; legacy?: string }[];
}

export function storageConfigOfResource(o: ModuleObject | ProviderObject): StorageConfig | undefined {
  return o.kind === "Module" ? o.spec.moduleConfig.storageConfig : o.spec.providerConfig.storageConfig;
}

function scanOf(findings: readonly SecurityFinding[] | undefined): ScanCounts {
  return countFindings(dedupeFindings(findings));
}

/**
 * Module: the newest scanned Version's source scan (v0.9 took the latest version's, which is empty while the
 * newest release is still syncing). Provider: the first platform's binary scan at the latest version plus the
 * newest source scan.
 */
export function scanSummary(kind: BrowseKind, versions: VersionObject[], latest: string | undefined, platform?: (v: VersionObject) => boolean): { scanCounts?: ScanCounts; lastScanned?: string } {
  const atLatest = latest ? versions.filter((v) => protocolVersion(v.spec.version) === protocolVersion(latest)) : [];
  if (kind === "module") {
    const scan = versions.find((v) => v.status?.sourceScan)?.status?.sourceScan;
    return scan ? { scanCounts: scanOf(scan.findings), lastScanned: scan.scannedAt } : {};
  }
  const binary = atLatest
    .filter((v) => v.status?.binaryScan && (!platform || platform(v)))
    .sort((a, b) => `${a.spec.operatingSystem}/${a.spec.architecture}`.localeCompare(`${b.spec.operatingSystem}/${b.spec.architecture}`))[0]?.status?.binaryScan;
  const source = versions.find((v) => v.status?.sourceScan && (!platform || platform(v)))?.status?.sourceScan;
  if (!binary && !source) return {};
  const counts = addCounts(scanOf(binary?.findings), scanOf(source?.findings));
  const lastScanned = [binary?.scannedAt, source?.scannedAt].filter((s): s is string => !!s).sort().at(-1);
  return { scanCounts: counts, ...(lastScanned ? { lastScanned } : {}) };
}

export function summarise(object: ModuleObject | ProviderObject, versionObjects: Iterable<VersionObject>): ResourceSummary {
  const kind: BrowseKind = object.kind === "Module" ? "module" : "provider";
  const namespace = object.metadata.namespace ?? "default";
  const versions = [...versionObjects].filter((v) => !v.metadata.deletionTimestamp).sort(compareVersionObjects);
  const health = { synced: 0, failed: 0, progressing: 0 };
  let storageBytes = 0;
  let affectedVersions = 0;
  const posture = emptyCounts();
  const statsVersions = new Map<string, { version: string; legacy?: string }>();
  for (const v of versions) {
    health[healthOf(v)]++;
    storageBytes += typeof v.status?.archiveSizeBytes === "number" && v.status.archiveSizeBytes > 0 ? v.status.archiveSizeBytes : 0;
    const c = addCounts(scanOf(v.status?.sourceScan?.findings), scanOf(v.status?.binaryScan?.findings));
    if (totalOf(c) > 0) affectedVersions++;
    addCounts(posture, c);
    const pv = protocolVersion(v.spec.version);
    if (!statsVersions.has(pv)) statsVersions.set(pv, { version: pv, ...(v.spec.version !== pv ? { legacy: v.spec.version } : {}) });
  }
  const latestVersion = object.status?.latestVersion || (versions[0] ? versions[0].spec.version : undefined);
  const platformMap = new Map<string, Platform>();
  for (const v of versions) if (v.spec.operatingSystem && v.spec.architecture) platformMap.set(`${v.spec.operatingSystem}/${v.spec.architecture}`, { os: v.spec.operatingSystem, arch: v.spec.architecture });
  const platforms = [...platformMap.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, p]) => p);
  const mc = object.kind === "Module" ? object.spec.moduleConfig : undefined;
  const pc = object.kind === "Provider" ? object.spec.providerConfig : undefined;
  const repoUrl = mc ? mc.repoUrl || (mc.repoOwner ? `https://github.com/${mc.repoOwner}/${mc.name || object.metadata.name}` : undefined) : undefined;
  const providerNamespace = pc ? pc.namespace || "hashicorp" : undefined;
  const scan = scanSummary(kind, versions, latestVersion);
  const hasUnsyncedVersions = health.failed + health.progressing > 0;
  const fields = {
    kind,
    namespace,
    name: object.metadata.name,
    object,
    versions,
    ...(latestVersion ? { latestVersion } : {}),
    // Computed from the Versions (v0.9 reported true for every resource): all of them synced, and at least one.
    synced: versions.length > 0 && !hasUnsyncedVersions,
    ...(object.status?.syncStatus ? { syncStatus: object.status.syncStatus } : {}),
    hasUnsyncedVersions,
    ...(mc?.provider ? { provider: mc.provider } : {}),
    ...(repoUrl ? { repoUrl } : {}),
    ...(providerNamespace ? { providerNamespace } : {}),
    platforms,
    ...scan,
    labelledPublic: object.metadata.labels?.[LABELS.public] === "true",
    storageBackend: storageBackendOf(storageConfigOfResource(object)),
    health,
    storageBytes,
    posture,
    affectedVersions,
    statsVersions: [...statsVersions.values()],
  };
  const haystack = [fields.name, namespace, mc?.provider, providerNamespace, repoUrl, latestVersion].filter(Boolean).join("\u0000").toLowerCase();
  return { ...fields, haystack };
}
