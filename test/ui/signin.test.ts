// Sign-in to the Explorer through the fixture OIDC provider (authorization code + PKCE handled by the server),
// v0.9's error answers on /auth/*, the session cookie's attributes, bound content seen only when signed in,
// content no binding grants never rendered, and pages listing exactly what the browse API lists for that user.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Browser } from "playwright-core";
import { FixtureOidcProvider } from "../../fixtures/oidc-provider.ts";
import { launchChromium, newContext, watchPage } from "./browser.ts";
import { startUiRegistry, type UiRegistry } from "./ui-registry.ts";

const CLIENT = "opendepot-ui";
const USER = { sub: "jane", email: "jane@example.com", name: "Jane Doe", groups: ["platform-team"] };
let idp: FixtureOidcProvider;
let registry: UiRegistry;
let browser: Browser;

const userToken = () => idp.mint({ sub: USER.sub, aud: CLIENT, groups: USER.groups, email: USER.email, name: USER.name });

beforeAll(async () => {
  idp = await FixtureOidcProvider.start({ user: USER, clients: [{ id: CLIENT, redirectUris: "loopback" }] });
  registry = await startUiRegistry({ oidc: { issuer: idp.issuer, clientId: CLIENT, token: userToken } });
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await registry?.stop();
  await idp?.stop();
});

const get = (path: string, headers: Record<string, string> = {}) => fetch(`${registry.url}${path}`, { redirect: "manual", headers });
const cookieOf = (res: Response, name: string) => res.headers.getSetCookie().find((c) => c.startsWith(`${name}=`));

describe("/auth/* answers", () => {
  test("login redirects to the issuer with PKCE S256, state and nonce, and sets a sealed 5-minute cookie on /auth", async () => {
    const res = await get("/auth/login?return=%2Fstats");
    expect(res.status).toBe(302);
    const to = new URL(res.headers.get("location")!);
    expect(`${to.origin}${to.pathname}`).toBe(`${idp.issuer}/auth`);
    expect(Object.fromEntries(["response_type", "client_id", "redirect_uri", "code_challenge_method", "scope"].map((k) => [k, to.searchParams.get(k)]))).toEqual({
      response_type: "code",
      client_id: CLIENT,
      redirect_uri: `${registry.url}/auth/callback`,
      code_challenge_method: "S256",
      scope: "openid profile email groups",
    });
    expect(to.searchParams.get("code_challenge")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(to.searchParams.get("state")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(to.searchParams.get("nonce")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const cookie = cookieOf(res, "opendepot_oidc")!;
    expect(cookie).toContain("Path=/auth");
    expect(cookie).toContain("Max-Age=300");
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("SameSite=Lax");
    expect(cookie).not.toContain(to.searchParams.get("state")!); // sealed, not readable
  });

  test("callback: missing code/state, no login in progress, state mismatch → 400; IdP error → back to / with the reason, session kept", async () => {
    expect((await get("/auth/callback")).status).toBe(400);
    expect((await get("/auth/callback?code=x")).status).toBe(400);
    const noLogin = await get("/auth/callback?code=x&state=y");
    expect(noLogin.status).toBe(400);
    expect(await noLogin.text()).toContain("no sign-in is in progress");

    const login = await get("/auth/login");
    const cookie = cookieOf(login, "opendepot_oidc")!.split(";")[0]!;
    const mismatch = await get("/auth/callback?code=x&state=not-the-state", { cookie });
    expect(mismatch.status).toBe(400);
    expect(await mismatch.text()).toContain("state does not match");

    const forged = await get("/auth/callback?code=x&state=y", { cookie: "opendepot_oidc=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" });
    expect(forged.status).toBe(400);

    const denied = await get("/auth/callback?error=access_denied&error_description=user%20said%20no", { cookie: `${cookie}; opendepot_session=keep-me` });
    expect(denied.status).toBe(302);
    expect(denied.headers.get("location")).toBe("/?auth_error=user%20said%20no");
    expect(cookieOf(denied, "opendepot_session")).toBeUndefined();
    const shown = await (await get("/?auth_error=user%20said%20no")).text();
    expect(shown).toContain("Sign-in failed: user said no");
  });

  test("callback: a code the IdP refuses → 502", async () => {
    const login = await get("/auth/login");
    const cookie = cookieOf(login, "opendepot_oidc")!.split(";")[0]!;
    const state = new URL(login.headers.get("location")!).searchParams.get("state")!;
    const res = await get(`/auth/callback?code=made-up&state=${state}`, { cookie });
    expect(res.status).toBe(502);
    expect(await res.text()).toContain("refused the code");
  });

});

describe("signed in with the fixture provider", () => {
  test("sign in, see bound content, never unbound content, page lists = API lists, sign out", async () => {
    const context = await newContext(browser, { baseURL: registry.url });
    const page = await context.newPage();
    const problems = watchPage(page);
    const seen: string[] = [];
    page.on("response", async (r) => {
      if ((r.headers()["content-type"] ?? "").startsWith("text/html")) seen.push(await r.text().catch(() => ""));
    });

    await page.goto("/");
    // Without a session: what the browse API shows a valid token without groups — the public resources.
    const anonymous = await page.locator("#results .card h3").allTextContents();
    const noGroups = await (await fetch(`${registry.url}/opendepot/ui/v1/resources?page_size=100`, { headers: { authorization: `Bearer ${await idp.mint({ sub: "nobody", aud: CLIENT })}` } })).json() as { items: { name: string }[] };
    expect([...anonymous].sort()).toEqual(noGroups.items.map((i: { name: string }) => i.name).sort());
    expect(anonymous).toContain("network");
    expect(anonymous).not.toContain("secret-vault");
    expect((await page.goto("/team/module/secret-vault"))?.status()).toBe(404);

    await page.goto("/stats");
    await page.getByRole("link", { name: "Sign in" }).click();
    await page.waitForURL(`${registry.url}/stats`); // back where the user started
    expect(await page.locator("header .user").textContent()).toContain("Jane Doe");
    const session = (await context.cookies()).find((c) => c.name === "opendepot_session")!;
    expect(session).toMatchObject({ httpOnly: true, sameSite: "Lax", secure: false, path: "/" });
    expect((await context.cookies()).find((c) => c.name === "opendepot_oidc")).toBeUndefined(); // PKCE cookie cleared

    await page.goto("/");
    const names = await page.locator("#results .card h3").allTextContents();
    expect(names).toContain("secret-vault");
    expect(names).not.toContain("unbound-thing");
    // Exactly what the browse API lists for the same user.
    const api = await (await fetch(`${registry.url}/opendepot/ui/v1/resources?page_size=100`, { headers: { authorization: `Bearer ${await userToken()}` } })).json() as { items: { name: string }[] };
    expect([...names].sort()).toEqual(api.items.map((i: { name: string }) => i.name).sort());

    await page.getByRole("link", { name: "secret-vault" }).click();
    expect(await page.locator("section.readme").textContent()).toContain("BOUND-ONLY-CONTENT");
    expect((await page.goto("/team/module/unbound-thing"))?.status()).toBe(404);
    await page.goto("/?q=unbound");
    expect(await page.locator("#results .card").count()).toBe(0);
    await page.goto("/depots");
    expect(await page.locator('a[data-node="module/team/unbound-thing"]').count()).toBe(0);
    expect(await page.locator('a[data-node="module/team/secret-vault"]').count()).toBe(1);

    // A tampered session opens as no session.
    await context.addCookies([{ ...session, value: session.value.slice(0, -4) + "AAAA" }]);
    await page.goto("/");
    expect(await page.getByRole("link", { name: "Sign in" }).count()).toBe(1);
    await context.addCookies([session]);
    await page.goto("/");
    await page.getByRole("link", { name: "Sign out" }).click();
    await page.waitForURL(`${registry.url}/`);
    expect(await page.getByRole("link", { name: "Sign in" }).count()).toBe(1);
    expect(await page.locator("#results .card h3").allTextContents()).not.toContain("secret-vault");
    expect((await context.cookies()).find((c) => c.name === "opendepot_session")).toBeUndefined();

    expect(seen.length).toBeGreaterThan(5);
    // The unbound module's content, card link or graph node never reached the browser (a 404 page only echoes the
    // path that was typed).
    const leaked = seen.filter((html) => html.includes("NEVER-RENDERED-CONTENT") || html.includes('href="/team/module/unbound-thing"') || html.includes("module/team/unbound-thing\""));
    expect(leaked).toEqual([]);
    expect(problems.filter((p) => !/status of 404/.test(p))).toEqual([]);
    await context.close();
  }, 90_000);
});
