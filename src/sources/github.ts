// GitHub REST client for what the registry needs from a module repository: releases and tags (for Depot
// discovery), source archives of a tag (for Versions) and the README. Works against api.github.com and GitHub
// Enterprise (`https://ghe.example/api/v3`) alike: every URL derives from baseUrl, pagination follows Link headers.
import { type FetchLike, UpstreamError, UpstreamHttp, type UpstreamHttpOptions } from "./http.ts";

export type ArchiveFormat = "zip" | "tar.gz";

export interface GitHubRelease {
  tag: string;
  name: string | null;
  prerelease: boolean;
  draft: boolean;
  publishedAt: string | null;
}

export interface GitHubTag {
  name: string;
  sha: string;
}

export interface ResolvedArchive {
  /** The ref that existed (`v1.2.0` or `1.2.0`). */
  ref: string;
  stream: ReadableStream<Uint8Array>;
}

export interface GitHubClientOptions extends Partial<Omit<UpstreamHttpOptions, "service" | "fetch">> {
  baseUrl?: string;
  /** Called per request so an expiring installation token is refreshed transparently; undefined = anonymous. */
  token?: () => Promise<string | undefined>;
  fetch?: FetchLike;
  /** Safety stop for pagination (100 per page). */
  maxPages?: number;
}

interface ReleaseJson {
  tag_name?: string;
  name?: string | null;
  draft?: boolean;
  prerelease?: boolean;
  published_at?: string | null;
}

interface TagJson {
  name?: string;
  commit?: { sha?: string };
}

interface ReadmeJson {
  content?: string;
  encoding?: string;
}

export const README_LIMIT = 1024 * 1024;

/** Parses an RFC 8288 Link header into rel → URL (GitHub: `<url>; rel="next", <url>; rel="last"`). */
export function parseLinkHeader(header: string | null): Record<string, string> {
  const links: Record<string, string> = {};
  if (!header) return links;
  for (const part of header.split(",")) {
    const m = /<([^>]*)>\s*;(.*)$/.exec(part.trim());
    if (!m) continue;
    const rel = /\brel\s*=\s*"?([^";]+)"?/i.exec(m[2] ?? "");
    if (rel?.[1]) for (const r of rel[1].trim().split(/\s+/)) links[r.toLowerCase()] = m[1] ?? "";
  }
  return links;
}

/** Candidate git refs for a registry version: `v<version>` first (the common convention), then the bare version. */
export function refCandidates(version: string): string[] {
  const bare = version.trim().replace(/^v/i, "");
  return [`v${bare}`, bare];
}

export class GitHubClient {
  readonly baseUrl: string;
  private readonly http: UpstreamHttp;
  private readonly token?: () => Promise<string | undefined>;
  private readonly maxPages: number;

  constructor(opts: GitHubClientOptions = {}) {
    this.baseUrl = (opts.baseUrl ?? process.env.OPENDEPOT_GITHUB_API_URL ?? "https://api.github.com").replace(/\/+$/, "");
    this.http = new UpstreamHttp({ ...opts, service: "GitHub" });
    this.token = opts.token;
    this.maxPages = opts.maxPages ?? 1000;
  }

  /** All published releases (drafts skipped), newest first as GitHub orders them, across every page. */
  async listReleases(owner: string, repo: string): Promise<GitHubRelease[]> {
    const items = await this.paginate<ReleaseJson>(`${this.repoUrl(owner, repo)}/releases?per_page=100`);
    const releases: GitHubRelease[] = [];
    for (const r of items) {
      if (r.draft || typeof r.tag_name !== "string" || r.tag_name === "") continue;
      releases.push({ tag: r.tag_name, name: r.name ?? null, prerelease: r.prerelease === true, draft: false, publishedAt: r.published_at ?? null });
    }
    return releases;
  }

  /** All tags (for repositories that tag without publishing releases). */
  async listTags(owner: string, repo: string): Promise<GitHubTag[]> {
    const items = await this.paginate<TagJson>(`${this.repoUrl(owner, repo)}/tags?per_page=100`);
    return items.filter((t) => typeof t.name === "string").map((t) => ({ name: t.name!, sha: t.commit?.sha ?? "" }));
  }

  /**
   * The source archive of a ref. GitHub answers 302 to codeload; the shared client follows it and drops the
   * Authorization header because codeload is another origin.
   */
  async downloadArchive(owner: string, repo: string, ref: string, format: ArchiveFormat): Promise<ReadableStream<Uint8Array>> {
    const kind = format === "zip" ? "zipball" : "tarball";
    const res = await this.http.stream(`${this.repoUrl(owner, repo)}/${kind}/${encodeRef(ref)}`, { headers: await this.headers() });
    if (!res.body) throw this.http.error("Invalid", res.url || this.baseUrl, `empty ${kind} for ${owner}/${repo}@${ref}`, res.status);
    return res.body;
  }

  /** Archive of a version whose tag may or may not carry the `v` prefix: whichever ref exists wins. */
  async resolveArchive(owner: string, repo: string, version: string, format: ArchiveFormat): Promise<ResolvedArchive> {
    const tried: string[] = [];
    let last: UpstreamError | undefined;
    for (const ref of refCandidates(version)) {
      try {
        return { ref, stream: await this.downloadArchive(owner, repo, ref, format) };
      } catch (err) {
        // Only "this ref does not exist" moves on; rate limits and outages must surface as they are.
        if (!(err instanceof UpstreamError) || err.kind !== "NotFound") throw err;
        tried.push(ref);
        last = err;
      }
    }
    throw new UpstreamError("GitHub", "NotFound", last?.url ?? this.repoUrl(owner, repo),
      `GitHub: no tag ${tried.map((t) => `"${t}"`).join(" or ")} in ${owner}/${repo} (or the repository does not exist or is private)`,
      last?.status, undefined, { cause: last });
  }

  /** README of a ref as text (up to `limit` bytes), or undefined when the repository has none at that ref. */
  async getReadme(owner: string, repo: string, ref: string, limit = README_LIMIT): Promise<string | undefined> {
    const url = `${this.repoUrl(owner, repo)}/readme?ref=${encodeURIComponent(ref)}`;
    // base64 inflates by 4/3 plus JSON framing; anything bigger is not a README we want to store.
    const { value, response } = await this.http.json<ReadmeJson>(url, { headers: await this.headers(), allowStatus: [404] }, Math.ceil(limit * 1.4) + 64 * 1024);
    if (response.status === 404) return undefined;
    if (value.encoding !== "base64" || typeof value.content !== "string") {
      throw this.http.error("Invalid", url, `README of ${owner}/${repo}@${ref} has unexpected encoding ${JSON.stringify(value.encoding)}`);
    }
    const bytes = Buffer.from(value.content.replace(/\s+/g, ""), "base64");
    return new TextDecoder().decode(bytes.subarray(0, limit));
  }

  /** README for a registry version, trying `v<version>` then `<version>` like resolveArchive. */
  async getReadmeForVersion(owner: string, repo: string, version: string, limit = README_LIMIT): Promise<string | undefined> {
    for (const ref of refCandidates(version)) {
      const text = await this.getReadme(owner, repo, ref, limit);
      if (text !== undefined) return text;
    }
    return undefined;
  }

  /** One file of a ref (raw bytes, at most `limit`), or undefined when the ref has no such file. */
  async getFile(owner: string, repo: string, path: string, ref: string, limit = README_LIMIT): Promise<Uint8Array | undefined> {
    if (!/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(path) || path.split("/").includes("..")) throw this.http.error("Invalid", this.baseUrl, `invalid repository path ${JSON.stringify(path)}`);
    const url = `${this.repoUrl(owner, repo)}/contents/${path}?ref=${encodeURIComponent(ref)}`;
    const headers = { ...(await this.headers()), accept: "application/vnd.github.raw" };
    const { bytes, response } = await this.http.bytes(url, { headers, allowStatus: [404] }, limit);
    return response.status === 404 ? undefined : bytes;
  }

  private repoUrl(owner: string, repo: string): string {
    if (!owner || !repo) throw this.http.error("Invalid", this.baseUrl, "repository owner and name are required");
    return `${this.baseUrl}/repos/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}`;
  }

  private async headers(): Promise<Record<string, string>> {
    const h: Record<string, string> = {
      accept: "application/vnd.github+json",
      "x-github-api-version": "2022-11-28",
      "user-agent": "opendepot",
    };
    const token = await this.token?.();
    if (token) h.authorization = `Bearer ${token}`;
    return h;
  }

  private async paginate<T>(first: string): Promise<T[]> {
    const origin = new URL(first).origin;
    const all: T[] = [];
    let url: string | undefined = first;
    for (let page = 0; url; page++) {
      if (page >= this.maxPages) throw this.http.error("Invalid", first, `more than ${this.maxPages} pages at ${first}`);
      const { value, response }: { value: unknown; response: Response } = await this.http.json<unknown>(url, { headers: await this.headers() });
      if (!Array.isArray(value)) throw this.http.error("Invalid", url, `expected a JSON array from ${url}`);
      all.push(...(value as T[]));
      const next: string | undefined = parseLinkHeader(response.headers.get("link")).next;
      if (next && new URL(next, url).origin !== origin) {
        // Following a foreign "next" would hand our token to whoever wrote the header.
        throw this.http.error("Invalid", url, `pagination link points to another origin: ${new URL(next, url).origin}`);
      }
      url = next ? new URL(next, url).toString() : undefined;
    }
    return all;
  }
}

function encodeRef(ref: string): string {
  if (!ref || ref.split("/").some((s) => s === "" || s === "." || s === "..")) {
    throw new UpstreamError("GitHub", "Invalid", "", `GitHub: invalid git ref ${JSON.stringify(ref)}`);
  }
  return ref.split("/").map(encodeURIComponent).join("/");
}
