// The OIDC gatekeeper in front of the real protocol routes (createApp), with a fixture issuer and hand-fed
// GroupBindings: who gets 401 (and which challenge), who gets 403, namespace scoping, first-match order,
// invalid and failing bindings, the ServiceAccount fallback through a fake SubjectAccessReview, and logs that name
// the subject but never contain the token.
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import type { GroupBindingObject, ModuleObject, ProviderObject, VersionObject } from "../../api/kinds.ts";
import { API_VERSION } from "../../api/meta.ts";
import { createLogger, silentLogger } from "../../log.ts";
import { FixtureOidcProvider } from "../../../fixtures/oidc-provider.ts";
import type { JsonResponse } from "../../../test/support/ports.ts";
import { StaticFeed } from "../../../test/support/static-feed.ts";
import { createApp } from "../app.ts";
import { ArtifactDelivery } from "../artifact-delivery.ts";
import { RegistryIndex } from "../registry-index.ts";
import { UrlSigner } from "../url-signer.ts";
import { authConfigFromFlags } from "../../roles/auth-flags.ts";
import type { KubernetesDecision, KubernetesTokenAuthorizer, ResourceAttributes } from "./kubernetes.ts";
import { startAuth, type Auth } from "./setup.ts";

const GLOBAL_NS = "opendepot-system";
const binding = (namespace: string, name: string, expression: string, moduleResources: string[] = [], providerResources: string[] = []): GroupBindingObject => ({
  apiVersion: API_VERSION,
  kind: "GroupBinding",
  metadata: { name, namespace },
  spec: { expression, moduleResources, providerResources },
});
const moduleIn = (namespace: string, name: string): ModuleObject => ({ apiVersion: API_VERSION, kind: "Module", metadata: { name, namespace }, spec: { moduleConfig: {}, versions: [] } });
const providerIn = (namespace: string, name: string): ProviderObject => ({ apiVersion: API_VERSION, kind: "Provider", metadata: { name, namespace }, spec: { providerConfig: {}, versions: [] } });

class FakeSubjectAccessReview implements KubernetesTokenAuthorizer {
  asked: ResourceAttributes[] = [];
  failing = false;
  async review(token: string, attributes: ResourceAttributes): Promise<KubernetesDecision> {
    this.asked.push(attributes);
    if (this.failing) throw new Error("connect ECONNREFUSED");
    if (token !== "sa-token-of-deployer") return { outcome: "unauthenticated", reason: "token review: not authenticated" };
    return attributes.resource === "modules" && attributes.name === "network" ? { outcome: "allowed", user: "system:serviceaccount:ci:deployer" } : { outcome: "denied", user: "system:serviceaccount:ci:deployer", reason: "RBAC: no get on that resource" };
  }
}

let idp: FixtureOidcProvider;
const bindings = new StaticFeed<GroupBindingObject>();
const kubernetes = new FakeSubjectAccessReview();
const logs: string[] = [];

beforeAll(async () => {
  idp = await FixtureOidcProvider.start({ user: { sub: "alice", groups: [] }, clients: [{ id: "terraform-cli", redirectUris: "loopback" }, { id: "ci-bot", secret: "s" }] });
});
afterAll(() => idp.stop());

async function app(extraFlags: Record<string, string> = {}) {
  const flags = { "oidc-issuer-url": idp.issuer, "oidc-client-id": "terraform-cli", "oidc-clock-skew": "0s", "oidc-jwks-min-refresh-interval": "0s", "oidc-login-scopes": "openid,groups", namespace: GLOBAL_NS, ...extraFlags };
  const auth: Auth = await startAuth(authConfigFromFlags(flags), { log: createLogger({ write: (l) => logs.push(l) }), bindings, kubernetes });
  const index = new RegistryIndex({
    modules: new StaticFeed([moduleIn("default", "network"), moduleIn("default", "vault"), moduleIn("team-a", "network"), moduleIn("team-b", "network")]),
    providers: new StaticFeed([providerIn("default", "widget"), providerIn("default", "gadget")]),
    versions: new StaticFeed<VersionObject>(),
  });
  const registry = createApp(
    {
      index,
      delivery: new ArtifactDelivery(() => undefined as never, silentLogger),
      urls: new UrlSigner(new Uint8Array(32), 600),
      signer: { keyId: "0", publicKeyArmored: "", sign: async () => new Uint8Array() },
      gatekeeper: auth.gatekeeper,
      log: silentLogger,
      ready: () => true,
    },
    auth.discovery,
  );
  return (path: string, token?: string, header = token ? `Bearer ${token}` : undefined) =>
    registry.handle(new Request(`http://registry.test${path}`, header ? { headers: { authorization: header } } : {})) as Promise<JsonResponse>;
}

const mod = (ns: string, name: string) => `/opendepot/modules/v1/${ns}/${name}/aws/versions`;
const prov = (ns: string, type: string) => `/opendepot/providers/v1/${ns}/${type}/versions`;
const userToken = (groups: unknown) => idp.mint({ sub: "alice", aud: "terraform-cli", groups });

beforeEach(() => {
  for (const b of bindings.list()) bindings.remove(b);
  logs.length = 0;
  kubernetes.failing = false;
});

describe("OIDC gatekeeper", () => {
  test("discovery advertises login.v1 only in OIDC mode", async () => {
    const get = await app();
    expect((await (await get("/.well-known/terraform.json")).json())["login.v1"]).toEqual({
      client: "terraform-cli",
      grant_types: ["authz_code", "device_code"], // the fixture IdP, like Dex, has a device_authorization_endpoint
      authz: `${idp.issuer}/auth`,
      token: `${idp.issuer}/token`,
      ports: [10000, 10010],
      scopes: ["openid", "groups"],
    });
    const overridden = await app({ "oidc-authz-url": "https://login.example/authorize", "oidc-token-url": "https://login.example/token" });
    expect((await (await overridden("/.well-known/terraform.json")).json())["login.v1"]).toMatchObject({ authz: "https://login.example/authorize", token: "https://login.example/token" });
  });

  test("401 with a Bearer challenge for missing, non-bearer, malformed, expired, foreign and unsigned tokens", async () => {
    const get = await app();
    bindings.put(binding(GLOBAL_NS, "all", "true", ["*"], ["*"]));
    const missing = await get(mod("default", "network"));
    expect(missing.status).toBe(401);
    expect(missing.headers.get("www-authenticate")).toBe('Bearer realm="opendepot"');
    expect((await get(mod("default", "network"), undefined, "Basic YTpi")).status).toBe(401);
    for (const [token, reason] of [
      ["@@@", "malformed token"],
      [await idp.mint({ sub: "alice", aud: "terraform-cli", groups: ["x"] }, { ttlSeconds: -5 }), "token has expired"],
      [await idp.mint({ sub: "alice", aud: "someone-else", groups: ["x"] }), "token was issued for another audience"],
      [await idp.mint({ sub: "alice", aud: "terraform-cli", groups: ["x"] }, { key: "foreign" }), "token is signed by an unknown key"],
      [idp.mintUnsigned({ sub: "alice", aud: "terraform-cli", groups: ["x"] }), 'signing algorithm "none" is not allowed'],
    ] as const) {
      const r = await get(mod("default", "network"), token);
      expect(r.status).toBe(401);
      expect(r.headers.get("www-authenticate")).toBe(`Bearer realm="opendepot", error="invalid_token", error_description="${reason.replaceAll('"', "")}"`);
      expect((await r.json()).errors[0]).toBe(`unauthorized: ${reason}`);
    }
  });

  test("a matching binding grants its module globs and provider names; everything else is 403", async () => {
    const get = await app();
    bindings.put(binding(GLOBAL_NS, "10-platform", '"platform-team" in groups', ["net*"], ["widget"]));
    const token = await userToken(["platform-team"]);
    expect((await get(mod("default", "network"), token)).status).toBe(200);
    expect((await get(mod("team-a", "network"), token)).status).toBe(200); // global namespace: applies everywhere
    expect((await get(prov("default", "widget"), token)).status).toBe(200);
    const vault = await get(mod("default", "vault"), token);
    expect(vault.status).toBe(403);
    expect((await vault.json()).errors[0]).toBe("forbidden: the caller's GroupBinding does not grant module default/vault");
    expect((await get(prov("default", "gadget"), token)).status).toBe(403);
    expect((await get(mod("default", "network"), await userToken(["other"]))).status).toBe(403);
    expect((await get(mod("default", "network"), await userToken([]))).status).toBe(403);
    expect((await get(mod("default", "network"), await userToken(undefined))).status).toBe(403);
  });

  test("bindings outside the server's namespace apply only to their own namespace", async () => {
    const get = await app();
    bindings.put(binding("team-a", "team-a-devs", '"dev" in groups', ["*"], ["*"]));
    const token = await userToken(["dev"]);
    expect((await get(mod("team-a", "network"), token)).status).toBe(200);
    expect((await get(mod("team-b", "network"), token)).status).toBe(403);
    expect((await get(mod("default", "network"), token)).status).toBe(403);
  });

  test("first matching binding by name decides; invalid bindings are skipped, failing ones deny", async () => {
    const get = await app();
    const token = await userToken(["platform-team"]);
    bindings.put(binding(GLOBAL_NS, "20-grants", '"platform-team" in groups', ["*"]));
    expect((await get(mod("default", "vault"), token)).status).toBe(200);
    bindings.put(binding(GLOBAL_NS, "10-narrow", 'any(groups, # startsWith "platform")', ["network"]));
    expect((await get(mod("default", "vault"), token)).status).toBe(403); // 10-narrow matches first and does not grant it
    bindings.put(binding(GLOBAL_NS, "05-broken", '"platform-team" in grups', ["*"]));
    expect((await get(mod("default", "network"), token)).status).toBe(200); // 05-broken grants nothing, 10-narrow decides
    expect(logs.some((l) => l.includes("GroupBinding is invalid") && l.includes("05-broken"))).toBe(true);
    bindings.put(binding(GLOBAL_NS, "01-expensive", "any(groups, any(groups, any(groups, # == \"nobody\")))", ["*"]));
    const wide = await userToken(Array.from({ length: 1000 }, (_, i) => `p${i}`));
    expect((await get(mod("default", "network"), wide)).status).toBe(403); // budget exhausted: deny, don't fall through
    expect((await get(mod("default", "network"), token)).status).toBe(200); // a small group list evaluates fine
  });

  test("client-credentials tokens act as client:<sub>", async () => {
    const get = await app({ "oidc-allow-client-credentials": "true", "oidc-client-credentials-audiences": "opendepot-ci" });
    bindings.put(binding(GLOBAL_NS, "ci", '"client:ci-bot" in groups', ["network"], ["widget"]));
    const cc = await idp.clientCredentials("ci-bot", "s", "opendepot-ci");
    expect((await get(mod("default", "network"), cc)).status).toBe(200);
    expect((await get(prov("default", "widget"), cc)).status).toBe(200);
    expect((await get(mod("default", "vault"), cc)).status).toBe(403);
    expect((await get(mod("default", "network"), await idp.clientCredentials("ci-bot", "s", "elsewhere"))).status).toBe(401);
  });

  test("ServiceAccount fallback: on → decided by SubjectAccessReview; off → 401", async () => {
    const withFallback = await app({ "oidc-allow-sa-fallback": "true" });
    kubernetes.asked = [];
    expect((await withFallback(mod("default", "network"), "sa-token-of-deployer")).status).toBe(200);
    expect(kubernetes.asked[0]).toEqual({ group: "opendepot.defdev.io", resource: "modules", verb: "get", namespace: "default", name: "network" });
    const denied = await withFallback(prov("default", "widget"), "sa-token-of-deployer");
    expect(denied.status).toBe(403);
    expect((await denied.json()).errors[0]).toBe("forbidden: RBAC: no get on that resource");
    expect((await withFallback(mod("default", "network"), "sa-token-of-nobody")).status).toBe(401);
    kubernetes.failing = true;
    expect((await withFallback(mod("default", "network"), "sa-token-of-deployer")).status).toBe(503);
    // Tokens from our issuer never go to Kubernetes.
    kubernetes.failing = false;
    kubernetes.asked = [];
    expect((await withFallback(mod("default", "network"), await idp.mint({ sub: "a", aud: "nope", groups: ["x"] }))).status).toBe(401);
    expect(kubernetes.asked).toEqual([]);

    const without = await app();
    expect((await without(mod("default", "network"), "sa-token-of-deployer")).status).toBe(401);
  });

  test("refusals are logged with reason and subject, never with the token", async () => {
    const get = await app();
    bindings.put(binding(GLOBAL_NS, "p", '"platform-team" in groups', ["network"]));
    const expired = await idp.mint({ sub: "mallory", aud: "terraform-cli", groups: ["x"] }, { ttlSeconds: -5 });
    const valid = await userToken(["platform-team"]);
    await get(mod("default", "network"), expired);
    await get(mod("default", "vault"), valid);
    const denials = logs.map((l) => JSON.parse(l)).filter((l) => l.msg === "access denied");
    expect(denials[0]).toMatchObject({ status: 401, reason: "token has expired", claimedSubject: "mallory", kind: "module", namespace: "default", name: "network" });
    expect(denials[1]).toMatchObject({ status: 403, subject: "alice", binding: `${GLOBAL_NS}/p` });
    const all = logs.join("\n");
    for (const token of [expired, valid]) for (const part of token.split(".")) expect(all).not.toContain(part);
  });

  test("startup refuses SA fallback without Kubernetes, and an unreachable issuer", async () => {
    const log = silentLogger;
    const flags = { "oidc-issuer-url": idp.issuer, "oidc-client-id": "terraform-cli", "oidc-allow-sa-fallback": "true" };
    await expect(startAuth(authConfigFromFlags(flags), { log, bindings })).rejects.toThrow("needs the Kubernetes API");
    const unreachable = { "oidc-issuer-url": "http://127.0.0.1:9/dex", "oidc-client-id": "x" };
    await expect(startAuth(authConfigFromFlags(unreachable), { log, bindings, discoveryAttempts: 1 })).rejects.toThrow("OIDC discovery");
  });
});
