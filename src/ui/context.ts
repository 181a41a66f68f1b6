// Who is looking at a page, resolved exactly as the browse API would resolve them: the session's ID token goes
// through the browse API's own BrowseAuth (same verifier, same GroupBindings), so a page never shows more or
// less than /opendepot/ui/v1 would show that user. Visitors without a session see what a token without groups
// sees (public resources); in anonymous mode everyone sees everything, as on the API.
import type { BrowseDeps } from "../server/browse/routes.ts";
import { Visibility, type Viewer } from "../server/browse/viewer.ts";
import { CookieSealer, clearCookie, readCookie } from "./session.ts";

export const SESSION_COOKIE = "opendepot_session";
export const THEME_COOKIE = "opendepot_color_mode";

export interface SessionData {
  idToken: string;
  name?: string;
  email?: string;
}

export interface PageContext {
  url: URL;
  vis: Visibility;
  user?: { name?: string; email?: string };
  /** Sign-in is offered (OIDC configured). */
  signIn: boolean;
  theme?: "light" | "dark";
  /** host[:port] Terraform addresses this registry by, for usage snippets. */
  host: string;
  notice?: string;
  /** Set-Cookie headers the response must carry (e.g. an expired session cleared). */
  cookies: string[];
  secure: boolean;
}

const HOST = /^[A-Za-z0-9.-]{1,253}(:\d{1,5})?$|^\[[0-9A-Fa-f:.]{2,45}\](:\d{1,5})?$/;

export class ContextResolver {
  constructor(
    private readonly browse: BrowseDeps,
    private readonly sealer: CookieSealer,
    private readonly options: { publicUrl?: string; signIn: boolean },
  ) {}

  isSecure(url: URL): boolean {
    return (this.options.publicUrl ? new URL(this.options.publicUrl).protocol : url.protocol) === "https:";
  }

  hostOf(request: Request, url: URL): string {
    if (this.options.publicUrl) return new URL(this.options.publicUrl).host;
    const host = request.headers.get("host") ?? url.host;
    return HOST.test(host) ? host : "localhost";
  }

  /** The viewer of a bearer token through the browse API's auth; undefined when it is rejected. */
  async viewerOfToken(token: string | undefined, url: URL): Promise<Viewer | undefined> {
    const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
    const viewer = await this.browse.auth.viewerOf(new Request(url.toString(), { headers }));
    return viewer instanceof Response ? undefined : viewer;
  }

  async resolve(request: Request, url: URL): Promise<PageContext> {
    const secure = this.isSecure(url);
    const cookies: string[] = [];
    let notice: string | undefined;
    let user: PageContext["user"];
    let viewer: Viewer = { kind: "public" };
    const session = await this.sealer.open<SessionData>("session", readCookie(request, SESSION_COOKIE));
    if (session) {
      const v = await this.viewerOfToken(session.idToken, url);
      if (v) {
        viewer = v;
        user = { name: session.name, email: session.email };
      } else {
        cookies.push(clearCookie(SESSION_COOKIE, { secure }));
        notice = "Your session has expired. Sign in again to see what your groups grant.";
      }
    } else if (readCookie(request, SESSION_COOKIE)) {
      cookies.push(clearCookie(SESSION_COOKIE, { secure }));
    }
    if (!user) viewer = (await this.viewerOfToken(undefined, url)) ?? { kind: "public" };
    const themeCookie = readCookie(request, THEME_COOKIE);
    const authError = url.searchParams.get("auth_error");
    if (authError) notice = `Sign-in failed: ${authError.slice(0, 200)}`;
    const catalog = this.browse.catalog;
    return {
      url,
      vis: new Visibility(viewer, (ns) => catalog.isNamespacePublic(ns), this.browse.auth.bindings),
      user,
      signIn: this.options.signIn,
      theme: themeCookie === "dark" || themeCookie === "light" ? themeCookie : undefined,
      host: this.hostOf(request, url),
      notice,
      cookies,
      secure,
    };
  }
}
