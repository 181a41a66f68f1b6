// The lazily built app answers every request as the eagerly built one does: the probes (taken before the app is
// built, with the app's own answers), every other spelling of them and every route (which build the app, once,
// however many arrive together). Counted by lazyAppLoads, not timed.
import { expect, test } from "bun:test";
import type { ModuleObject, ProviderObject, VersionObject } from "../api/kinds.ts";
import { silentLogger } from "../log.ts";
import { StaticFeed } from "../../test/support/static-feed.ts";
import { createApp } from "./app.ts";
import { ArtifactDelivery } from "./artifact-delivery.ts";
import type { ServerContext } from "./context.ts";
import { lazyApp, lazyAppLoads } from "./lazy-app.ts";
import { RegistryIndex } from "./registry-index.ts";
import { UrlSigner } from "./url-signer.ts";

function context(ready: { value: boolean }): ServerContext {
  const feeds = { modules: new StaticFeed<ModuleObject>(), providers: new StaticFeed<ProviderObject>(), versions: new StaticFeed<VersionObject>() };
  return {
    index: new RegistryIndex(feeds),
    delivery: new ArtifactDelivery(() => undefined as never, silentLogger),
    urls: new UrlSigner(new Uint8Array(32), 600),
    signer: { keyId: "0", publicKeyArmored: "", sign: async () => new Uint8Array() },
    gatekeeper: { authorize: async () => undefined },
    log: silentLogger,
    ready: () => ready.value,
    unsynced: () => (ready.value ? [] : ["Module", "Version"]),
  };
}
const answer = async (r: Response | Promise<Response>) => {
  const res = await r;
  return { status: res.status, type: res.headers.get("content-type"), body: await res.text() };
};

test("probes are answered without building the app, exactly as the app answers them", async () => {
  const ready = { value: false };
  const ctx = context(ready);
  const eager = createApp(ctx);
  const lazy = lazyApp(ctx);
  const before = lazyAppLoads();
  for (const value of [false, true]) {
    ready.value = value;
    for (const path of ["/readyz", "/healthz"]) {
      const req = () => new Request(`http://localhost${path}`);
      expect(await answer(lazy.handle(req()))).toEqual(await answer(eager.handle(req())));
    }
  }
  expect(lazyAppLoads()).toBe(before);
  expect(lazy.routes()).toBeUndefined();
});

test("anything else builds the app once, even when requests arrive together; then every answer is the app's", async () => {
  const ready = { value: true };
  const ctx = context(ready);
  const eager = createApp(ctx);
  const lazy = lazyApp(ctx);
  const before = lazyAppLoads();
  const paths = ["/readyz/", "/readyz?verbose=1", "/.well-known/terraform.json", "/opendepot/modules/v1/team/vpc/aws/versions", "/nowhere", "/opendepot/modules/v1/BAD/vpc/aws/versions"];
  const lazyAnswers = await Promise.all(paths.map((p) => answer(lazy.handle(new Request(`http://localhost${p}`)))));
  const eagerAnswers = await Promise.all(paths.map((p) => answer(eager.handle(new Request(`http://localhost${p}`)))));
  expect(lazyAnswers).toEqual(eagerAnswers);
  expect(lazyAnswers.map((a) => a.status)).toEqual([200, 200, 200, 404, 404, 400]);
  expect(lazyAppLoads()).toBe(before + 1);
  expect(lazy.routes()).toEqual(eager.routes.map((r) => r.path));
  // A HEAD or POST to a probe is the app's business too (it is built already: no second build).
  expect(await answer(lazy.handle(new Request("http://localhost/readyz", { method: "POST" })))).toEqual(await answer(eager.handle(new Request("http://localhost/readyz", { method: "POST" }))));
  expect(lazyAppLoads()).toBe(before + 1);
});

test("load() builds the app up front (request metrics need its route table before the first request)", async () => {
  const lazy = lazyApp(context({ value: true }));
  const before = lazyAppLoads();
  await Promise.all([lazy.load(), lazy.load()]);
  expect(lazyAppLoads()).toBe(before + 1);
  expect(lazy.routes()).toContain("/readyz");
});
