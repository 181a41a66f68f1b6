// The browse API's JSON shapes (v0.9 §5.9 field names), exported for the Registry Explorer pages.
import type { SecurityFinding } from "../../api/types.ts";

export type BrowseKind = "module" | "provider";

export interface ScanCounts {
  critical: number;
  high: number;
  medium: number;
  low: number;
  unknown: number;
}

export interface Platform {
  os: string;
  arch: string;
}

export interface DailyCount {
  /** UTC day, YYYY-MM-DD. */
  date: string;
  count: number;
}

/** A card in the Explorer grid. */
export interface BrowseResource {
  kind: BrowseKind;
  namespace: string;
  name: string;
  latestVersion?: string;
  synced: boolean;
  syncStatus?: string;
  hasUnsyncedVersions?: boolean;
  provider?: string;
  repoUrl?: string;
  providerNamespace?: string;
  platforms?: Platform[];
  scanCounts?: ScanCounts;
  lastScanned?: string;
  public: boolean;
  totalDownloads: number;
  lastDownloadedAt?: string;
}

export interface BrowseVersionSummary {
  name?: string;
  version: string;
  synced: boolean;
  syncStatus?: string;
  os?: string;
  arch?: string;
  scanCounts?: ScanCounts;
  lastScanned?: string;
  fileName?: string;
  checksum?: string;
  downloadCount?: number;
  lastDownloadedAt?: string;
  archiveSizeBytes?: number;
  /** Additive: the version is deprecated (still served) with this message. */
  deprecated?: { message: string; link?: string };
  /** Additive: the version is yanked; `downloadable` while exact pinned downloads still work (--yank-grace). */
  yanked?: { reason: string; yankedAt?: string; graceEndsAt?: string; downloadable: boolean };
}

export interface BrowseStorageConfig {
  backend: "s3" | "azureStorage" | "gcs" | "fileSystem" | "unknown";
  bucket?: string;
  region?: string;
  key?: string;
  directoryPath?: string;
  accountName?: string;
  accountUrl?: string;
  subscriptionID?: string;
  resourceGroup?: string;
  presignEnabled?: boolean;
  presignTTL?: string;
}

export interface BrowseResourceDetail extends BrowseResource {
  versions: BrowseVersionSummary[];
  sourceScanFindings?: SecurityFinding[];
  binaryScanFindings?: Record<string, SecurityFinding[]>;
  storageConfig?: BrowseStorageConfig;
  githubConfig?: { useAuthenticatedClient: boolean };
  depotRef?: { namespace: string; name: string };
  repoOwner?: string;
  versionHistoryLimit?: number;
  versionConstraints?: string;
  sourceRepository?: string;
  /** Modules: the README of the shown version. */
  readmeContent?: string;
  /** Modules: the version whose README and documentation are shown (latest synced, or `?version=`). */
  documentationVersion?: string;
  /** Modules: inputs/outputs/... extracted at sync time (ConfigMap `<version>-docs`), null when absent. */
  documentation?: unknown;
  /** Downloads per UTC day, oldest first (additive). */
  downloadsSeries: DailyCount[];
}

export interface Page<T> {
  items: T[];
  totalCount: number;
  page: number;
  pageSize: number;
}

export interface VersionsPage extends Page<BrowseVersionSummary> {
  availableOS?: string[];
  availableArch?: string[];
}

export interface BrowseScanFindings {
  sourceScanFindings?: SecurityFinding[];
  binaryScanFindings?: Record<string, SecurityFinding[]>;
  selectedVersion?: string;
  scannedVersions?: string[];
  binaryVersions?: string[];
}

export interface BrowseDepot {
  namespace: string;
  name: string;
  modules: string[];
  providers: string[];
  pollingIntervalMinutes?: number;
  storageBackend: string;
}

export interface DepotGraph {
  depots: { id: string; namespace: string; name: string; storageBackend: string; pollingIntervalMinutes?: number; managedModuleNames: string[]; managedProviderNames: string[] }[];
  modules: { id: string; namespace: string; name: string; provider?: string; synced: boolean; syncStatus?: string; repoURL?: string; latestVersion?: string; depotID?: string; scanCounts?: ScanCounts }[];
  providers: { id: string; namespace: string; name: string; providerNamespace?: string; synced: boolean }[];
  edges: { id: string; source: string; target: string }[];
  summary: { totalDepots: number; totalModules: number; totalProviders: number };
  generatedAt: string;
}

export interface BrowseStats {
  totalModules: number;
  totalProviders: number;
  totalDepots: number;
  totalVersions: number;
  totalStorageBytes: number;
  totalDownloads: number;
  syncHealth: { syncedVersions: number; unsyncedVersions: number; failedVersions: number };
  securityPosture: ScanCounts & { totalAffectedResources: number };
  storageDistribution: { backend: string; count: number }[];
  mostDownloaded: { namespace: string; kind: BrowseKind; name: string; version: string; downloadCount: number; lastDownloadedAt?: string }[];
  /** Downloads per UTC day over the last 30 days, oldest first (additive). */
  downloadsSeries: DailyCount[];
}
