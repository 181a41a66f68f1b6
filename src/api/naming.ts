// Naming rules shared by controllers and the server (reference §10): Version resource names and artifact file names.

/** Strip one leading `v`, lowercase, and turn `.`, `_` and `/` into `-` (v0.9's sanitisation). */
export function sanitizeVersion(version: string): string {
  return version.trim().replace(/^v/i, "").toLowerCase().replace(/[._/]/g, "-");
}

/** Version name of a module version: `<module>-<version>`, e.g. `terraform-aws-vpc-5-1-0`. */
export function moduleVersionName(moduleName: string, version: string): string {
  return `${moduleName}-${sanitizeVersion(version)}`.toLowerCase();
}

/** Version name of a provider build: `<provider>-<version>-<os>-<arch>`, e.g. `aws-5-80-0-linux-amd64`. */
export function providerVersionName(providerName: string, version: string, os: string, arch: string): string {
  return `${providerName}-${sanitizeVersion(version)}-${os}-${arch}`.toLowerCase().replace(/[._/]/g, "-");
}

/** A version as the registry protocols want it: no leading `v`. */
export function protocolVersion(version: string): string {
  return version.trim().replace(/^v/i, "");
}

export type ArchiveFormat = "zip" | "tar.gz";

/** The archive format a module's `fileFormat` asks for: `zip`, anything else is a gzip tarball (v0.9). */
export function moduleArchiveFormat(fileFormat: string | undefined): ArchiveFormat {
  return fileFormat === "zip" ? "zip" : "tar.gz";
}

/** A fresh artifact file name: a UUIDv7 with the given extension (`.zip`, `.tar.gz`). */
export function artifactFileName(extension: string): string {
  const ext = extension.startsWith(".") ? extension : `.${extension}`;
  return `${Bun.randomUUIDv7()}${ext}`;
}

const ARTIFACT_FILE_NAME = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\.(zip|tar\.gz)$/;

/** True for names artifactFileName produces; anything else never reaches a storage key. */
export function isArtifactFileName(name: string): boolean {
  return ARTIFACT_FILE_NAME.test(name);
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Kubernetes namespace names: RFC 1123 labels of at most 63 characters. */
export function isNamespaceName(name: string): boolean {
  return name.length <= 63 && DNS_LABEL.test(name);
}

/** Kubernetes object names: RFC 1123 subdomains of at most 253 characters. */
export function isObjectName(name: string): boolean {
  return name.length <= 253 && DNS_SUBDOMAIN.test(name);
}

/**
 * The module name of a Version that names no Module (the runbook's "inline module configuration"): its
 * moduleConfigRef.name, else the repository of its GitHub repoUrl, else its own name without the `-<version>` suffix
 * (`terraform-aws-s3-bucket-4-3-0` → `terraform-aws-s3-bucket`). The controller fetches that repository and the
 * server serves the module under that name, so both agree.
 */
export function inlineModuleName(config: { name?: string; repoUrl?: string } | undefined, versionName: string, version: string): string | undefined {
  const named = config?.name?.trim();
  if (named) return named;
  const fromUrl = /^https?:\/\/[^/]+\/[^/]+\/([A-Za-z0-9._-]{1,100}?)(?:\.git)?\/?$/.exec(config?.repoUrl?.trim() ?? "")?.[1];
  if (fromUrl && !/^\.+$/.test(fromUrl)) return fromUrl;
  const suffix = `-${sanitizeVersion(version)}`;
  return versionName.endsWith(suffix) && versionName.length > suffix.length ? versionName.slice(0, -suffix.length) : undefined;
}
