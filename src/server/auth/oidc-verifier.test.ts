// Token verification against a real (fixture) issuer over HTTP: what is accepted, what is refused and why, key
// rotation, the refresh rate limit, and the verified-token memo forgetting keys that were rotated out.
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { SignJWT } from "jose";
import { FixtureOidcProvider } from "../../../fixtures/oidc-provider.ts";
import { silentLogger } from "../../log.ts";
import { JwksCache } from "./jwks.ts";
import { discover, DiscoveryError } from "./oidc-discovery.ts";
import { OidcVerifier, TokenRejected, type OidcVerifierOptions } from "./oidc-verifier.ts";

let idp: FixtureOidcProvider;
beforeAll(async () => {
  idp = await FixtureOidcProvider.start({
    user: { sub: "alice", groups: ["platform-team"] },
    clients: [{ id: "terraform-cli", redirectUris: "loopback" }, { id: "ci-bot", secret: "s3cret" }],
  });
});
afterAll(() => idp.stop());
beforeEach(async () => {
  idp.clockOffsetSeconds = 0;
  await idp.rotateKeys({ alg: "RS256" });
});

async function verifier(options: Partial<OidcVerifierOptions> = {}, jwksOptions: { minRefreshIntervalMs?: number } = {}) {
  const d = await discover(idp.issuer);
  const jwks = new JwksCache(d.jwksUri, { minRefreshIntervalMs: jwksOptions.minRefreshIntervalMs ?? 0, log: silentLogger });
  await jwks.load();
  return new OidcVerifier({ issuer: idp.issuer, clientId: "terraform-cli", ...options }, jwks);
}

const user = (extra: Record<string, unknown> = {}) => ({ sub: "alice", aud: "terraform-cli", groups: ["platform-team", "dev"], ...extra });

async function rejection(v: OidcVerifier, token: string): Promise<string> {
  try {
    await v.verify(token);
  } catch (e) {
    if (e instanceof TokenRejected) return e.reason;
    throw e;
  }
  throw new Error("token was accepted");
}

describe("OidcVerifier", () => {
  test("accepts the issuer's user token and reads the groups claim", async () => {
    const v = await verifier();
    expect(await v.verify(await idp.mint(user()))).toEqual({ kind: "user", subject: "alice", groups: ["platform-team", "dev"] });
    expect((await v.verify(await idp.mint(user({ groups: "solo" })))).groups).toEqual(["solo"]);
    expect((await v.verify(await idp.mint(user({ groups: undefined, roles: ["x"] })))).groups).toEqual([]);
    const custom = await verifier({ groupsClaim: "roles" });
    expect((await custom.verify(await idp.mint(user({ roles: ["x", 7] })))).groups).toEqual(["x"]);
  });

  test.each(["ES256", "PS256", "EdDSA"] as const)("accepts %s-signed tokens", async (alg) => {
    await idp.rotateKeys({ alg });
    const v = await verifier();
    expect((await v.verify(await idp.mint(user()))).subject).toBe("alice");
  });

  test("extra audiences are users too", async () => {
    const v = await verifier({ extraAudiences: ["opendepot-ui"] });
    expect((await v.verify(await idp.mint(user({ aud: ["opendepot-ui"] })))).kind).toBe("user");
  });

  test("refuses expired, not-yet-valid, foreign-audience, foreign-issuer and subject-less tokens", async () => {
    const v = await verifier({ clockSkewSeconds: 30 });
    expect(await rejection(v, await idp.mint(user(), { ttlSeconds: -60 }))).toBe("token has expired");
    expect((await v.verify(await idp.mint(user(), { ttlSeconds: -10 }))).subject).toBe("alice"); // within the skew
    expect(await rejection(v, await idp.mint(user({ nbf: Math.floor(Date.now() / 1000) + 600 })))).toBe("token is not valid yet");
    expect(await rejection(v, await idp.mint(user({ aud: "some-other-app" })))).toBe("token was issued for another audience");
    expect(await rejection(v, await idp.mint(user({ iss: "https://evil.example" })))).toBe("token was not issued by the configured OIDC issuer");
    expect(await rejection(v, await idp.mint(user({ sub: undefined })))).toContain("sub");
    expect(await rejection(v, "not.a.jwt")).toBe("malformed token");
    expect(await rejection(v, "garbage")).toBe("malformed token");
  });

  test("refuses alg none, HMAC (even keyed with the public key) and unknown keys", async () => {
    const v = await verifier();
    expect(await rejection(v, idp.mintUnsigned(user()))).toBe('signing algorithm "none" is not allowed');
    const jwk = ((await (await fetch(`${idp.issuer}/keys`)).json()) as { keys: { kid: string }[] }).keys[0]!;
    const hmac = await new SignJWT(user({ iss: idp.issuer, exp: Math.floor(Date.now() / 1000) + 600 }))
      .setProtectedHeader({ alg: "HS256", kid: jwk.kid })
      .sign(new TextEncoder().encode(JSON.stringify(jwk)));
    expect(await rejection(v, hmac)).toBe('signing algorithm "HS256" is not allowed');
    expect(await rejection(v, await idp.mint(user(), { key: "foreign" }))).toBe("token is signed by an unknown key");
    expect(await rejection(v, await idp.mint(user(), { key: "foreign", kid: idp.currentKid }))).toBe("token signature is invalid");
  });

  test("follows key rotation, and forgets what a rotated-out key signed", async () => {
    const v = await verifier();
    const before = await idp.mint(user());
    expect((await v.verify(before)).subject).toBe("alice"); // now memoised
    await idp.rotateKeys({ retainPrevious: true });
    expect((await v.verify(await idp.mint(user()))).subject).toBe("alice"); // unknown kid → refresh
    expect((await v.verify(before)).subject).toBe("alice"); // previous key still published
    await idp.rotateKeys(); // the previous keys are gone
    expect((await v.verify(await idp.mint(user()))).subject).toBe("alice");
    expect(await rejection(v, before)).toBe("token is signed by an unknown key");
  });

  test("rate-limits refreshes caused by unknown key ids", async () => {
    const v = await verifier({}, { minRefreshIntervalMs: 60_000 });
    const fetchesBefore = idp.requests["/keys"] ?? 0;
    for (let i = 0; i < 20; i++) expect(await rejection(v, await idp.mint(user(), { kid: `made-up-${i}` }))).toBe("token is signed by an unknown key");
    // The first unknown kid was within a minute of the initial load, so no refresh at all.
    expect((idp.requests["/keys"] ?? 0) - fetchesBefore).toBe(0);
  });

  test("client credentials: off → refused; on → client:<sub>, optionally restricted to audiences", async () => {
    const ccToken = await idp.clientCredentials("ci-bot", "s3cret", "opendepot-ci");
    expect(await rejection(await verifier(), ccToken)).toBe("token was issued for another audience");
    expect(await (await verifier({ clientCredentials: { enabled: true } })).verify(ccToken)).toEqual({ kind: "client", subject: "ci-bot", groups: ["client:ci-bot"] });
    const restricted = await verifier({ clientCredentials: { enabled: true, audiences: ["opendepot-ci"] } });
    expect((await restricted.verify(ccToken)).groups).toEqual(["client:ci-bot"]);
    expect(await rejection(restricted, await idp.clientCredentials("ci-bot", "s3cret", "payroll"))).toBe("token was issued for another audience");
  });

  test("flags groups claims it will not decide on", async () => {
    const v = await verifier();
    expect((await v.verify(await idp.mint(user({ groups: Array.from({ length: 1001 }, (_, i) => `g${i}`) })))).groupsProblem).toContain("1001 groups");
    expect((await v.verify(await idp.mint(user({ groups: ["x".repeat(2000)] })))).groupsProblem).toContain("longer than");
    // NUL joined group names once made ["a\u0000b"] and ["a","b"] share a cached decision.
    for (const g of ["a\u0000b", "tab\there", "bell\u0007"]) expect((await v.verify(await idp.mint(user({ groups: ["dev", g] })))).groupsProblem).toContain("control characters");
  });

  test("an expired token stays refused even after it was memoised as valid", async () => {
    let now = Date.now();
    const d = await discover(idp.issuer);
    const jwks = new JwksCache(d.jwksUri, { log: silentLogger });
    await jwks.load();
    const v = new OidcVerifier({ issuer: idp.issuer, clientId: "terraform-cli", clockSkewSeconds: 0, now: () => now }, jwks);
    const token = await idp.mint(user(), { ttlSeconds: 60 });
    expect((await v.verify(token)).subject).toBe("alice");
    now += 120_000;
    expect(await rejection(v, token)).toBe("token has expired");
  });
});

describe("discover", () => {
  test("refuses a document naming another issuer", async () => {
    await expect(discover(`${idp.issuer}/`, { attempts: 1 })).rejects.toThrow(DiscoveryError);
  });
  test("gives up after its attempts when the issuer is unreachable", async () => {
    await expect(discover("http://127.0.0.1:9", { attempts: 2, retryDelayMs: 10, timeoutMs: 500 })).rejects.toThrow("OIDC discovery");
  });
});
