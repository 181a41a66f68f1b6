// The storage policy of a role, from flags (the default rule) and an optional policy file (per-namespace rules),
// re-read when the file changes: a ConfigMap mounted as a volume is updated in place by the kubelet, so mounting
// one is how a policy is "watched" on Kubernetes without restarting anything.
import { statSync } from "node:fs";
import { UsageError, type FlagSpec } from "../cli/flags.ts";
import type { Logger } from "../log.ts";
import { runtime } from "../runtime/index.ts";
import { parsePolicyDocument } from "../storage/policy-document.ts";
import { BACKENDS, StoragePolicy, type PolicyBackend, type StoragePolicyDocument, type StorageRule } from "../storage/policy.ts";

export const STORAGE_POLICY_FLAGS: FlagSpec[] = [
  { name: "storage-policy-file", env: "OPENDEPOT_STORAGE_POLICY_FILE", description: "YAML/JSON storage policy (trustedNamespaces, default, namespaces.<ns>); re-read when it changes" },
  { name: "storage-trusted-namespaces", env: "OPENDEPOT_STORAGE_TRUSTED_NAMESPACES", description: "Namespaces that may use any storage target, comma-separated; \"none\" for none (Kubernetes default: the server's own namespace; standalone: none)" },
  { name: "storage-allowed-backends", env: "OPENDEPOT_STORAGE_ALLOWED_BACKENDS", description: `Backends every other namespace may select (default: ${BACKENDS.join(",")})` },
  { name: "storage-allowed-endpoints", env: "OPENDEPOT_STORAGE_ALLOWED_ENDPOINTS", description: "Custom endpoint origins (s3.endpoint, gcs.endpoint, azureStorage.accountUrl) every namespace may use, comma-separated (default: none, only the clouds' own)" },
  { name: "storage-allowed-buckets", env: "OPENDEPOT_STORAGE_ALLOWED_BUCKETS", description: "Bucket globs (S3, GCS) every namespace may use; {namespace} is replaced (Kubernetes default: none; standalone: *)" },
  { name: "storage-allowed-azure-accounts", env: "OPENDEPOT_STORAGE_ALLOWED_AZURE_ACCOUNTS", description: "Azure storage account globs every namespace may use (Kubernetes default: none; standalone: *)" },
  { name: "storage-filesystem-roots", env: "OPENDEPOT_STORAGE_FILESYSTEM_ROOTS", description: "Directories fileSystem.directoryPath must resolve inside, comma-separated (default: the default storage dir; standalone: the data dir)" },
];

export type PolicyMode = { kind: "kubernetes"; ownNamespace: string } | { kind: "standalone"; dataDir: string };

const list = (v: string | undefined) => (v ?? "").split(",").map((s) => s.trim()).filter(Boolean);

/** The rule and trusted namespaces when nothing is configured. */
export function modeDefaults(mode: PolicyMode): StoragePolicyDocument {
  if (mode.kind === "standalone") {
    // Single tenant: whoever may write resources runs the registry. Clouds' own endpoints, any bucket,
    // filesystem under the data dir; custom endpoints only when listed.
    return { trustedNamespaces: [], default: { backends: [...BACKENDS], endpoints: [], buckets: ["*"], azureAccounts: ["*"], filesystemRoots: [mode.dataDir] } };
  }
  // Multi-tenant: the server's own namespace as in v0.9; everyone else only what the operator lists.
  return { trustedNamespaces: [mode.ownNamespace], default: { backends: [...BACKENDS], endpoints: [], buckets: [], azureAccounts: [], filesystemRoots: [] } };
}

/** Flags over the file over the mode's defaults. */
export function policyDocument(flags: Record<string, string | undefined>, mode: PolicyMode, file?: StoragePolicyDocument): StoragePolicyDocument {
  const base = modeDefaults(mode);
  const rule: StorageRule = { ...base.default, ...file?.default };
  const backends = list(flags["storage-allowed-backends"]);
  for (const b of backends) if (!(BACKENDS as readonly string[]).includes(b)) throw new UsageError(`--storage-allowed-backends: unknown backend "${b}" (expected ${BACKENDS.join(", ")})`);
  if (backends.length) rule.backends = backends as PolicyBackend[];
  if (flags["storage-allowed-endpoints"] !== undefined) rule.endpoints = list(flags["storage-allowed-endpoints"]);
  if (flags["storage-allowed-buckets"] !== undefined) rule.buckets = list(flags["storage-allowed-buckets"]);
  if (flags["storage-allowed-azure-accounts"] !== undefined) rule.azureAccounts = list(flags["storage-allowed-azure-accounts"]);
  if (flags["storage-filesystem-roots"] !== undefined) rule.filesystemRoots = list(flags["storage-filesystem-roots"]);
  const trustedFlag = flags["storage-trusted-namespaces"];
  const trusted = trustedFlag !== undefined ? (trustedFlag.trim() === "none" ? [] : list(trustedFlag)) : (file?.trustedNamespaces ?? base.trustedNamespaces);
  // Validate the flag-given parts with the file's parser: one definition of what a rule may hold.
  parsePolicyDocument(JSON.stringify({ default: rule }), "storage policy flags");
  return { trustedNamespaces: trusted, default: rule, namespaces: file?.namespaces ?? {} };
}

export interface PolicySource {
  current(): StoragePolicy;
  stop(): void;
}

/** The role's policy; with a file, polled for changes (an invalid new version is logged and the old one kept). */
export async function storagePolicyFromFlags(flags: Record<string, string | undefined>, mode: PolicyMode, log: Logger, defaultRoot?: string, pollMs = 10_000): Promise<PolicySource> {
  const path = flags["storage-policy-file"];
  const read = async () => parsePolicyDocument(await runtime.readText(path!), path);
  let fileDoc: StoragePolicyDocument | undefined;
  if (path) {
    try {
      fileDoc = await read();
    } catch (e) {
      throw new UsageError(`--storage-policy-file: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  let policy = new StoragePolicy(policyDocument(flags, mode, fileDoc), defaultRoot);
  log.info("storage policy", { file: path ?? null, trustedNamespaces: policy.document.trustedNamespaces, default: policy.document.default, namespaces: Object.keys(policy.document.namespaces ?? {}) });
  let timer: ReturnType<typeof setInterval> | undefined;
  if (path) {
    const stamp = () => {
      try {
        const s = statSync(path);
        return `${s.ino}:${s.size}:${s.mtimeMs}`;
      } catch {
        return "missing";
      }
    };
    let last = stamp();
    timer = setInterval(() => {
      const now = stamp();
      if (now === last) return;
      last = now;
      read()
        .then((doc) => {
          policy = new StoragePolicy(policyDocument(flags, mode, doc), defaultRoot);
          log.info("storage policy reloaded", { file: path, namespaces: Object.keys(doc.namespaces ?? {}) });
        })
        .catch((e: unknown) => log.error("storage policy file is invalid; keeping the previous policy", { file: path, error: e instanceof Error ? e.message : String(e) }));
    }, pollMs);
    timer.unref?.();
  }
  return { current: () => policy, stop: () => clearInterval(timer) };
}
