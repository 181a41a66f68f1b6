// The OpenTofu registry's docs API (api.opentofu.org): where a provider's source lives (`link`), for the provider
// source scan. Separate from the protocol registry (registry.opentofu.org) because it is another service.
import { UpstreamError, UpstreamHttp, type UpstreamHttpOptions } from "./http.ts";

export class OpenTofuDocsClient {
  readonly baseUrl: string;
  private readonly http: UpstreamHttp;

  constructor(opts: Partial<Omit<UpstreamHttpOptions, "service">> & { baseUrl?: string } = {}) {
    this.baseUrl = (opts.baseUrl ?? process.env.OPENDEPOT_OPENTOFU_API_URL ?? "https://api.opentofu.org").replace(/\/+$/, "");
    this.http = new UpstreamHttp({ ...opts, service: "OpenTofu docs API" });
  }

  /** The provider's repository URL as the registry lists it, or undefined when it lists none. */
  async sourceLink(namespace: string, name: string): Promise<string | undefined> {
    const seg = (s: string) => {
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(s)) throw new UpstreamError("OpenTofu docs API", "Invalid", this.baseUrl, `invalid provider address segment ${JSON.stringify(s)}`);
      return s.toLowerCase();
    };
    const url = `${this.baseUrl}/registry/docs/providers/${seg(namespace)}/${seg(name)}/index.json`;
    const { bytes, response } = await this.http.bytes(url, { allowStatus: [404] }, 4 * 1024 * 1024);
    if (response.status === 404) return undefined;
    let value: { link?: unknown } | undefined;
    try {
      value = JSON.parse(new TextDecoder().decode(bytes)) as { link?: unknown };
    } catch (cause) {
      throw this.http.error("Invalid", url, `${url} answered with invalid JSON`, response.status, undefined, cause);
    }
    return typeof value?.link === "string" && value.link.trim() ? value.link.trim() : undefined;
  }
}
