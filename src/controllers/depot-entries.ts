// A Depot's entries as the controller works on them: each module or provider entry validated, its version
// constraint parsed, and its configuration merged with `spec.global` (entry fields win). One bad entry becomes an
// InvalidEntry with a reason and never hides the others.
//
// Inheritance (v0.9 plus the two items issue 6 adds):
// - modules: storageConfig, githubClientConfig, moduleConfig.fileFormat, moduleConfig.immutable and (additive)
//   moduleConfig.versionHistoryLimit from `global`; repoUrl defaults to https://github.com/<repoOwner>/<name>.
// - providers: storageConfig and (additive) githubClientConfig from `global`; namespace defaults to hashicorp.
import type { DepotObject } from "../api/kinds.ts";
import { isObjectName } from "../api/naming.ts";
import type { ModuleConfig, ProviderConfig } from "../api/types.ts";
import { ConstraintError, parseConstraints, type Constraints } from "../sources/constraints.ts";

export type EntryKind = "Module" | "Provider";

interface EntryBase {
  kind: EntryKind;
  /** Module/Provider resource name. */
  name: string;
  constraints: Constraints;
  historyLimit?: number;
  /** Use the GitHub App of the Depot's namespace (modules: discovery; providers: only passed on). */
  authenticated: boolean;
}

export interface ModuleEntry extends EntryBase {
  kind: "Module";
  owner: string;
  repo: string;
  discoverTags: boolean;
  /** Becomes Module.spec.moduleConfig. */
  config: ModuleConfig;
}

export interface ProviderEntry extends EntryBase {
  kind: "Provider";
  /** Upstream registry namespace. */
  namespace: string;
  /** Becomes Provider.spec.providerConfig. */
  config: ProviderConfig;
}

export type DepotEntry = ModuleEntry | ProviderEntry;

export interface InvalidEntry {
  kind: EntryKind;
  /** The entry's name, or `moduleConfigs[2]` when it has none. */
  name: string;
  /** True when `name` is a real resource name (the entry may still manage an existing resource). */
  named: boolean;
  reason: "InvalidConstraint" | "InvalidSpec";
  error: string;
}

export const entryKey = (e: { kind: EntryKind; name: string }) => `${e.kind}/${e.name}`;

const GITHUB_OWNER = /^[A-Za-z0-9-]{1,39}$/;
const GITHUB_REPO = /^[A-Za-z0-9._-]{1,100}$/;

function constraintsOf(raw: string | undefined): Constraints {
  if (raw === undefined || raw.trim() === "") throw new ConstraintError("versionConstraints is required (e.g. \">= 1.0.0\"; \">= 0.0.0\" mirrors every release)");
  return parseConstraints(raw);
}

function historyLimitOf(limit: number | undefined): number | undefined {
  return limit !== undefined && limit > 0 ? limit : undefined;
}

/** Resolves every entry of a Depot, in spec order (modules, then providers). */
export function resolveEntries(depot: DepotObject): { entries: DepotEntry[]; invalid: InvalidEntry[]; order: string[] } {
  const entries: DepotEntry[] = [];
  const invalid: InvalidEntry[] = [];
  /** entryKey of every entry, valid or not, in spec order. */
  const order: string[] = [];
  const global = depot.spec.global;
  const seen = new Set<string>();

  const check = (kind: EntryKind, index: number, rawName: string | undefined, build: (name: string) => DepotEntry) => {
    const name = rawName?.trim() ?? "";
    const position = `${kind === "Module" ? "moduleConfigs" : "providerConfigs"}[${index}]`;
    const duplicate = seen.has(`${kind}/${name}`);
    // A duplicate is reported under its position: the name (and its resource) belongs to the first entry.
    const label = name && !duplicate ? name : position;
    const fail = (reason: InvalidEntry["reason"], error: string) => {
      invalid.push({ kind, name: label, named: label === name && isObjectName(name), reason, error });
      order.push(`${kind}/${label}`);
    };
    if (!name) return fail("InvalidSpec", `${label}: name is required`);
    if (!isObjectName(name)) return fail("InvalidSpec", `${label}: "${name.slice(0, 100)}" is not a valid resource name (lowercase letters, digits, '-' and '.')`);
    if (duplicate) return fail("InvalidSpec", `${label}: another ${kind.toLowerCase()} entry is named "${name}"`);
    seen.add(`${kind}/${name}`);
    try {
      entries.push(build(name));
      order.push(`${kind}/${name}`);
    } catch (e) {
      if (e instanceof ConstraintError) return fail("InvalidConstraint", `${label}: ${e.message}`);
      if (e instanceof EntrySpecError) return fail("InvalidSpec", e.message);
      throw e;
    }
  };

  (depot.spec.moduleConfigs ?? []).forEach((m, i) => {
    check("Module", i, m.name, (name) => {
      const owner = m.repoOwner?.trim() ?? "";
      if (!owner) throw new EntrySpecError(`module ${name}: repoOwner is required`);
      if (!GITHUB_OWNER.test(owner) || !GITHUB_REPO.test(name)) throw new EntrySpecError(`module ${name}: "${owner.slice(0, 40)}/${name}" is not a valid GitHub repository`);
      const constraints = constraintsOf(m.versionConstraints);
      const { discoverTags, ...fields } = m;
      const config: ModuleConfig = structuredClone(fields);
      config.name = name;
      config.repoOwner = owner;
      config.storageConfig ??= structuredClone(global?.storageConfig);
      config.githubClientConfig ??= structuredClone(global?.githubClientConfig);
      config.fileFormat ??= global?.moduleConfig?.fileFormat;
      config.immutable ??= global?.moduleConfig?.immutable;
      config.versionHistoryLimit ??= global?.moduleConfig?.versionHistoryLimit;
      config.scanConfig ??= structuredClone(global?.moduleConfig?.scanConfig);
      config.repoUrl ??= `https://github.com/${owner}/${name}`;
      dropUndefined(config);
      return {
        kind: "Module",
        name,
        owner,
        repo: name,
        discoverTags: discoverTags === true,
        constraints,
        historyLimit: historyLimitOf(config.versionHistoryLimit),
        authenticated: config.githubClientConfig?.useAuthenticatedClient === true,
        config,
      };
    });
  });

  (depot.spec.providerConfigs ?? []).forEach((p, i) => {
    check("Provider", i, p.name, (name) => {
      const oses = p.operatingSystems ?? [];
      const arches = p.architectures ?? [];
      if (!oses.length || !arches.length) throw new EntrySpecError(`provider ${name}: operatingSystems and architectures are required`);
      const constraints = constraintsOf(p.versionConstraints);
      const config: ProviderConfig = structuredClone(p);
      config.name = name;
      config.namespace = p.namespace?.trim() || "hashicorp";
      config.storageConfig ??= structuredClone(global?.storageConfig);
      config.githubClientConfig ??= structuredClone(global?.githubClientConfig);
      dropUndefined(config);
      return {
        kind: "Provider",
        name,
        namespace: config.namespace,
        constraints,
        historyLimit: historyLimitOf(config.versionHistoryLimit),
        authenticated: config.githubClientConfig?.useAuthenticatedClient === true,
        config,
      };
    });
  });
  return { entries, invalid, order };
}

class EntrySpecError extends Error {}

function dropUndefined(o: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(o)) if (v === undefined) delete o[k];
}
