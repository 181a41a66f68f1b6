// The Registry Explorer mounted in front of the registry app: it answers only its own paths (`/`, `/depots`,
// `/stats`, `/auth/*`, `/_ui/*` and `/<namespace>/<module|provider>/<name>`); protocol and API paths
// (`/.well-known/`, `/opendepot/…`, health) always reach the app first. Every page carries a CSP without
// inline scripts and frame-ancestors 'none'; the listener adds the registry's other security headers.
import type { Logger } from "../log.ts";
import { resourcePath } from "../server/browse/query.ts";
import type { BrowseDeps } from "../server/browse/routes.ts";
import { BadRequest } from "../server/params.ts";
import { serveAsset } from "./assets.ts";
import { ContextResolver, THEME_COOKIE, type PageContext } from "./context.ts";
import type { UiSettings } from "./flags.ts";
import { html, type Html } from "./html.ts";
import { page } from "./layout.ts";
import { OidcLogin, safeReturn, type LoginConfig } from "./oidc-login.ts";
import { CookieSealer, setCookie } from "./session.ts";

export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

const PAGE_HEADERS: Record<string, string> = {
  "content-type": "text/html; charset=utf-8",
  "content-security-policy": CONTENT_SECURITY_POLICY,
  "x-frame-options": "DENY",
  "cross-origin-opener-policy": "same-origin",
  "permissions-policy": "camera=(), microphone=(), geolocation=()",
  "cache-control": "private, no-cache",
  vary: "Cookie",
};

/** Paths that belong to the registry protocols and APIs, never to the Explorer. */
const RESERVED = /^\/(\.well-known\/|opendepot\/(modules|providers|ui|mirror)\/|healthz$|readyz$|metrics$|v1\/)/;
const RESOURCE = /^\/([^/]{1,63})\/(module|provider)\/([^/]{1,253})\/?$/;

export interface ExplorerOptions {
  browse: BrowseDeps;
  urlKey: Uint8Array;
  log: Logger;
  publicUrl?: string;
  settings: UiSettings;
  /** The registry's login.v1 document (OIDC mode): where the authorization and token endpoints are. */
  login?: Record<string, unknown>;
  fetch?: typeof fetch;
}

type Handler = (request: Request) => Response | Promise<Response>;

// The pages (and the markdown renderer behind them) are imported at the first page asked for, not at startup.
let pagesLoading: Promise<typeof import("./pages/depots.ts") & typeof import("./pages/explorer.ts") & typeof import("./pages/resource.ts") & typeof import("./pages/stats.ts")> | undefined;
const loadPages = () => {
  pagesLoading ??= Promise.all([import("./pages/depots.ts"), import("./pages/explorer.ts"), import("./pages/resource.ts"), import("./pages/stats.ts")]).then(
    ([depots, explorer, resource, stats]) => ({ ...depots, ...explorer, ...resource, ...stats }),
    (e: unknown) => {
      pagesLoading = undefined;
      throw e;
    },
  );
  return pagesLoading;
};

export async function createExplorer(o: ExplorerOptions) {
  const sealer = await CookieSealer.fromUrlSigningKey(o.urlKey);
  const loginConfig: LoginConfig | undefined =
    o.login && typeof o.login.authz === "string" && typeof o.login.token === "string"
      ? { clientId: o.settings.clientId ?? String(o.login.client), clientSecret: o.settings.clientSecret, authzUrl: o.login.authz, tokenUrl: o.login.token, scopes: o.settings.scopes }
      : undefined;
  const resolver = new ContextResolver(o.browse, sealer, { publicUrl: o.publicUrl, signIn: !!loginConfig });
  const login = new OidcLogin(loginConfig, sealer, resolver, o.log.child({ component: "ui-login" }), { publicUrl: o.publicUrl, fetch: o.fetch });

  const respond = (ctx: PageContext, status: number, body: Html | string) => {
    const headers = new Headers(PAGE_HEADERS);
    for (const c of ctx.cookies) headers.append("set-cookie", c);
    return new Response(body.toString(), { status, headers });
  };
  const errorPage = (ctx: PageContext, status: number, title: string, message: string) =>
    respond(ctx, status, page(ctx, { title, section: "none", body: html`<h1>${title}</h1><p>${message}</p><p><a href="/">Back to the Explorer</a></p>` }));

  async function render(request: Request, url: URL): Promise<Response | undefined> {
    const path = url.pathname;
    if (path.startsWith("/_ui/")) {
      if (path === "/_ui/theme") {
        const mode = url.searchParams.get("set") === "dark" ? "dark" : "light";
        const headers = new Headers({ location: safeReturn(url.searchParams.get("back")), "cache-control": "no-store" });
        headers.append("set-cookie", setCookie(THEME_COOKIE, mode, { maxAge: 31_536_000, secure: resolver.isSecure(url), httpOnly: false }));
        return new Response(null, { status: 303, headers });
      }
      return serveAsset(path, request);
    }
    if (path.startsWith("/auth/")) return login.handle(request, url);
    const resource = RESOURCE.exec(path);
    if (path !== "/" && path !== "/depots" && path !== "/stats" && !resource) return undefined;
    const ctx = await resolver.resolve(request, url);
    const { depotsPage, depotsView, explorerPage, explorerQuery, explorerResults, nodePanel, resourcePage, statsPage } = await loadPages();
    try {
      const fragment = url.searchParams.get("fragment");
      if (path === "/") {
        const f = explorerQuery(url);
        return respond(ctx, 200, fragment === "results" ? explorerResults(o.browse, ctx, f) : explorerPage(o.browse, ctx, f));
      }
      if (path === "/depots") {
        if (fragment === "panel") {
          const v = depotsView(o.browse, ctx);
          return respond(ctx, 200, html`${nodePanel(v.graph, v.focus)}`);
        }
        return respond(ctx, 200, depotsPage(o.browse, ctx));
      }
      if (path === "/stats") return respond(ctx, 200, statsPage(o.browse, ctx));
      const [, ns, kind, name] = resource!;
      const decode = (s: string) => {
        try {
          return decodeURIComponent(s);
        } catch {
          throw new BadRequest("the path is not valid percent-encoding");
        }
      };
      const p = resourcePath({ namespace: decode(ns!), kind, name: decode(name!) });
      const r = resourcePage(o.browse, ctx, p.kind, p.namespace, p.name);
      if (!r) return errorPage(ctx, 404, "Not found", `There is no ${p.kind} ${p.namespace}/${p.name} that you can see.${ctx.signIn && !ctx.user ? " Signing in may show more." : ""}`);
      return respond(ctx, r.status, r.body);
    } catch (e) {
      if (e instanceof BadRequest) return errorPage(ctx, 400, "Bad request", e.message);
      o.log.error("explorer page failed", { path: path.slice(0, 256), error: e });
      return errorPage(ctx, 500, "Something went wrong", "The page could not be rendered. The error is in the registry's log.");
    }
  }

  return {
    /** The app behind the Explorer: reserved paths go straight to it, and so does anything the Explorer does not own. */
    around(app: Handler): Handler {
      return async (request) => {
        const url = new URL(request.url);
        if (RESERVED.test(url.pathname)) return app(request);
        return (await render(request, url)) ?? app(request);
      };
    },
  };
}
