// The storage policy: which storage targets each namespace may use. Storage targets are the operator's decision,
// not the tenant's: a Module's storageConfig can only select, within what the operator allowed, where the
// platform's credentials are used. Checked before any storage client exists (nothing contacted, no credential
// loaded) and again, per request, at the HTTP layer of the clients (endpoint-guard.ts).
import { existsSync, realpathSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import type { StorageConfig } from "../api/types.ts";
import type { EndpointGuard } from "./endpoint-guard.ts";
import { StorageNotAllowedError } from "./endpoint-guard.ts";

export const BACKENDS = ["fileSystem", "s3", "azureStorage", "gcs"] as const;
export type PolicyBackend = (typeof BACKENDS)[number];

/** What one namespace may use. Every string may contain `{namespace}`, replaced by the namespace's name. */
export interface StorageRule {
  /** Backends the namespace may select (default: all four). */
  backends?: PolicyBackend[];
  /** Origins (`https://minio.storage.svc:9000`) allowed as s3.endpoint, gcs.endpoint or a custom azureStorage.accountUrl. */
  endpoints?: string[];
  /** Globs (`*`, `?`) over s3.bucket and gcs.bucket. */
  buckets?: string[];
  /** Globs over azureStorage.accountName. */
  azureAccounts?: string[];
  /** Directories fileSystem.directoryPath must resolve inside (after `..` and symlinks). */
  filesystemRoots?: string[];
}

export interface StoragePolicyDocument {
  /** Namespaces whose resources may use any storage target (v0.9's behaviour; the server's own namespace). */
  trustedNamespaces?: string[];
  /** The rule of every namespace without an entry in `namespaces`. */
  default?: StorageRule;
  namespaces?: Record<string, StorageRule>;
}

/** A violation, with the field relative to the storageConfig (`gcs.endpoint`). */
export type StorageViolation = StorageNotAllowedError;

const AWS_HOST = /(^|\.)amazonaws\.com(\.cn)?$/;
const AZURE_BLOB_SUFFIXES = [".blob.core.windows.net", ".blob.core.chinacloudapi.cn", ".blob.core.usgovcloudapi.net"];
const GCS_ORIGIN = "https://storage.googleapis.com";

function glob(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${body}$`);
}

function originOf(text: string): URL | undefined {
  try {
    const u = new URL(text);
    return u.protocol === "https:" || u.protocol === "http:" ? u : undefined;
  } catch {
    return undefined;
  }
}

/** `path` with `..` resolved and every existing component's symlinks followed; the not-yet-existing tail kept. */
export function resolveReal(path: string): string {
  let existing = resolve(path);
  const tail: string[] = [];
  while (!existsSync(existing)) {
    const parent = dirname(existing);
    if (parent === existing) break;
    tail.unshift(existing.slice(parent.length).replace(/^[/\\]+/, ""));
    existing = parent;
  }
  let real: string;
  try {
    real = realpathSync(existing);
  } catch {
    real = existing;
  }
  return tail.length ? join(real, ...tail) : real;
}

export function isInside(path: string, root: string): boolean {
  const rel = relative(root, path);
  return rel === "" || (!rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel));
}

export class StoragePolicy {
  private readonly trusted: Set<string>;

  constructor(
    readonly document: StoragePolicyDocument,
    /** The directory used for resources without a storageConfig (always allowed: the operator chose it). */
    private readonly defaultRoot?: string,
  ) {
    this.trusted = new Set(document.trustedNamespaces ?? []);
  }

  /** A policy that allows everything (tests and library use; never the default of a role). */
  static permissive(): StoragePolicy {
    return new StoragePolicy({ default: { backends: [...BACKENDS], endpoints: ["*"], buckets: ["*"], azureAccounts: ["*"], filesystemRoots: ["/"] } });
  }

  isTrusted(namespace: string | undefined): boolean {
    return namespace !== undefined && this.trusted.has(namespace);
  }

  ruleFor(namespace: string | undefined): Required<StorageRule> {
    const rule = (namespace !== undefined ? this.document.namespaces?.[namespace] : undefined) ?? this.document.default ?? {};
    const sub = (list: string[] | undefined) => (list ?? []).map((s) => s.replaceAll("{namespace}", namespace ?? ""));
    return {
      backends: rule.backends ?? [...BACKENDS],
      endpoints: sub(rule.endpoints),
      buckets: sub(rule.buckets),
      azureAccounts: sub(rule.azureAccounts),
      filesystemRoots: sub(rule.filesystemRoots),
    };
  }

  /** The first field of `config` that `namespace` may not use, or undefined when all is allowed. */
  check(namespace: string | undefined, config: StorageConfig | undefined): StorageViolation | undefined {
    if (!config || this.isTrusted(namespace)) return undefined;
    const rule = this.ruleFor(namespace);
    const ns = namespace ?? "(none)";
    const refuse = (field: string, what: string) => new StorageNotAllowedError(field, `${what} is not allowed for namespace ${ns} by the storage policy`);
    const backend = BACKENDS.find((b) => config[b] !== undefined);
    if (!backend) return undefined; // no backend at all: the factory reports the invalid config
    if (!rule.backends.includes(backend)) return refuse(backend, `backend ${backend}`);
    const bucketOk = (name: string) => rule.buckets.some((g) => glob(g).test(name));
    switch (backend) {
      case "fileSystem": {
        const dir = config.fileSystem?.directoryPath;
        if (!dir) return undefined; // the operator's default directory
        if (dir.includes("\0")) return refuse("fileSystem.directoryPath", "a path with a NUL byte");
        const real = resolveReal(dir);
        const roots = [...rule.filesystemRoots, ...(this.defaultRoot ? [this.defaultRoot] : [])].map(resolveReal);
        if (roots.some((r) => isInside(real, r))) return undefined;
        return refuse("fileSystem.directoryPath", `${JSON.stringify(dir)} (resolves to ${real}, outside ${roots.length ? roots.join(", ") : "every allowed root"})`);
      }
      case "s3": {
        const s3 = config.s3!;
        if (s3.endpoint !== undefined && !this.endpointListed(rule, s3.endpoint)) return refuse("s3.endpoint", `endpoint ${JSON.stringify(s3.endpoint)}`);
        if (!bucketOk(s3.bucket)) return refuse("s3.bucket", `bucket ${JSON.stringify(s3.bucket)}`);
        return undefined;
      }
      case "gcs": {
        const gcs = config.gcs!;
        if (gcs.endpoint !== undefined && !this.endpointListed(rule, gcs.endpoint)) return refuse("gcs.endpoint", `endpoint ${JSON.stringify(gcs.endpoint)}`);
        if (!bucketOk(gcs.bucket)) return refuse("gcs.bucket", `bucket ${JSON.stringify(gcs.bucket)}`);
        return undefined;
      }
      case "azureStorage": {
        const az = config.azureStorage!;
        if (!isAzureAccountUrl(az.accountUrl, az.accountName) && !this.endpointListed(rule, az.accountUrl)) {
          return refuse("azureStorage.accountUrl", `account URL ${JSON.stringify(az.accountUrl)}`);
        }
        if (!rule.azureAccounts.some((g) => glob(g).test(az.accountName))) return refuse("azureStorage.accountName", `storage account ${JSON.stringify(az.accountName)}`);
        return undefined;
      }
    }
  }

  private endpointListed(rule: Required<StorageRule>, endpoint: string): boolean {
    const u = originOf(endpoint);
    if (!u) return false;
    return rule.endpoints.some((e) => e === "*" || originOf(e)?.origin === u.origin);
  }

  /**
   * The HTTP-layer check for a client built for `namespace`: a request URL may receive credentials only if its
   * origin is the cloud's own service or an endpoint the namespace's rule lists (S3 virtual-hosted style adds the
   * bucket as a subdomain of the listed host). Trusted namespaces may reach the endpoint they configured.
   */
  endpointGuard(namespace: string | undefined, config: StorageConfig): EndpointGuard {
    const rule = this.ruleFor(namespace);
    const configured = [config.s3?.endpoint, config.gcs?.endpoint, config.azureStorage?.accountUrl].flatMap((e) => (e && originOf(e) ? [originOf(e)!] : []));
    const listed = [...rule.endpoints.flatMap((e) => (originOf(e) ? [originOf(e)!] : [])), ...(this.isTrusted(namespace) ? configured : [])];
    const any = rule.endpoints.includes("*");
    return (url) => {
      if (any) return undefined;
      if (url.protocol === "https:" && (AWS_HOST.test(url.hostname) || url.origin === GCS_ORIGIN || AZURE_BLOB_SUFFIXES.some((s) => url.hostname.endsWith(s)))) return undefined;
      for (const l of listed) {
        if (url.origin === l.origin) return undefined;
        if (url.protocol === l.protocol && url.port === l.port && url.hostname.endsWith(`.${l.hostname}`)) return undefined;
      }
      return `${url.origin} is neither the cloud's own service nor an endpoint the storage policy lists for namespace ${namespace ?? "(none)"}`;
    };
  }
}

/** The account's own Blob endpoint in a public or sovereign Azure cloud. */
export function isAzureAccountUrl(accountUrl: string, accountName: string): boolean {
  const u = originOf(accountUrl);
  if (!u || u.protocol !== "https:" || u.port !== "" || u.username || u.password) return false;
  return AZURE_BLOB_SUFFIXES.some((s) => u.hostname === `${accountName}${s}`);
}
