// Naming rules shared by controllers and the server (reference §10): Version resource names and artifact file names.
import { createHash } from "node:crypto";
import { uuidv7 } from "./uuid.ts";

/** Strip one leading `v`, lowercase, and turn `.`, `_` and `/` into `-` (v0.9's sanitisation). */
export function sanitizeVersion(version: string): string {
  return version.trim().replace(/^v/i, "").toLowerCase().replace(/[._/]/g, "-");
}

/** Version name of a module version: `<module>-<version>`, e.g. `terraform-aws-vpc-5-1-0` (cut with a hash past 253 characters). */
export function moduleVersionName(moduleName: string, version: string): string {
  return derivedName(moduleName.toLowerCase(), sanitizeVersion(version));
}

/** Version name of a provider build: `<provider>-<version>-<os>-<arch>`, e.g. `aws-5-80-0-linux-amd64`. */
export function providerVersionName(providerName: string, version: string, os: string, arch: string): string {
  const clean = (s: string) => s.toLowerCase().replace(/[._/]/g, "-");
  return derivedName(clean(providerName), clean(`${sanitizeVersion(version)}-${os}-${arch}`));
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
  return `${uuidv7()}${ext}`;
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

// ---- Kubernetes length limits for derived names and label values ----
// A legal owner name (up to 253 characters) does not always fit where it is copied: label values are at most 63
// characters, and a child's name (`<owner>-<version>`, `<version>-readme`) can outgrow 253. Values that fit are
// used unchanged (so existing objects keep their names); longer ones are cut and end in a hash of the full value,
// which is stable across restarts and processes, and keeps two long names that share a prefix apart. Where a label
// holds a cut value, the full one is kept in an annotation of the same key (see ownerNameFrom).

export const LABEL_VALUE_MAX = 63;
export const OBJECT_NAME_MAX = 253;
const HASH_LENGTH = 10;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** First 10 hex characters of the SHA-256 of `value`: enough to keep distinct names apart, short enough to fit. */
export function nameHash(value: string): string {
  return createHash("sha256").update(value).digest("hex").slice(0, HASH_LENGTH);
}

/** Kubernetes label values: at most 63 characters, alphanumeric at both ends, `-`, `_`, `.` inside (or empty). */
export function isLabelValue(value: string): boolean {
  return value.length <= LABEL_VALUE_MAX && LABEL_VALUE.test(value);
}

/** Cut `value` to `max` characters and drop what a name or label may not end with. */
const cut = (value: string, max: number) => value.slice(0, Math.max(0, max)).replace(/[^A-Za-z0-9]+$/, "");

/**
 * The label value that stands for `value`: itself when it is a valid label value, else a prefix of it (only
 * label-safe characters) followed by `-<hash of the full value>`, at most 63 characters.
 */
export function labelValue(value: string): string {
  if (isLabelValue(value)) return value;
  const safe = value.replace(/[^-A-Za-z0-9_.]/g, "-").replace(/^[^A-Za-z0-9]+/, "");
  const prefix = cut(safe, LABEL_VALUE_MAX - HASH_LENGTH - 1);
  return prefix ? `${prefix}-${nameHash(value)}` : nameHash(value);
}

/**
 * The name of an object derived from `base`: `<base>-<suffix>` when that fits in 253 characters, else
 * `<base, cut>-<hash>-<suffix>` (the suffix stays readable: `-readme`, `-docs`, `-1-2-0`). The hash covers the full
 * `<base>-<suffix>`, so distinct inputs keep distinct names. Without a suffix: `<base>` or `<base, cut>-<hash>`.
 */
export function derivedName(base: string, suffix = ""): string {
  const full = suffix ? `${base}-${suffix}` : base;
  if (full.length <= OBJECT_NAME_MAX) return full;
  const hash = nameHash(full);
  const tail = suffix && suffix.length <= OBJECT_NAME_MAX / 2 ? `-${hash}-${suffix}` : `-${hash}`;
  const prefix = cut(suffix && tail.endsWith(`-${suffix}`) ? base : full, OBJECT_NAME_MAX - tail.length);
  return `${prefix}${tail}`;
}

/**
 * The full name an owner label stands for: the annotation of the same key (written when the label had to be cut),
 * else the label itself.
 */
export function ownerNameFrom(meta: { labels?: Record<string, string>; annotations?: Record<string, string> }, key: string): string | undefined {
  const label = meta.labels?.[key];
  if (!label) return undefined;
  // The annotation counts only while it still matches the label (someone may have relabelled the object).
  const full = meta.annotations?.[key];
  return full && labelValue(full) === label ? full : label;
}

/**
 * Labels (and, for cut values, annotations) that name owners: `{ key: labelValue(name) }`, plus
 * `{ key: name }` in the annotations when the label could not hold the full name.
 */
export function ownerMarks(entries: Record<string, string>): { labels: Record<string, string>; annotations: Record<string, string> } {
  const labels: Record<string, string> = {};
  const annotations: Record<string, string> = {};
  for (const [key, value] of Object.entries(entries)) {
    labels[key] = labelValue(value);
    if (labels[key] !== value) annotations[key] = value;
  }
  return { labels, annotations };
}

/** Why the registry can never serve a Module or Provider of this name, or undefined when it can. */
export function unservableName(name: string): string | undefined {
  // The registry protocols' path segments are object names without dots (see server/params.ts).
  if (name.includes(".")) return `the name "${name.slice(0, 64)}" contains '.', which the registry protocols cannot address; rename the resource`;
  if (!isObjectName(name)) return `"${name.slice(0, 64)}" is not a valid Kubernetes object name`;
  return undefined;
}
