// The callback's checks that need a token endpoint misbehaving: a nonce that is not the one this browser sent,
// no id_token, an id_token the registry's verifier refuses, an unreachable endpoint.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { FixtureOidcProvider } from "../../fixtures/oidc-provider.ts";
import { silentLogger } from "../log.ts";
import type { BrowseDeps } from "../server/browse/routes.ts";
import type { BrowseAuth } from "../server/browse/viewer.ts";
import { ContextResolver } from "./context.ts";
import { OidcLogin } from "./oidc-login.ts";
import { CookieSealer } from "./session.ts";

let idp: FixtureOidcProvider;
beforeAll(async () => {
  idp = await FixtureOidcProvider.start({ user: { sub: "u", groups: ["g"] }, clients: [{ id: "ui", redirectUris: "loopback" }] });
});
afterAll(() => idp?.stop());

/** A login whose token endpoint answers `tokenResponse`, with a verifier that accepts only tokens signed by the fixture. */
async function setup(tokenResponse: (nonce: string) => Promise<Response>) {
  const sealer = await CookieSealer.fromUrlSigningKey(new Uint8Array(32).fill(2));
  const auth: BrowseAuth = {
    async viewerOf(request) {
      const token = request.headers.get("authorization")?.slice(7);
      return token && token.split(".")[2] ? { kind: "groups", subject: "u", groups: ["g"] } : new Response(null, { status: 401 });
    },
  };
  const browse = { auth, catalog: { isNamespacePublic: () => false } } as unknown as BrowseDeps;
  const resolver = new ContextResolver(browse, sealer, { signIn: true });
  let nonce = "";
  const fetchToken = (async () => tokenResponse(nonce)) as unknown as typeof fetch;
  const login = new OidcLogin({ clientId: "ui", authzUrl: `${idp.issuer}/auth`, tokenUrl: `${idp.issuer}/token`, scopes: ["openid"] }, sealer, resolver, silentLogger, { fetch: fetchToken });
  const start = (await login.handle(new Request("http://127.0.0.1:9/auth/login"), new URL("http://127.0.0.1:9/auth/login")))!;
  const cookie = start.headers.getSetCookie()[0]!.split(";")[0]!;
  const state = new URL(start.headers.get("location")!).searchParams.get("state")!;
  nonce = new URL(start.headers.get("location")!).searchParams.get("nonce")!;
  const callback = async () => {
    const url = new URL(`http://127.0.0.1:9/auth/callback?code=c&state=${state}`);
    return (await login.handle(new Request(url.toString(), { headers: { cookie } }), url))!;
  };
  return { callback };
}

test("an id_token whose nonce is not this browser's → 400, no session", async () => {
  const { callback } = await setup(async () => Response.json({ id_token: await idp.mint({ sub: "u", aud: "ui", nonce: "someone-elses" }) }));
  const res = await callback();
  expect(res.status).toBe(400);
  expect(await res.text()).toContain("nonce does not match");
  expect(res.headers.getSetCookie().some((c) => c.startsWith("opendepot_session="))).toBe(false);
});

test("no id_token, a refused id_token, an unreachable or failing token endpoint → 502", async () => {
  for (const [answer, reason] of [
    [async () => Response.json({ access_token: "x" }), "returned no id_token"],
    [async () => Response.json({ id_token: "a.b." }), "was not accepted by this registry"],
    [async () => Response.json({ error: "invalid_grant", error_description: "code expired" }, { status: 400 }), "refused the code: code expired"],
    [async () => new Response("<html>proxy error</html>", { status: 200 }), "could not be reached or answered garbage"],
    [async () => { throw new TypeError("connection refused"); }, "could not be reached"],
  ] as [() => Promise<Response>, string][]) {
    const { callback } = await setup(answer);
    const res = await callback();
    expect([reason, res.status]).toEqual([reason, 502]);
    expect(await res.text()).toContain(reason);
  }
});

test("the nonce the login sent signs in: sealed HttpOnly session cookie, login cookie cleared, back to /", async () => {
  const { callback } = await setup(async (nonce) => Response.json({ id_token: await idp.mint({ sub: "u", aud: "ui", nonce, name: "U" }) }));
  const res = await callback();
  expect(res.status).toBe(302);
  expect(res.headers.get("location")).toBe("/");
  const cookies = res.headers.getSetCookie();
  const session = cookies.find((c) => c.startsWith("opendepot_session="))!;
  expect(session).toMatch(/^opendepot_session=[A-Za-z0-9_-]+; Path=\/; Max-Age=\d+; SameSite=Lax; HttpOnly$/);
  expect(cookies.find((c) => c.startsWith("opendepot_oidc="))).toContain("Max-Age=0");
});

test("cookies are Secure when the registry is reached over https (or --public-url is https)", async () => {
  const sealer = await CookieSealer.fromUrlSigningKey(new Uint8Array(32).fill(2));
  const browse = { auth: { viewerOf: async () => ({ kind: "all" }) }, catalog: { isNamespacePublic: () => false } } as unknown as BrowseDeps;
  expect(new ContextResolver(browse, sealer, { signIn: true }).isSecure(new URL("https://reg.example/"))).toBe(true);
  expect(new ContextResolver(browse, sealer, { signIn: true }).isSecure(new URL("http://127.0.0.1/"))).toBe(false);
  expect(new ContextResolver(browse, sealer, { signIn: true, publicUrl: "https://reg.example" }).isSecure(new URL("http://10.0.0.5:8080/"))).toBe(true);
  const login = new OidcLogin({ clientId: "ui", authzUrl: "https://idp.example/auth", tokenUrl: "https://idp.example/token", scopes: ["openid"] }, sealer, new ContextResolver(browse, sealer, { signIn: true, publicUrl: "https://reg.example" }), silentLogger, { publicUrl: "https://reg.example" });
  const res = (await login.handle(new Request("http://10.0.0.5:8080/auth/login"), new URL("http://10.0.0.5:8080/auth/login")))!;
  expect(res.headers.getSetCookie()[0]).toContain("; Secure");
  expect(new URL(res.headers.get("location")!).searchParams.get("redirect_uri")).toBe("https://reg.example/auth/callback");
});
