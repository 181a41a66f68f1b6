// The OIDC gatekeeper remembers what a verified token was allowed to see: the repeat is decided synchronously (no
// signature check, no binding evaluation), a GroupBinding change or the token's expiry ends it at once, refusals
// are never remembered. And conditional requests through it: a caller who may not see a module gets the same 403
// with or without the module's ETag, the same as for a module that does not exist — never a 304.
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import type { GroupBindingObject, ModuleObject, VersionObject } from "../../api/kinds.ts";
import { API_VERSION } from "../../api/meta.ts";
import { createLogger, silentLogger } from "../../log.ts";
import { FixtureOidcProvider } from "../../../fixtures/oidc-provider.ts";
import { StaticFeed } from "../../../test/support/static-feed.ts";
import { createApp, fastPathOf } from "../app.ts";
import { ArtifactDelivery } from "../artifact-delivery.ts";
import { RegistryIndex } from "../registry-index.ts";
import { withRequestPolicy } from "../serve.ts";
import { UrlSigner } from "../url-signer.ts";
import { BindingIndex } from "./binding-index.ts";
import { discover } from "./oidc-discovery.ts";
import { JwksCache } from "./jwks.ts";
import { OidcGatekeeper } from "./oidc-gatekeeper.ts";
import { OidcVerifier } from "./oidc-verifier.ts";

const GLOBAL_NS = "opendepot-system";
const bindingOf = (name: string, expression: string, moduleResources: string[]): GroupBindingObject => ({
  apiVersion: API_VERSION,
  kind: "GroupBinding",
  metadata: { name, namespace: GLOBAL_NS },
  spec: { expression, moduleResources, providerResources: [] },
});
const moduleIn = (name: string): ModuleObject => ({ apiVersion: API_VERSION, kind: "Module", metadata: { name, namespace: "default" }, spec: { moduleConfig: {}, versions: [] } });

let idp: FixtureOidcProvider;
let jwks: JwksCache;
let clock = Date.now();
const feed = new StaticFeed<GroupBindingObject>();

beforeAll(async () => {
  idp = await FixtureOidcProvider.start({ user: { sub: "alice", groups: [] }, clients: [{ id: "terraform-cli", redirectUris: "loopback" }] });
  jwks = new JwksCache((await discover(idp.issuer)).jwksUri, { log: silentLogger });
  await jwks.load();
});
afterAll(() => idp.stop());
beforeEach(() => {
  for (const b of feed.list()) feed.remove(b);
  clock = Date.now();
});

function gatekeeper() {
  const verifier = new OidcVerifier({ issuer: idp.issuer, clientId: "terraform-cli", clockSkewSeconds: 0, now: () => clock }, jwks);
  let verified = 0;
  const verify = verifier.verify.bind(verifier);
  verifier.verify = (token) => (verified++, verify(token));
  const bindings = new BindingIndex(feed, { globalNamespace: GLOBAL_NS, log: silentLogger });
  return { gate: new OidcGatekeeper({ verifier, bindings, log: silentLogger }), verified: () => verified };
}

const asked = (token: string) => new Request("http://registry.test/x", { headers: { authorization: `Bearer ${token}` } });
const network = { kind: "module" as const, namespace: "default", name: "network" };

describe("remembered allowances", () => {
  test("the repeat of an allowed request is answered synchronously, without verifying the token again", async () => {
    feed.put(bindingOf("platform", '"platform" in groups', ["net*"]));
    const { gate, verified } = gatekeeper();
    const token = await idp.mint({ sub: "alice", aud: "terraform-cli", groups: ["platform"] });
    expect(await gate.authorize(asked(token), network)).toBeUndefined();
    expect(verified()).toBe(1);
    for (let i = 0; i < 100; i++) expect(gate.authorize(asked(token), network)).toBeUndefined(); // not a Promise
    expect(verified()).toBe(1);
    // Another resource is decided in full (then remembered too); a refusal is never remembered.
    const vault = { ...network, name: "vault" };
    expect(((await gate.authorize(asked(token), vault)) as Response).status).toBe(403);
    expect(gate.authorize(asked(token), vault)).toBeInstanceOf(Promise);
  });

  test("two callers taking turns each keep their own answer (the last header's token is never reused for another)", async () => {
    feed.put(bindingOf("platform", '"platform" in groups', ["net*"]));
    const { gate } = gatekeeper();
    const alice = await idp.mint({ sub: "alice", aud: "terraform-cli", groups: ["platform"] });
    const mallory = await idp.mint({ sub: "mallory", aud: "terraform-cli", groups: ["outsiders"] });
    expect(await gate.authorize(asked(alice), network)).toBeUndefined();
    for (let i = 0; i < 20; i++) {
      expect(gate.authorize(asked(alice), network)).toBeUndefined();
      expect(((await gate.authorize(asked(mallory), network)) as Response).status).toBe(403);
      expect(((await gate.authorize(new Request("http://registry.test/x", { headers: { authorization: `Bearer  ${alice}x` } }), network)) as Response).status).toBe(401);
    }
  });

  test("a remembered allowance still logs its debug line when debug is on, and builds none at info", async () => {
    feed.put(bindingOf("platform", '"platform" in groups', ["net*"]));
    const token = await idp.mint({ sub: "alice", aud: "terraform-cli", groups: ["platform"] });
    for (const level of ["debug", "info"] as const) {
      const lines: Record<string, unknown>[] = [];
      const verifier = new OidcVerifier({ issuer: idp.issuer, clientId: "terraform-cli", clockSkewSeconds: 0, now: () => clock }, jwks);
      const bindings = new BindingIndex(feed, { globalNamespace: GLOBAL_NS, log: silentLogger });
      const gate = new OidcGatekeeper({ verifier, bindings, log: createLogger({ level, write: (l) => lines.push(JSON.parse(l)) }) });
      expect(await gate.authorize(asked(token), network)).toBeUndefined();
      expect(gate.authorize(asked(token), network)).toBeUndefined(); // remembered
      const allowed = lines.filter((l) => l.msg === "access allowed");
      if (level === "info") expect(allowed).toEqual([]);
      else expect(allowed.map((l) => [l.subject, l.binding, l.kind, l.namespace, l.name])).toEqual([
        ["alice", `${GLOBAL_NS}/platform`, "module", "default", "network"],
        ["alice", `${GLOBAL_NS}/platform`, "module", "default", "network"],
      ]);
    }
  });

  test("a GroupBinding change ends every remembered allowance on the next request", async () => {
    const platform = bindingOf("platform", '"platform" in groups', ["net*"]);
    feed.put(platform);
    const { gate } = gatekeeper();
    const token = await idp.mint({ sub: "alice", aud: "terraform-cli", groups: ["platform"] });
    expect(await gate.authorize(asked(token), network)).toBeUndefined();
    expect(gate.authorize(asked(token), network)).toBeUndefined();
    feed.put({ ...platform, spec: { ...platform.spec, moduleResources: ["vpc"] } });
    expect(((await gate.authorize(asked(token), network)) as Response).status).toBe(403);
    feed.remove(platform);
    feed.put(bindingOf("everyone", "true", ["*"]));
    expect(await gate.authorize(asked(token), network)).toBeUndefined();
    feed.remove(feed.list()[0]!);
    expect(((await gate.authorize(asked(token), network)) as Response).status).toBe(403);
  });

  test("an allowance ends when the token expires", async () => {
    feed.put(bindingOf("platform", '"platform" in groups', ["net*"]));
    const { gate } = gatekeeper();
    const token = await idp.mint({ sub: "alice", aud: "terraform-cli", groups: ["platform"] }, { ttlSeconds: 60 });
    expect(await gate.authorize(asked(token), network)).toBeUndefined();
    expect(gate.authorize(asked(token), network)).toBeUndefined();
    clock += 61_000;
    const late = await gate.authorize(asked(token), network);
    expect((late as Response).status).toBe(401);
  });

  test("only the token it was verified for: another spelling of the header or a changed token is decided in full", async () => {
    feed.put(bindingOf("platform", '"platform" in groups', ["net*"]));
    const { gate } = gatekeeper();
    const token = await idp.mint({ sub: "alice", aud: "terraform-cli", groups: ["platform"] });
    expect(await gate.authorize(asked(token), network)).toBeUndefined();
    const spelled = new Request("http://registry.test/x", { headers: { authorization: `bearer   ${token}  ` } });
    expect(gate.authorize(spelled, network)).toBeUndefined(); // the same token, remembered
    const tampered = `${token.slice(0, -3)}${token.endsWith("AAA") ? "BBB" : "AAA"}`;
    const refused = await gate.authorize(asked(tampered), network);
    expect((refused as Response).status).toBe(401);
  });
});

describe("conditional requests under OIDC", () => {
  test("a caller who may not see a module gets the same 403 with its ETag as for a module that does not exist", async () => {
    feed.put(bindingOf("10-platform", '"platform" in groups', ["net*"]));
    feed.put(bindingOf("20-others", '"others" in groups', ["vpc"]));
    const { gate } = gatekeeper();
    const versions = new StaticFeed<VersionObject>();
    const index = new RegistryIndex({ modules: new StaticFeed([moduleIn("network"), moduleIn("vpc")]), providers: new StaticFeed(), versions });
    const app = createApp({
      index,
      delivery: new ArtifactDelivery(() => undefined as never, silentLogger),
      urls: new UrlSigner(new Uint8Array(32), 600),
      signer: { keyId: "0", publicKeyArmored: "", sign: async () => new Uint8Array() },
      gatekeeper: gate,
      log: silentLogger,
      ready: () => true,
    });
    for (const fast of [true, false]) {
      const handle = withRequestPolicy((r) => app.handle(r), silentLogger, undefined, fast ? fastPathOf(app) : undefined);
      const get = async (path: string, token: string, inm?: string) => {
        const r = await handle(new Request(`http://registry.test${path}`, { headers: { host: "registry.test", authorization: `Bearer ${token}`, ...(inm ? { "if-none-match": inm } : {}) } }));
        return { status: r.status, etag: r.headers.get("etag"), body: await r.text() };
      };
      const platform = await idp.mint({ sub: "alice", aud: "terraform-cli", groups: ["platform"] });
      const others = await idp.mint({ sub: "bob", aud: "terraform-cli", groups: ["others"] });
      const path = "/opendepot/modules/v1/default/network/aws/versions";
      const first = await get(path, platform);
      expect(first.status).toBe(200);
      expect(first.etag).toBe(index.moduleVersionsDocument("default", "network").etag);
      expect(await get(path, platform, first.etag!)).toEqual({ status: 304, etag: first.etag, body: "" });
      // The other group: the module's ETag, a wildcard or nothing at all give the one 403, as a missing module does.
      const hidden = await get(path, others);
      expect(hidden.status).toBe(403);
      expect(hidden.etag).toBeNull();
      expect(await get(path, others, first.etag!)).toEqual(hidden);
      expect(await get(path, others, "*")).toEqual(hidden);
      const missing = await get("/opendepot/modules/v1/default/nothing/aws/versions", others, "*");
      expect(missing).toEqual({ ...hidden, body: hidden.body.replace("network", "nothing") });
      // Its own module, whose body is byte for byte the hidden one's: its own ETag, so the other's never validates it.
      const own = await get("/opendepot/modules/v1/default/vpc/aws/versions", others, first.etag!);
      expect(own.status).toBe(200);
      expect(own.body).toBe(first.body);
      expect(own.etag).not.toBe(first.etag);
      expect((await get("/opendepot/modules/v1/default/vpc/aws/versions", others, own.etag!)).status).toBe(304);
    }
  });
});
