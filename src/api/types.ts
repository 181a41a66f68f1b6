// Schemas of the five kinds. This file is the one source of truth: TypeScript types (Static<>), runtime
// validation (validate.ts) and the CRD YAML in crds/ (crd.ts) are all derived from it.
// Field names, optionality and defaults follow OpenDepot v0.9 (reference §1); `conditions` and
// `observedGeneration` are our additions on every status.
import { Type, type Static } from "@sinclair/typebox";
import { Condition } from "./meta-schemas.ts";

import { Doc, Opt, Str } from "./schema-kit.ts";
import { ScanConfig, ScanResult, ScanVerdict } from "./scan-types.ts";

// The scan schemas live in scan-types.ts; re-exported here so this file stays the one place every kind is read from.
export { ScanConfig, ScanResult, ScanVerdict, SecurityFinding } from "./scan-types.ts";

export const GithubClientConfig = Type.Object(
  { useAuthenticatedClient: Opt(Type.Boolean({ description: "Authenticate to GitHub as the GitHub App in Secret opendepot-github-application-secret." })) },
  { additionalProperties: false, description: "How the controllers talk to GitHub." },
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
    accountName: Str("Storage account name."),
    accountUrl: Str("Blob service endpoint of the account, e.g. https://acct.blob.core.windows.net."),
    subscriptionID: Str("Accepted for v0.9 compatibility; unused."),
    resourceGroup: Str("Accepted for v0.9 compatibility; unused."),
  },
  { additionalProperties: false },
);

export const GcsConfig = Type.Object(
  {
    bucket: Str("Bucket name."),
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
    enabled: Opt(Type.Boolean({ description: "Redirect artifact downloads to a URL signed by the storage backend instead of streaming them through the server." })),
    ttl: Opt(Type.String({ default: "15m", pattern: "^([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$", description: "Lifetime of a pre-signed URL (Go duration, clamped to 1m..7d and to the registry URL's remaining lifetime)." })),
    fallbackToProxy: Opt(Type.Boolean({ default: true, description: "Stream through the server when signing fails (false: answer 502)." })),
  },
  { additionalProperties: false },
);

/** The blog's spelling of fileSystem (`filesystem: { path }`); normalised by storage-aliases.ts. */
export const FilesystemAliasConfig = Type.Object(
  { path: Opt(Str("Alias of fileSystem.directoryPath.")) },
  { additionalProperties: false, description: "Alias of fileSystem (as spelled in the OpenDepot blog); prefer fileSystem.directoryPath." },
);

export const StorageConfig = Type.Object(
  {
    s3: Opt(Doc(S3Config, "Amazon S3 or an S3-compatible store (SigV4).")),
    azureStorage: Opt(Doc(AzureStorageConfig, "Azure Blob Storage (container opendepot).")),
    gcs: Opt(Doc(GcsConfig, "Google Cloud Storage.")),
    fileSystem: Opt(Doc(FileSystemConfig, "A local or mounted directory.")),
    presign: Opt(Doc(PresignConfig, "Pre-signed downloads straight from the bucket. Additive to v0.9.")),
    azureBlob: Opt(Type.Object(AzureStorageConfig.properties, { additionalProperties: false, description: "Alias of azureStorage (as spelled in the OpenDepot blog); prefer azureStorage." })),
    filesystem: Opt(FilesystemAliasConfig),
  },
  { additionalProperties: false },
);

export const ModuleConfig = Type.Object(
  {
    fileFormat: Opt(Type.Union([Type.Literal("zip"), Type.Literal("tar"), Type.Literal("tar.gz")], { description: "Archive format: zip, or tar (gzip tarball)." })),
    githubClientConfig: Opt(GithubClientConfig),
    immutable: Opt(Type.Boolean({ description: "Refuse a re-fetched archive whose checksum differs from the published one (and keep serving the published one)." })),
    name: Opt(Str("GitHub repository name; defaults to the Module resource name.")),
    provider: Opt(Str("Module system (aws, azurerm, ...).")),
    repoOwner: Opt(Str("GitHub owner.")),
    repoUrl: Opt(Str("Repository URL; defaults to https://github.com/<repoOwner>/<name>.")),
    storageConfig: Opt(Doc(StorageConfig, "Where the artifacts are stored: one backend, picked in the order fileSystem, s3, azureStorage, gcs (default: the data directory).")),
    versionConstraints: Opt(Str("Terraform-style constraint of the versions a Depot mirrors, e.g. \">= 1.0.0, != 1.3.0\" or \"~> 2.1\".")),
    versionHistoryLimit: Opt(Type.Integer({ description: "Keep only the highest N versions (the rest are listed in status, spec.versions is not rewritten)." })),
    scanConfig: Opt(Doc(ScanConfig, "Trivy scanning policy of this resource (overrides the controller defaults). Additive to v0.9.")),
  },
  { additionalProperties: false },
);

export const ProviderConfig = Type.Object(
  {
    name: Opt(Str("Provider type; defaults to the Provider resource name.")),
    namespace: Opt(Str("Upstream registry namespace; defaults to hashicorp.")),
    operatingSystems: Opt(Type.Array(Type.String(), { description: "Operating systems to mirror (linux, darwin, windows, ...); one Version per version, OS and architecture." })),
    architectures: Opt(Type.Array(Type.String(), { description: "Architectures to mirror (amd64, arm64, ...)." })),
    githubClientConfig: Opt(GithubClientConfig),
    sourceRepository: Opt(Str("Source repository of the provider (informational).")),
    storageConfig: Opt(Doc(StorageConfig, "Where the artifacts are stored: one backend, picked in the order fileSystem, s3, azureStorage, gcs (default: the data directory).")),
    versionHistoryLimit: Opt(Type.Integer({ description: "Keep only the highest N versions (the rest are listed in status, spec.versions is not rewritten)." })),
    versionConstraints: Opt(Str("Terraform-style constraint of the versions a Depot mirrors, e.g. \"~> 5.80\".")),
    scanConfig: Opt(Doc(ScanConfig, "Trivy scanning policy of this resource (overrides the controller defaults). Additive to v0.9.")),
  },
  { additionalProperties: false },
);

export const ReadmeConfigMapRef = Type.Object(
  { name: Type.String({ description: "ConfigMap name (<version>-readme)." }), key: Type.String({ description: "Data key: README.md (base64, v0.9's layout) or README.md.gz in binaryData for large READMEs." }) },
  { additionalProperties: false },
);

// ---- Version lifecycle (additive to v0.9) ----
export const Deprecation = Type.Object(
  {
    message: Type.String({ minLength: 1, maxLength: 1024, description: "Shown to users: provider versions lists carry it as a warning, the browse API with the version." }),
    link: Opt(Type.String({ maxLength: 2048, pattern: "^https?://", description: "Where to read more (http or https URL)." })),
  },
  { additionalProperties: false, description: "The version is deprecated: still served, with this message. Additive to v0.9." },
);
export const Yank = Type.Object(
  { reason: Type.String({ minLength: 1, maxLength: 1024, description: "Why; returned with the 404 once the grace period is over." }) },
  { additionalProperties: false, description: "The version is yanked: no longer offered for resolution; exact downloads keep working for --yank-grace after it was first observed. Additive to v0.9." },
);
const Lifecycle = { deprecated: Opt(Deprecation), yanked: Opt(Yank) };

const Conditions = Opt(Type.Array(Condition, { "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"], description: "Ready and Synced, with a reason (e.g. InvalidSpec, VersionWriteFailed, RateLimited) and a message." }));
const ObservedGeneration = Opt(Type.Integer({ format: "int64", description: "The metadata.generation this status describes." }));

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
    kind: Type.Union([Type.Literal("Module"), Type.Literal("Provider")], { description: "Module or Provider." }),
    name: Type.String({ description: "The entry's name: the Module or Provider it manages." }),
    ready: Type.Boolean({ description: "The last poll of this entry succeeded." }),
    reason: Opt(Type.String({ description: "Machine-readable outcome (Discovered, InvalidConstraint, UpstreamNotFound, RateLimited, ...)." })),
    error: Opt(Type.String({ description: "Why the last poll failed; existing versions are left as they are." })),
    lastPollTime: Opt(Type.String({ format: "date-time", description: "When the entry was last polled." })),
    lastSuccessTime: Opt(Type.String({ format: "date-time", description: "When a poll last succeeded." })),
    nextPollTime: Opt(Type.String({ format: "date-time", description: "When the entry is polled next (interval, or retry after a failure)." })),
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
          moduleConfig: Opt(Doc(ModuleConfig, "Defaults for every module entry: fileFormat, immutable and versionHistoryLimit.")),
          storageConfig: Doc(StorageConfig, "Storage of every entry that names none."),
        },
        { additionalProperties: false, description: "Settings every entry inherits (its own fields win)." },
      ),
    ),
    moduleConfigs: Opt(Type.Array(DepotModuleConfig, { description: "Modules to mirror from GitHub releases (and tags with discoverTags)." })),
    providerConfigs: Opt(Type.Array(DepotProviderConfig, { description: "Providers to mirror from the OpenTofu registry." })),
    pollingIntervalMinutes: Opt(Type.Integer({ minimum: 1, description: "Poll the upstreams this often; unset: once, and on every edit of the Depot." })),
  },
  { additionalProperties: false, description: "What to mirror: upstream module and provider versions, filtered by constraints, merged into Modules and Providers." },
);
export const DepotStatus = Type.Object(
  {
    modules: Opt(Type.Array(Type.String(), { description: "Modules this Depot manages." })),
    providers: Opt(Type.Array(Type.String(), { description: "Providers this Depot manages." })),
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
    fileName: Opt(Type.String({ description: "Artifact file name of the Version (set by the controller)." })),
    name: Opt(Type.String({ description: "Name of the Version resource (set by the controller)." })),
    synced: Opt(Type.Boolean({ description: "Whether the Version is synced (set by the controller)." })),
    version: Opt(VersionString),
    ...Lifecycle,
  },
  { additionalProperties: false },
);
export const ModuleSpec = Type.Object(
  {
    forceSync: Opt(Type.Boolean({ description: "Re-download every version once; resets itself." })),
    moduleConfig: Doc(ModuleConfig, "Where the module comes from and how it is packaged and stored."),
    versions: Type.Array(ModuleVersion, { description: "Versions to serve, as a person declared them (manifests, kubectl apply): one Version resource each (named <module>-<version>). A Depot never writes this list." }),
    depotVersions: Opt(Type.Array(ModuleVersion, { description: "The versions the managing Depot discovered and wants served; written only by the Depot. The controller serves the union of versions and depotVersions. Additive to v0.9." })),
  },
  { additionalProperties: false, description: "A module the registry serves, from a GitHub repository." },
);
export const ModuleStatus = Type.Object(
  {
    latestVersion: Opt(Type.String({ description: "Highest version, v-prefixed." })),
    latestServedVersion: Opt(Type.String({ description: "The highest version as the registry protocol spells it (no leading v), shown by kubectl as LatestVersion. Additive to v0.9, whose latestVersion keeps the v." })),
    fileName: Opt(Type.String({ description: "v0.9 compatibility; unused." })),
    synced: Opt(Type.Boolean({ description: "Every version is synced." })),
    syncStatus: Opt(Type.String({ description: "Human-readable sync state or the reason it failed." })),
    moduleVersionRefs: Opt(Type.Record(Type.String(), ModuleVersion, { description: "The Version resource of each declared version." })),
    conditions: Conditions,
    observedGeneration: ObservedGeneration,
  },
  { additionalProperties: true },
);

// ---- Provider ----
export const ProviderVersion = Type.Object(
  {
    architecture: Opt(Type.String({ description: "Architecture of the build (set by the controller)." })),
    name: Opt(Type.String({ description: "Name of the Version resource (set by the controller)." })),
    operatingSystem: Opt(Type.String({ description: "Operating system of the build (set by the controller)." })),
    synced: Opt(Type.Boolean({ description: "Whether the Version is synced (set by the controller)." })),
    version: Opt(VersionString),
    ...Lifecycle,
  },
  { additionalProperties: false },
);
export const ProviderSpec = Type.Object(
  {
    forceSync: Opt(Type.Boolean({ description: "Re-download every build once; resets itself." })),
    providerConfig: Doc(ProviderConfig, "Which upstream provider, which platforms, and where it is stored."),
    versions: Type.Array(ProviderVersion, { description: "Versions to serve, as a person declared them (manifests, kubectl apply): one Version resource per version, OS and architecture. A Depot never writes this list." }),
    depotVersions: Opt(Type.Array(ProviderVersion, { description: "The versions the managing Depot discovered and wants served; written only by the Depot. The controller serves the union of versions and depotVersions. Additive to v0.9." })),
  },
  { additionalProperties: false, description: "A provider the registry mirrors from the OpenTofu registry and signs." },
);
export const ProviderStatus = Type.Object(
  {
    latestVersion: Opt(Type.String({ description: "Highest version, v-prefixed." })),
    latestServedVersion: Opt(Type.String({ description: "The highest version as the registry protocol spells it (no leading v), shown by kubectl as LatestVersion. Additive to v0.9, whose latestVersion keeps the v." })),
    fileName: Opt(Type.String({ description: "v0.9 compatibility; unused." })),
    synced: Opt(Type.Boolean({ description: "Every build is synced." })),
    syncStatus: Opt(Type.String({ description: "Human-readable sync state or the reason it failed." })),
    providerVersionRefs: Opt(Type.Record(Type.String(), ProviderVersion, { description: "The Version resource of each build, by <version>-<os>-<arch>." })),
    resolvedSourceRepository: Opt(Type.String({ description: "Source repository the upstream registry names." })),
    conditions: Conditions,
    observedGeneration: ObservedGeneration,
  },
  { additionalProperties: true },
);

// ---- Version ----
export const VersionSpec = Type.Object(
  {
    architecture: Opt(Type.String({ description: "Provider builds: the architecture." })),
    fileName: Opt(Type.String({ description: "Artifact file name in storage (a UUIDv7 with the extension), chosen when the Version is created." })),
    forceSync: Opt(Type.Boolean({ description: "Re-download this version once; resets itself." })),
    moduleConfigRef: Opt(Doc(ModuleConfig, "Module versions: the owning Module's moduleConfig.")),
    providerConfigRef: Opt(Doc(ProviderConfig, "Provider builds: the owning Provider's providerConfig.")),
    operatingSystem: Opt(Type.String({ description: "Provider builds: the operating system." })),
    type: Type.Union([Type.Literal("Module"), Type.Literal("Provider")], { description: "Module or Provider." }),
    version: Type.String({ minLength: 1, maxLength: 128, description: "The semantic version." }),
    ...Lifecycle,
  },
  { additionalProperties: false, description: "One artifact: a module version, or a provider build for one OS and architecture (created by the Module and Provider controllers)." },
);
export const VersionStatus = Type.Object(
  {
    checksum: Opt(Type.String({ description: "base64 of the SHA-256 of the stored archive" })),
    synced: Opt(Type.Boolean({ description: "The artifact is stored and verified, and served." })),
    syncStatus: Opt(Type.String({ description: "Human-readable sync state or the reason it failed." })),
    archiveSizeBytes: Opt(Type.Integer({ format: "int64", description: "Size of the stored archive in bytes." })),
    binaryScan: Opt(Doc(ScanResult, "Vulnerability scan of the provider binary.")),
    sourceScan: Opt(Doc(ScanResult, "Vulnerability scan of the module source.")),
    scanVerdict: Opt(Doc(ScanVerdict, "Whether the scan policy blocks this version, and why. Additive to v0.9.")),
    readmeConfigMapRef: Opt(Doc(ReadmeConfigMapRef, "Where the module README is kept.")),
    protocols: Opt(Type.Array(Type.String(), { description: "Provider plugin protocol versions (e.g. 5.0, 6.0). Additive to v0.9." })),
    h1: Opt(Type.String({ description: "h1: hash of a provider package. Additive to v0.9." })),
    verifiedPin: Opt(Type.String({ description: "Storage identity (inode/size/mtime, ETag or generation) of the object last verified against checksum. Additive to v0.9." })),
    verifiedAt: Opt(Type.String({ description: "When the stored object was last fully re-hashed (RFC 3339). Additive to v0.9." })),
    yankedAt: Opt(Type.String({ format: "date-time", description: "When the Version controller first saw spec.yanked; the --yank-grace period runs from here. Additive to v0.9." })),
    conditions: Conditions,
    observedGeneration: ObservedGeneration,
  },
  { additionalProperties: true },
);

// ---- GroupBinding ----
export const GroupBindingSpec = Type.Object(
  {
    expression: Type.String({ minLength: 1, description: "expr-lang expression over the caller's groups, e.g. '\"platform-team\" in groups'." }),
    moduleResources: Opt(Type.Array(Type.String(), { description: "Module names granted (Go path.Match globs)." })),
    providerResources: Opt(Type.Array(Type.String(), { description: "Provider types granted (exact, or \"*\")." })),
  },
  { additionalProperties: false, description: "Grants the callers whose groups satisfy the expression read access to modules and providers." },
);
export const GroupBindingStatus = Type.Object(
  { conditions: Conditions, observedGeneration: ObservedGeneration },
  { additionalProperties: true },
);

export type GithubClientConfig = Static<typeof GithubClientConfig>;
export type StorageConfig = Static<typeof StorageConfig>;
export type ModuleConfig = Static<typeof ModuleConfig>;
export type ProviderConfig = Static<typeof ProviderConfig>;
export type DepotModuleConfig = Static<typeof DepotModuleConfig>;
export type DepotProviderConfig = Static<typeof DepotProviderConfig>;
export type DepotEntryStatus = Static<typeof DepotEntryStatus>;
export type DepotSpec = Static<typeof DepotSpec>;
export type DepotStatus = Static<typeof DepotStatus>;
export type Deprecation = Static<typeof Deprecation>;
export type Yank = Static<typeof Yank>;
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
