import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { createPrivateKey, generateKeyPairSync } from "node:crypto";
import { decodeJwt, decodeProtectedHeader } from "jose";
import { GitHubFake } from "../../fixtures/github-fake.ts";
import {
  createAppJwt,
  GitHubAppConfigError,
  gitHubAppCredentialsFromSecret,
  GitHubAppTokenSource,
  importAppPrivateKey,
  sharedGitHubAppTokenSource,
} from "./github-app.ts";
import { GitHubClient } from "./github.ts";
import { UpstreamError } from "./http.ts";
import { readFile } from "node:fs/promises";

const keys = new URL("../../fixtures/keys/", import.meta.url);
const pkcs1 = await readFile(new URL("github-app.private.pem", keys), "utf8");
const publicPem = await readFile(new URL("github-app.public.pem", keys), "utf8");
const b64 = (s: string) => Buffer.from(s).toString("base64");

const fake = new GitHubFake({ appPublicKeyPem: publicPem, appId: "12345", installationId: "678", tokenTtlSeconds: 3600 });
beforeAll(async () => {
  await fake.start();
  fake.addRepo("acme", "private-mod", { releases: ["v1.0.0"], private: true });
});
afterAll(() => fake.stop());
beforeEach(() => fake.resetStats());

describe("credentials from the Secret", () => {
  test("v0.9 layout: numeric IDs and base64 of a PKCS#1 PEM", () => {
    const c = gitHubAppCredentialsFromSecret({ githubAppID: "12345", githubInstallID: "678", githubPrivateKey: b64(pkcs1) });
    expect(c).toEqual({ appId: "12345", installationId: "678", privateKeyPem: pkcs1.trim() });
  });
  test("a plain PEM, bytes, and the Secret's raw (still base64) data map are accepted", () => {
    expect(gitHubAppCredentialsFromSecret({ githubAppID: "1", githubInstallID: "2", githubPrivateKey: new TextEncoder().encode(pkcs1) }).privateKeyPem).toBe(pkcs1.trim());
    const raw = gitHubAppCredentialsFromSecret({ githubAppID: b64("12345"), githubInstallID: b64("678"), githubPrivateKey: b64(b64(pkcs1)) });
    expect([raw.appId, raw.installationId, raw.privateKeyPem]).toEqual(["12345", "678", pkcs1.trim()]);
  });
  test("missing or malformed keys name the key", () => {
    expect(() => gitHubAppCredentialsFromSecret({ githubInstallID: "2", githubPrivateKey: pkcs1 })).toThrow(/githubAppID/);
    expect(() => gitHubAppCredentialsFromSecret({ githubAppID: "x!", githubInstallID: "2", githubPrivateKey: pkcs1 })).toThrow(/githubAppID must be a numeric ID/);
    expect(() => gitHubAppCredentialsFromSecret({ githubAppID: "1", githubInstallID: "2", githubPrivateKey: "hello" })).toThrow(GitHubAppConfigError);
  });
});

describe("app JWT", () => {
  test("PKCS#1 and PKCS#8 keys both sign RS256 with iat-60 / exp+9m / iss", async () => {
    const pkcs8 = createPrivateKey(pkcs1).export({ type: "pkcs8", format: "pem" }).toString();
    for (const pem of [pkcs1, pkcs8]) {
      const jwt = await createAppJwt("12345", await importAppPrivateKey(pem), 1_700_000_000);
      expect(decodeProtectedHeader(jwt).alg).toBe("RS256");
      expect(decodeJwt(jwt)).toEqual({ iat: 1_700_000_000 - 60, exp: 1_700_000_000 + 540, iss: "12345" });
    }
  });
  test("a garbage key is a config error", async () => {
    await expect(importAppPrivateKey("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----")).rejects.toThrow(GitHubAppConfigError);
  });
});

describe("installation tokens", () => {
  const creds = { appId: "12345", installationId: "678", privateKeyPem: pkcs1 };

  test("minted once, cached, shared by concurrent callers, refreshed 5 minutes before expiry", async () => {
    let now = Date.now();
    const source = new GitHubAppTokenSource(creds, { baseUrl: fake.url, now: () => now });
    const [a, b] = await Promise.all([source.token(), source.token()]);
    expect(a).toBe(b);
    expect(await source.token()).toBe(a);
    expect(fake.stats.tokensIssued).toBe(1);
    now += 54 * 60_000; // 6 minutes left: still cached
    expect(await source.token()).toBe(a);
    now += 2 * 60_000; // 4 minutes left: refresh
    expect(await source.token()).not.toBe(a);
    expect(source.minted).toBe(2);
  });

  test("the token opens private repositories", async () => {
    const source = new GitHubAppTokenSource(creds, { baseUrl: fake.url });
    const client = new GitHubClient({ baseUrl: fake.url, token: source.provider() });
    expect((await client.listReleases("acme", "private-mod")).map((r) => r.tag)).toEqual(["v1.0.0"]);
  });

  test("a key GitHub does not know, or a wrong installation, is Unauthorized", async () => {
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048, privateKeyEncoding: { type: "pkcs1", format: "pem" }, publicKeyEncoding: { type: "spki", format: "pem" } });
    for (const c of [{ ...creds, privateKeyPem: privateKey }, { ...creds, installationId: "999" }]) {
      const e = await new GitHubAppTokenSource(c, { baseUrl: fake.url }).token().then(() => undefined, (err) => err);
      expect(e).toBeInstanceOf(UpstreamError);
      expect((e as UpstreamError).kind).toBe("Unauthorized");
      expect((e as UpstreamError).message).toContain("GitHub App 12345");
    }
  });

  test("sharedGitHubAppTokenSource reuses one source (and token) per App installation", async () => {
    const a = sharedGitHubAppTokenSource(creds, { baseUrl: fake.url });
    const b = sharedGitHubAppTokenSource({ ...creds }, { baseUrl: fake.url });
    expect(a).toBe(b);
    await a.token();
    await b.token();
    expect(fake.stats.tokensIssued).toBe(1);
    expect(sharedGitHubAppTokenSource({ ...creds, installationId: "679" }, { baseUrl: fake.url })).not.toBe(a);
  });
});
