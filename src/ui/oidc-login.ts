// Sign-in for the Explorer: OIDC authorization code with PKCE (S256), handled by the server. The state, nonce
// and code verifier travel in one sealed, 5-minute, HttpOnly cookie scoped to /auth; the ID token the issuer
// returns is checked by the browse API's own verifier before it is sealed into the session cookie. v0.9's
// answers: state/nonce mismatch or missing code/state/verifier → 400, IdP error → back to `/?auth_error=`,
// token exchange failure or no id_token → 502, sign-in not configured → 503.
import { readBounded } from "../kits/http.ts";
import type { Logger } from "../log.ts";
import { SESSION_COOKIE, type ContextResolver, type SessionData } from "./context.ts";
import { clearCookie, readCookie, setCookie, type CookieSealer } from "./session.ts";

export interface LoginConfig {
  clientId: string;
  clientSecret?: string;
  authzUrl: string;
  tokenUrl: string;
  scopes: string[];
}

const LOGIN_COOKIE = "opendepot_oidc";
const LOGIN_TTL_SECONDS = 300;
const SESSION_MAX_SECONDS = 12 * 3600;
const TOKEN_TIMEOUT_MS = 10_000;
const MAX_TOKEN_RESPONSE = 64 * 1024;

interface PendingLogin {
  state: string;
  nonce: string;
  verifier: string;
  returnTo: string;
}

const random = () => Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");
const challengeOf = async (verifier: string) => Buffer.from(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier))).toString("base64url");

/** A same-site path to come back to; anything else (absolute, protocol-relative, backslashes) becomes "/". */
export function safeReturn(value: string | null | undefined): string {
  if (!value || value.length > 1024 || !value.startsWith("/") || value.startsWith("//") || /[\\\u0000-\u001f]/.test(value) || value.startsWith("/auth/")) return "/";
  return value;
}

function text(status: number, message: string, headers: Record<string, string | string[]> = {}): Response {
  const h = new Headers({ "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" });
  for (const [k, v] of Object.entries(headers)) for (const x of Array.isArray(v) ? v : [v]) h.append(k, x);
  return new Response(`${message}\n`, { status, headers: h });
}

function redirect(location: string, cookies: string[] = []): Response {
  const h = new Headers({ location, "cache-control": "no-store" });
  for (const c of cookies) h.append("set-cookie", c);
  return new Response(null, { status: 302, headers: h });
}

export class OidcLogin {
  constructor(
    private readonly config: LoginConfig | undefined,
    private readonly sealer: CookieSealer,
    private readonly resolver: ContextResolver,
    private readonly log: Logger,
    private readonly options: { publicUrl?: string; fetch?: typeof fetch } = {},
  ) {}

  get enabled(): boolean {
    return !!this.config;
  }

  /** Where the IdP sends the browser back: --public-url, else the scheme and Host the browser used. */
  private callbackUrl(request: Request, url: URL): string {
    const origin = this.options.publicUrl ?? `${url.protocol}//${this.resolver.hostOf(request, url)}`;
    return `${origin.replace(/\/+$/, "")}/auth/callback`;
  }

  async handle(request: Request, url: URL): Promise<Response | undefined> {
    switch (url.pathname) {
      case "/auth/login":
        return this.login(request, url);
      case "/auth/callback":
        return this.callback(request, url);
      case "/auth/logout":
        return redirect("/", [clearCookie(SESSION_COOKIE, { secure: this.resolver.isSecure(url) })]);
    }
    return undefined;
  }

  private async login(request: Request, url: URL): Promise<Response> {
    const c = this.config;
    if (!c) return text(503, "sign-in is not configured on this registry (no OIDC issuer)");
    const pending: PendingLogin = { state: random(), nonce: random(), verifier: random(), returnTo: safeReturn(url.searchParams.get("return")) };
    const sealed = await this.sealer.seal("login", pending, LOGIN_TTL_SECONDS);
    const target = new URL(c.authzUrl);
    const params = {
      response_type: "code",
      client_id: c.clientId,
      redirect_uri: this.callbackUrl(request, url),
      scope: c.scopes.join(" "),
      state: pending.state,
      nonce: pending.nonce,
      code_challenge: await challengeOf(pending.verifier),
      code_challenge_method: "S256",
    };
    for (const [k, v] of Object.entries(params)) target.searchParams.set(k, v);
    return redirect(target.toString(), [setCookie(LOGIN_COOKIE, sealed!, { maxAge: LOGIN_TTL_SECONDS, secure: this.resolver.isSecure(url), path: "/auth" })]);
  }

  private async callback(request: Request, url: URL): Promise<Response> {
    const c = this.config;
    if (!c) return text(503, "sign-in is not configured on this registry (no OIDC issuer)");
    const q = url.searchParams;
    const secure = this.resolver.isSecure(url);
    const error = q.get("error");
    if (error) {
      // Back to the Explorer with the reason; the session (if any) is left as it was.
      const reason = (q.get("error_description") || error).slice(0, 200);
      return redirect(`/?auth_error=${encodeURIComponent(reason)}`, [clearCookie(LOGIN_COOKIE, { secure, path: "/auth" })]);
    }
    const code = q.get("code");
    const state = q.get("state");
    if (!code || !state) return text(400, "the sign-in callback needs both code and state");
    const pending = await this.sealer.open<PendingLogin>("login", readCookie(request, LOGIN_COOKIE));
    if (!pending?.verifier || !pending.nonce) return text(400, "no sign-in is in progress in this browser (or it took longer than 5 minutes); start again from Sign in");
    if (pending.state !== state) return text(400, "state does not match the sign-in this browser started");

    let body: { id_token?: unknown; error?: unknown; error_description?: unknown };
    try {
      const form = new URLSearchParams({ grant_type: "authorization_code", code, redirect_uri: this.callbackUrl(request, url), client_id: c.clientId, code_verifier: pending.verifier });
      if (c.clientSecret) form.set("client_secret", c.clientSecret);
      const res = await (this.options.fetch ?? fetch)(c.tokenUrl, { method: "POST", body: form, headers: { accept: "application/json" }, signal: AbortSignal.timeout(TOKEN_TIMEOUT_MS), redirect: "error" });
      // Counted as it arrives (a chunked answer cannot make us buffer more than the cap).
      const raw = new TextDecoder().decode(await readBounded(res, MAX_TOKEN_RESPONSE, () => new Error("token response too large")));
      body = JSON.parse(raw);
      if (!res.ok) return text(502, `the identity provider refused the code: ${String(body.error_description ?? body.error ?? res.status).slice(0, 200)}`);
    } catch (e) {
      this.log.warn("OIDC token exchange failed", { error: (e as Error).message });
      return text(502, "the identity provider's token endpoint could not be reached or answered garbage");
    }
    const idToken = typeof body.id_token === "string" ? body.id_token : undefined;
    if (!idToken) return text(502, "the identity provider returned no id_token");
    const viewer = await this.resolver.viewerOfToken(idToken, url);
    if (!viewer) return text(502, "the identity provider's id_token was not accepted by this registry (issuer, audience, signature or expiry)");
    // jose is loaded at the first sign-in, not with the UI.
    const { decodeJwt } = await import("jose");
    const claims = decodeJwt(idToken);
    if (claims.nonce !== pending.nonce) return text(400, "nonce does not match the sign-in this browser started");
    const ttl = Math.max(60, Math.min(SESSION_MAX_SECONDS, (typeof claims.exp === "number" ? claims.exp : 0) - Math.floor(Date.now() / 1000)));
    const session: SessionData = { idToken, ...(typeof claims.name === "string" ? { name: claims.name.slice(0, 200) } : {}), ...(typeof claims.email === "string" ? { email: claims.email.slice(0, 200) } : {}) };
    const sealed = await this.sealer.seal("session", session, ttl);
    if (!sealed) return text(502, "the id_token is too large to keep in a session cookie");
    return redirect(pending.returnTo, [setCookie(SESSION_COOKIE, sealed, { maxAge: ttl, secure }), clearCookie(LOGIN_COOKIE, { secure, path: "/auth" })]);
  }
}
