// Upstream clients for a Version: GitHub (anonymous, or as the GitHub App whose Secret lives in the resource's
// namespace) and the OpenTofu registry. Base URLs come from the environment so GitHub Enterprise, mirrors and the
// test fakes all work the same way.
import { Secret } from "../api/kinds.ts";
import { GITHUB_APP_SECRET, type KubeObject } from "../api/meta.ts";
import { gitHubAppCredentialsFromSecret, sharedGitHubAppTokenSource } from "../sources/github-app.ts";
import { GitHubClient } from "../sources/github.ts";
import { OpenTofuRegistryClient } from "../sources/opentofu.ts";
import type { ResourceStore } from "../store/types.ts";

export interface UpstreamOptions {
  githubApiUrl?: string;
  opentofuRegistryUrl?: string;
}

export class Upstreams {
  private readonly anonymousGitHub: GitHubClient;
  readonly opentofu: OpenTofuRegistryClient;

  constructor(
    private readonly store: ResourceStore,
    private readonly options: UpstreamOptions = {},
  ) {
    this.anonymousGitHub = new GitHubClient({ baseUrl: this.githubBase });
    this.opentofu = new OpenTofuRegistryClient({ baseUrl: options.opentofuRegistryUrl ?? process.env.OPENDEPOT_OPENTOFU_REGISTRY_URL ?? "https://registry.opentofu.org" });
  }

  /** The GitHub Enterprise host, when the API base is not api.github.com (repository URLs on it are accepted). */
  get githubHosts(): string[] {
    const host = new URL(this.githubBase).host.toLowerCase();
    return host === "api.github.com" ? [] : [host];
  }

  private get githubBase(): string {
    return this.options.githubApiUrl ?? process.env.OPENDEPOT_GITHUB_API_URL ?? "https://api.github.com";
  }

  /** A GitHub client for a namespace; authenticated as the GitHub App when asked to. */
  async github(namespace: string, authenticated: boolean): Promise<GitHubClient> {
    if (!authenticated) return this.anonymousGitHub;
    const secret = await this.store.get<KubeObject & { data?: Record<string, string>; stringData?: Record<string, string> }>(Secret, namespace, GITHUB_APP_SECRET);
    if (!secret) throw new Error(`githubClientConfig.useAuthenticatedClient is set but Secret ${namespace}/${GITHUB_APP_SECRET} does not exist`);
    // Secret data is base64 on the wire; gitHubAppCredentialsFromSecret peels that layer too.
    const credentials = gitHubAppCredentialsFromSecret({ ...(secret.data ?? {}), ...(secret.stringData ?? {}) });
    const source = sharedGitHubAppTokenSource(credentials, { baseUrl: this.githubBase });
    return new GitHubClient({ baseUrl: this.githubBase, token: source.provider() });
  }
}
