// Where a provider's source lives, for the go.mod scan (reference §3.4): providerConfig.sourceRepository, else
// what was resolved before (Provider.status.resolvedSourceRepository), else the OpenTofu docs API `link`, else
// github.com/<namespace>/terraform-provider-<name>. The first resolution is written to the Provider's status
// (never overwritten, as v0.9). Then go.mod and go.sum are fetched at the version's tag through the GitHub client
// (App auth, rate limits, GitHub Enterprise base URL all apply).
import { Provider, type ProviderObject, type VersionObject } from "../api/kinds.ts";
import { LABELS } from "../api/meta.ts";
import { refCandidates, type GitHubClient } from "../sources/github.ts";
import { UpstreamError } from "../sources/http.ts";
import type { OpenTofuDocsClient } from "../sources/opentofu-docs.ts";
import type { ResourceStore } from "../store/types.ts";
import { providerCoordinates } from "./fetch-provider.ts";
import { patchStatus } from "./writes.ts";

export interface SourceRepository {
  url: string;
  owner: string;
  repo: string;
  how: "spec" | "status" | "registry" | "heuristic";
}

/**
 * `https://github.com/owner/repo[.git][/]` (or the GitHub Enterprise host the controller talks to) → owner/repo.
 * Any other host is refused: the files would be fetched from GitHub under that owner/repo, i.e. from someone else.
 */
export function parseGitHubRepository(url: string, extraHosts: string[] = []): { owner: string; repo: string } | undefined {
  const m = /^https:\/\/([A-Za-z0-9.-]+(?::\d+)?)\/([A-Za-z0-9-]{1,39})\/([A-Za-z0-9._-]{1,100}?)(?:\.git)?\/?$/.exec(url.trim());
  if (!m || !["github.com", ...extraHosts].includes(m[1]!.toLowerCase())) return undefined;
  return { owner: m[2]!, repo: m[3]! };
}

const providerNameOf = (v: VersionObject) => v.metadata.labels?.[LABELS.provider] ?? v.metadata.ownerReferences?.find((o) => o.kind === "Provider")?.name;

export async function resolveSourceRepository(v: VersionObject, store: ResourceStore, docs: OpenTofuDocsClient, githubHosts: string[] = []): Promise<SourceRepository> {
  const c = providerCoordinates(v);
  const ns = v.metadata.namespace ?? "default";
  const ownerName = providerNameOf(v);
  const provider = ownerName ? await store.get<ProviderObject>(Provider, ns, ownerName) : undefined;
  const candidates: [string | undefined, SourceRepository["how"]][] = [
    [v.spec.providerConfigRef?.sourceRepository?.trim(), "spec"],
    [provider?.status?.resolvedSourceRepository?.trim(), "status"],
  ];
  for (const [url, how] of candidates) {
    if (!url) continue;
    const parsed = parseGitHubRepository(url, githubHosts);
    if (!parsed) throw new UpstreamError("GitHub", "Invalid", url, `source repository ${JSON.stringify(url)} (from ${how === "spec" ? "providerConfig.sourceRepository" : "Provider status"}) is not a https://github.com/<owner>/<repo> URL (or one on the configured GitHub Enterprise host)`);
    return { url, ...parsed, how };
  }
  let resolved: SourceRepository | undefined;
  try {
    const link = await docs.sourceLink(c.namespace, c.name);
    const parsed = link ? parseGitHubRepository(link, githubHosts) : undefined;
    if (link && parsed) resolved = { url: link.replace(/\.git$|\/$/g, ""), ...parsed, how: "registry" };
  } catch (e) {
    // Outages and rate limits are retried, not papered over with a guess that would be written down for good.
    if (!(e instanceof UpstreamError) || (e.kind !== "NotFound" && e.kind !== "Invalid")) throw e;
  }
  resolved ??= { url: `https://github.com/${c.namespace}/terraform-provider-${c.name}`, owner: c.namespace, repo: `terraform-provider-${c.name}`, how: "heuristic" };
  if (provider && !provider.status?.resolvedSourceRepository) await patchStatus(store, Provider, provider, { resolvedSourceRepository: resolved.url });
  return resolved;
}

export interface GoModules {
  ref: string;
  files: Record<string, Uint8Array>;
}

const GO_FILE_LIMIT = 4 * 1024 * 1024;

/**
 * Fetched go.mod/go.sum by repository and version, so rescans (a DB update, a policy change) cost GitHub nothing:
 * release tags do not move, and forceSync (which re-downloads the artifact) clears the entry. Bounded by bytes.
 */
export class GoModuleCache {
  private readonly entries = new Map<string, GoModules | null>();
  private bytes = 0;
  constructor(private readonly maxBytes = 32 * 1024 * 1024) {}

  async get(key: string, load: () => Promise<GoModules | undefined>, refresh: boolean): Promise<GoModules | undefined> {
    if (!refresh && this.entries.has(key)) return this.entries.get(key) ?? undefined;
    const value = await load();
    this.drop(key);
    const size = value ? Object.values(value.files).reduce((n, b) => n + b.byteLength, 0) : 0;
    if (size > this.maxBytes) return value;
    while (this.bytes + size > this.maxBytes || this.entries.size >= 4096) this.drop(this.entries.keys().next().value!);
    this.entries.set(key, value ?? null);
    this.bytes += size;
    return value;
  }

  private drop(key: string): void {
    const old = this.entries.get(key);
    if (old) this.bytes -= Object.values(old.files).reduce((n, b) => n + b.byteLength, 0);
    this.entries.delete(key);
  }
}

/** go.mod (and go.sum when present) at the version's tag (`v<version>`, else `<version>`); undefined without go.mod. */
export async function fetchGoModules(github: GitHubClient, repo: SourceRepository, version: string): Promise<GoModules | undefined> {
  for (const ref of refCandidates(version)) {
    const mod = await github.getFile(repo.owner, repo.repo, "go.mod", ref, GO_FILE_LIMIT);
    if (!mod) continue;
    const sum = await github.getFile(repo.owner, repo.repo, "go.sum", ref, GO_FILE_LIMIT);
    return { ref, files: { "go.mod": mod, ...(sum ? { "go.sum": sum } : {}) } };
  }
  return undefined;
}
