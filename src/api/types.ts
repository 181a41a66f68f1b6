// Schemas of the five kinds. This file is the one source of truth: TypeScript types (Static<>), runtime
// validation (validate.ts) and the CRD YAML in crds/ (crd.ts) are all derived from it.
// Field names, optionality and defaults follow OpenDepot v0.9 (reference §1); `conditions` and
// `observedGeneration` are our additions on every status.
import { Type, type Static, type TSchema } from "@sinclair/typebox";
import { Condition } from "./meta.ts";

const Str = (description?: string) => Type.String(description ? { description } : {});
const Opt = <T extends TSchema>(schema: T) => Type.Optional(schema);

export const GithubClientConfig = Type.Object(
  { useAuthenticatedClient: Opt(Type.Boolean({ description: "Authenticate to GitHub as the GitHub App in Secret opendepot-github-application-secret." })) },
  { additionalProperties: false },
);

export const S3Config = Type.Object(
  {
    bucket: Str("Bucket name."),
    region: Str("Bucket region."),
    key: Opt(Str("Optional key prefix.")),
    endpoint: Opt(Str("Custom S3-compatible endpoint URL (MinIO, Ceph, R2, Swift). Additive to v0.9.")),
    forcePathStyle: Opt(Type.Boolean({ description: "Use path-style addressing. Additive to v0.9." })),
  },
  { additionalProperties: false },
);

export const AzureStorageConfig = Type.Object(
  {
    accountName: Str(),
    accountUrl: Str(),
    subscriptionID: Str(),
    resourceGroup: Str(),
  },
  { additionalProperties: false },
);

export const GcsConfig = Type.Object(
  {
    bucket: Str(),
    endpoint: Opt(Str("Custom JSON API endpoint (emulators). Additive to v0.9.")),
  },
  { additionalProperties: false },
);

export const FileSystemConfig = Type.Object(
  { directoryPath: Opt(Str("Directory the artifacts are written under.")) },
  { additionalProperties: false },
);

export const PresignConfig = Type.Object(
  {
    enabled: Opt(Type.Boolean()),
    ttl: Opt(Type.String({ default: "15m", pattern: "^([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$" })),
    fallbackToProxy: Opt(Type.Boolean({ default: true })),
  },
  { additionalProperties: false },
);

export const StorageConfig = Type.Object(
  {
    s3: Opt(S3Config),
    azureStorage: Opt(AzureStorageConfig),
    gcs: Opt(GcsConfig),
    fileSystem: Opt(FileSystemConfig),
    presign: Opt(PresignConfig),
  },
  { additionalProperties: false },
);

export const ModuleConfig = Type.Object(
  {
    fileFormat: Opt(Type.Union([Type.Literal("zip"), Type.Literal("tar"), Type.Literal("tar.gz")], { description: "Archive format: zip, or tar (gzip tarball)." })),
    githubClientConfig: Opt(GithubClientConfig),
    immutable: Opt(Type.Boolean()),
    name: Opt(Str("GitHub repository name; defaults to the Module resource name.")),
    provider: Opt(Str("Module system (aws, azurerm, ...).")),
    repoOwner: Opt(Str("GitHub owner.")),
    repoUrl: Opt(Str()),
    storageConfig: Opt(StorageConfig),
    versionConstraints: Opt(Str()),
    versionHistoryLimit: Opt(Type.Integer()),
  },
  { additionalProperties: false },
);

export const ProviderConfig = Type.Object(
  {
    name: Opt(Str("Provider type; defaults to the Provider resource name.")),
    namespace: Opt(Str("Upstream registry namespace; defaults to hashicorp.")),
    operatingSystems: Opt(Type.Array(Type.String())),
    architectures: Opt(Type.Array(Type.String())),
    githubClientConfig: Opt(GithubClientConfig),
    sourceRepository: Opt(Str()),
    storageConfig: Opt(StorageConfig),
    versionHistoryLimit: Opt(Type.Integer()),
    versionConstraints: Opt(Str()),
  },
  { additionalProperties: false },
);

export const SecurityFinding = Type.Object(
  {
    vulnerabilityID: Type.String(),
    pkgName: Type.String(),
    installedVersion: Type.String(),
    fixedVersion: Opt(Type.String()),
    severity: Type.String(),
    title: Opt(Type.String()),
  },
  { additionalProperties: false },
);

export const ScanResult = Type.Object(
  { scannedAt: Type.String(), findings: Opt(Type.Array(SecurityFinding)) },
  { additionalProperties: false },
);

export const ReadmeConfigMapRef = Type.Object(
  { name: Type.String(), key: Type.String() },
  { additionalProperties: false },
);

const Conditions = Opt(Type.Array(Condition, { "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"] }));
const ObservedGeneration = Opt(Type.Integer({ format: "int64" }));

// ---- Depot ----
/** A Depot's module entry: a ModuleConfig plus what only the Depot reads. */
// What the Depot requires of each entry, checked before apply (the controller still reports it as InvalidConstraint
// for objects stored before the schema said so).
const DepotVersionConstraints = Type.String({ minLength: 1, pattern: "\\S", description: 'Terraform-style constraint the discovered versions must satisfy, e.g. "~> 2.1"; ">= 0.0.0" mirrors every release. Required.' });

export const DepotModuleConfig = Type.Object(
  {
    ...ModuleConfig.properties,
    versionConstraints: DepotVersionConstraints,
    discoverTags: Opt(Type.Boolean({ description: "Also discover versions from plain git tags, for repositories that tag without publishing GitHub releases (default: releases only). Additive to v0.9." })),
  },
  { additionalProperties: false },
);

/** A Depot's provider entry: a ProviderConfig whose versionConstraints is required. */
export const DepotProviderConfig = Type.Object({ ...ProviderConfig.properties, versionConstraints: DepotVersionConstraints }, { additionalProperties: false });

/** What one Depot entry's last poll found. Additive to v0.9. */
export const DepotEntryStatus = Type.Object(
  {
    kind: Type.Union([Type.Literal("Module"), Type.Literal("Provider")]),
    name: Type.String(),
    ready: Type.Boolean({ description: "The last poll of this entry succeeded." }),
    reason: Opt(Type.String()),
    error: Opt(Type.String({ description: "Why the last poll failed; existing versions are left as they are." })),
    lastPollTime: Opt(Type.String({ format: "date-time" })),
    lastSuccessTime: Opt(Type.String({ format: "date-time" })),
    nextPollTime: Opt(Type.String({ format: "date-time" })),
    failures: Opt(Type.Integer({ description: "Consecutive failed polls (for backoff)." })),
    versionsFound: Opt(Type.Integer({ description: "Versions the upstream listed." })),
    versionsMatched: Opt(Type.Integer({ description: "Of those, versions satisfying versionConstraints." })),
  },
  { additionalProperties: false },
);

export const DepotSpec = Type.Object(
  {
    global: Opt(
      Type.Object(
        {
          githubClientConfig: Opt(GithubClientConfig),
          moduleConfig: Opt(ModuleConfig),
          storageConfig: StorageConfig,
        },
        { additionalProperties: false },
      ),
    ),
    moduleConfigs: Opt(Type.Array(DepotModuleConfig)),
    providerConfigs: Opt(Type.Array(DepotProviderConfig)),
    pollingIntervalMinutes: Opt(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);
export const DepotStatus = Type.Object(
  {
    modules: Opt(Type.Array(Type.String())),
    providers: Opt(Type.Array(Type.String())),
    entries: Opt(Type.Array(DepotEntryStatus, { description: "Per-entry discovery results. Additive to v0.9." })),
    conditions: Conditions,
    observedGeneration: ObservedGeneration,
  },
  { additionalProperties: true },
);

// ---- Module ----
/** A semantic version as the controllers read it: `1.2.3`, `v1.2`, `2.0.0-rc.1+build.5` (checked before apply). */
export const VERSION_PATTERN = "^\\s*v?[0-9]+(\\.[0-9]+)?(\\.[0-9]+)?(-[0-9A-Za-z-]+(\\.[0-9A-Za-z-]+)*)?(\\+[0-9A-Za-z-]+(\\.[0-9A-Za-z-]+)*)?\\s*$";
const VersionString = Type.String({ maxLength: 128, pattern: VERSION_PATTERN, description: "A semantic version: 1.2.3, v1.2 (= 1.2.0) or 2.0.0-rc.1." });

export const ModuleVersion = Type.Object(
  {
    fileName: Opt(Type.String()),
    name: Opt(Type.String()),
    synced: Opt(Type.Boolean()),
    version: Opt(VersionString),
  },
  { additionalProperties: false },
);
export const ModuleSpec = Type.Object(
  {
    forceSync: Opt(Type.Boolean()),
    moduleConfig: ModuleConfig,
    versions: Type.Array(ModuleVersion, { description: "The versions a person declared (manifests, kubectl apply). A Depot never writes this list." }),
    depotVersions: Opt(Type.Array(ModuleVersion, { description: "The versions the managing Depot discovered and wants served; written only by the Depot. The controller serves the union of versions and depotVersions. Additive to v0.9." })),
  },
  { additionalProperties: false },
);
export const ModuleStatus = Type.Object(
  {
    latestVersion: Opt(Type.String()),
    latestServedVersion: Opt(Type.String({ description: "The highest version as the registry protocol spells it (no leading v), shown by kubectl as LatestVersion. Additive to v0.9, whose latestVersion keeps the v." })),
    fileName: Opt(Type.String()),
    synced: Opt(Type.Boolean()),
    syncStatus: Opt(Type.String()),
    moduleVersionRefs: Opt(Type.Record(Type.String(), ModuleVersion)),
    conditions: Conditions,
    observedGeneration: ObservedGeneration,
  },
  { additionalProperties: true },
);

// ---- Provider ----
export const ProviderVersion = Type.Object(
  {
    architecture: Opt(Type.String()),
    name: Opt(Type.String()),
    operatingSystem: Opt(Type.String()),
    synced: Opt(Type.Boolean()),
    version: Opt(VersionString),
  },
  { additionalProperties: false },
);
export const ProviderSpec = Type.Object(
  {
    forceSync: Opt(Type.Boolean()),
    providerConfig: ProviderConfig,
    versions: Type.Array(ProviderVersion, { description: "The versions a person declared (manifests, kubectl apply). A Depot never writes this list." }),
    depotVersions: Opt(Type.Array(ProviderVersion, { description: "The versions the managing Depot discovered and wants served; written only by the Depot. The controller serves the union of versions and depotVersions. Additive to v0.9." })),
  },
  { additionalProperties: false },
);
export const ProviderStatus = Type.Object(
  {
    latestVersion: Opt(Type.String()),
    latestServedVersion: Opt(Type.String({ description: "The highest version as the registry protocol spells it (no leading v), shown by kubectl as LatestVersion. Additive to v0.9, whose latestVersion keeps the v." })),
    fileName: Opt(Type.String()),
    synced: Opt(Type.Boolean()),
    syncStatus: Opt(Type.String()),
    providerVersionRefs: Opt(Type.Record(Type.String(), ProviderVersion)),
    resolvedSourceRepository: Opt(Type.String()),
    conditions: Conditions,
    observedGeneration: ObservedGeneration,
  },
  { additionalProperties: true },
);

// ---- Version ----
export const VersionSpec = Type.Object(
  {
    architecture: Opt(Type.String()),
    fileName: Opt(Type.String()),
    forceSync: Opt(Type.Boolean()),
    moduleConfigRef: Opt(ModuleConfig),
    providerConfigRef: Opt(ProviderConfig),
    operatingSystem: Opt(Type.String()),
    type: Type.Union([Type.Literal("Module"), Type.Literal("Provider")]),
    version: Type.String({ minLength: 1, maxLength: 128 }),
  },
  { additionalProperties: false },
);
export const VersionStatus = Type.Object(
  {
    checksum: Opt(Type.String({ description: "base64 of the SHA-256 of the stored archive" })),
    synced: Opt(Type.Boolean()),
    syncStatus: Opt(Type.String()),
    archiveSizeBytes: Opt(Type.Integer({ format: "int64" })),
    binaryScan: Opt(ScanResult),
    sourceScan: Opt(ScanResult),
    readmeConfigMapRef: Opt(ReadmeConfigMapRef),
    protocols: Opt(Type.Array(Type.String(), { description: "Provider plugin protocol versions (e.g. 5.0, 6.0). Additive to v0.9." })),
    h1: Opt(Type.String({ description: "h1: hash of a provider package. Additive to v0.9." })),
    verifiedPin: Opt(Type.String({ description: "Storage identity (inode/size/mtime, ETag or generation) of the object last verified against checksum. Additive to v0.9." })),
    verifiedAt: Opt(Type.String({ description: "When the stored object was last fully re-hashed (RFC 3339). Additive to v0.9." })),
    conditions: Conditions,
    observedGeneration: ObservedGeneration,
  },
  { additionalProperties: true },
);

// ---- GroupBinding ----
export const GroupBindingSpec = Type.Object(
  {
    expression: Type.String({ minLength: 1 }),
    moduleResources: Opt(Type.Array(Type.String())),
    providerResources: Opt(Type.Array(Type.String())),
  },
  { additionalProperties: false },
);
export const GroupBindingStatus = Type.Object(
  { conditions: Conditions, observedGeneration: ObservedGeneration },
  { additionalProperties: true },
);

export type GithubClientConfig = Static<typeof GithubClientConfig>;
export type StorageConfig = Static<typeof StorageConfig>;
export type ModuleConfig = Static<typeof ModuleConfig>;
export type ProviderConfig = Static<typeof ProviderConfig>;
export type SecurityFinding = Static<typeof SecurityFinding>;
export type ScanResult = Static<typeof ScanResult>;
export type DepotModuleConfig = Static<typeof DepotModuleConfig>;
export type DepotProviderConfig = Static<typeof DepotProviderConfig>;
export type DepotEntryStatus = Static<typeof DepotEntryStatus>;
export type DepotSpec = Static<typeof DepotSpec>;
export type DepotStatus = Static<typeof DepotStatus>;
export type ModuleVersion = Static<typeof ModuleVersion>;
export type ModuleSpec = Static<typeof ModuleSpec>;
export type ModuleStatus = Static<typeof ModuleStatus>;
export type ProviderVersion = Static<typeof ProviderVersion>;
export type ProviderSpec = Static<typeof ProviderSpec>;
export type ProviderStatus = Static<typeof ProviderStatus>;
export type VersionSpec = Static<typeof VersionSpec>;
export type VersionStatus = Static<typeof VersionStatus>;
export type GroupBindingSpec = Static<typeof GroupBindingSpec>;
export type GroupBindingStatus = Static<typeof GroupBindingStatus>;
