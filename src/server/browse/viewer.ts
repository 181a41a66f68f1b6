// Who is browsing and what they may see (v0.9 §5.8). Anonymous mode sees everything. OIDC: a missing, bad or
// expired token is a 401 with a challenge; a valid token sees the public resources (label on namespace and
// resource) plus what the GroupBinding selected for its groups grants; no groups or no binding → public only.
// Other auth modes (Kubernetes tokens) browse public resources only. Invisible and missing look the same (404).
import type { ActiveBinding, BindingIndex } from "../auth/binding-index.ts";
import { TokenRejected, type OidcVerifier } from "../auth/oidc-verifier.ts";
import { unauthorized } from "../auth/responses.ts";
import type { BrowseKind } from "./types.ts";

export type Viewer =
  | { kind: "all" }
  | { kind: "public" }
  | { kind: "groups"; subject: string; groups: string[] };

export interface BrowseAuth {
  /** The viewer behind a request, or the 401 to answer. */
  viewerOf(request: Request): Promise<Viewer | Response>;
  /** GroupBindings, when the mode has them. */
  readonly bindings?: BindingIndex;
}

export const anonymousBrowse: BrowseAuth = { viewerOf: async () => ({ kind: "all" }) };
export const publicOnlyBrowse: BrowseAuth = { viewerOf: async () => ({ kind: "public" }) };

const MAX_TOKEN_LENGTH = 16 * 1024;

export class OidcBrowseAuth implements BrowseAuth {
  constructor(
    private readonly verifier: OidcVerifier,
    readonly bindings: BindingIndex,
  ) {}

  async viewerOf(request: Request): Promise<Viewer | Response> {
    const header = request.headers.get("authorization");
    if (!header) return unauthorized("missing Authorization header", false);
    const token = /^Bearer[ ]+(\S+)[ ]*$/i.exec(header)?.[1];
    if (!token) return unauthorized("Authorization header is not a Bearer token", false);
    if (token.length > MAX_TOKEN_LENGTH) return unauthorized("malformed token", true);
    try {
      const principal = await this.verifier.verify(token);
      if (principal.groupsProblem || principal.groups.length === 0) return { kind: "public" };
      return { kind: "groups", subject: principal.subject, groups: principal.groups };
    } catch (e) {
      if (e instanceof TokenRejected) return unauthorized(e.reason, true);
      throw e;
    }
  }
}

/** Visibility decisions for one request. */
export class Visibility {
  constructor(
    readonly viewer: Viewer,
    private readonly isNamespacePublic: (ns: string) => boolean,
    private readonly bindings: BindingIndex | undefined,
    /** `public_only=true`: hide what is not public even from those who may see it. */
    readonly publicOnly = false,
  ) {}

  /**
   * Identifies the decisions of this request: equal keys decide everything alike (as long as `bindingsGeneration`
   * is unchanged). Undefined for callers with very many groups, whose decisions are not memoised.
   */
  get cacheKey(): string | undefined {
    const v = this.viewer;
    const key = `${this.publicOnly ? "P" : "-"}|${v.kind}|${v.kind === "groups" ? v.groups.join("\u0000") : ""}`;
    return key.length <= 4096 ? key : undefined;
  }

  get bindingsGeneration(): number {
    return this.bindings?.generation ?? 0;
  }

  isPublic(ns: string, labelledPublic: boolean): boolean {
    return labelledPublic && this.isNamespacePublic(ns);
  }

  resource(kind: BrowseKind, ns: string, name: string, labelledPublic: boolean): boolean {
    const pub = this.isPublic(ns, labelledPublic);
    if (pub) return true;
    if (this.publicOnly) return false;
    switch (this.viewer.kind) {
      case "all":
        return true;
      case "public":
        return false;
      case "groups": {
        const binding = this.bindingIn(ns);
        return !!binding && this.bindings!.grants(binding, kind, name);
      }
    }
  }

  /**
   * A Depot: public, or anonymous mode, or the caller's groups select a binding in its namespace (v0.9 §5.8).
   * What it lists is filtered separately, so a visible Depot never names an invisible resource.
   */
  depot(ns: string, labelledPublic: boolean): boolean {
    if (this.isPublic(ns, labelledPublic)) return true;
    if (this.publicOnly) return false;
    if (this.viewer.kind === "all") return true;
    if (this.viewer.kind === "public") return false;
    return !!this.bindingIn(ns);
  }

  private readonly selected = new Map<string, ActiveBinding | undefined>();
  /** The binding the caller's groups select in a namespace, looked up once per namespace per request. */
  private bindingIn(ns: string): ActiveBinding | undefined {
    if (this.viewer.kind !== "groups" || !this.bindings) return undefined;
    if (!this.selected.has(ns)) this.selected.set(ns, this.bindings.select(this.viewer.groups, ns).binding);
    return this.selected.get(ns);
  }

}
