// One set of watch-fed caches per process: the controllers and the registry server of standalone list each kind
// once and see the same object instances; /readyz (server and controller role) follows the caches' sync state.
import { afterEach, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Module, Version, type ModuleObject, type VersionObject } from "../api/kinds.ts";
import { API_VERSION, LABELS } from "../api/meta.ts";
import { SigningKey } from "../artifacts/signing.ts";
import { parseFlags } from "../cli/flags.ts";
import { silentLogger } from "../log.ts";
import { storageFactory } from "../storage/factory.ts";
import { CacheSet } from "../store/cache-set.ts";
import { EmbeddedStore } from "../store/embedded.ts";
import type { StoreLogger } from "../store/types.ts";
import { FlakyStore } from "../../test/support/flaky-store.ts";
import { moduleObj } from "../../test/support/objects.ts";
import { waitFor } from "../../test/support/ports.ts";
import { FixtureOidcProvider } from "../../fixtures/oidc-provider.ts";
import { authConfigFromFlags } from "./auth-flags.ts";
import { buildManager, CONTROLLER_FLAGS } from "./controller-manager.ts";
import { controllerReadiness } from "./controller-role.ts";
import { startRegistryServer } from "./registry-server.ts";

const quiet: StoreLogger = { info: () => {}, warn: () => {}, error: () => {} };
const backoff = { initialMs: 5, maxMs: 20 };
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});
const until = (cond: () => boolean | Promise<boolean>) => waitFor(cond, 5000, "condition", 2);

let signer: SigningKey;
beforeAll(async () => {
  signer = await SigningKey.generate({ name: "t", email: "t@example.com", rsaBits: 2048 });
});

async function world(eventBufferSize?: number) {
  const store = EmbeddedStore.open(":memory:", { eventBufferSize, log: quiet, requireNamespaces: false });
  cleanup.push(() => store.close());
  await store.create<ModuleObject>({ apiVersion: API_VERSION, kind: "Module", metadata: { name: "network", namespace: "default" }, spec: { moduleConfig: { provider: "aws", repoOwner: "acme" }, versions: [] } });
  const v = await store.create<VersionObject>({
    apiVersion: API_VERSION,
    kind: "Version",
    metadata: { name: "network-1-0-0", namespace: "default", labels: { [LABELS.module]: "network" } },
    spec: { type: "Module", version: "1.0.0", fileName: "x.zip", moduleConfigRef: { name: "network" } },
  });
  await store.updateStatus({ ...v, status: { synced: true, checksum: "x" } });
  const flaky = new FlakyStore(store);
  const caches = new CacheSet(flaky, { log: quiet, backoff });
  cleanup.push(() => caches.stop());
  return { store, flaky, caches };
}

async function server(flaky: FlakyStore, caches: CacheSet) {
  const root = await mkdtemp(join(tmpdir(), "opendepot-shared-caches-"));
  const s = await startRegistryServer({ store: flaky, storageFor: storageFactory({ defaultRoot: root }), signer, urlKey: new Uint8Array(32), urlTtlSeconds: 60, log: silentLogger, caches });
  cleanup.push(() => s.stop());
  return s;
}

const readyz = async (s: { handle: (r: Request) => Response | Promise<Response> }) => {
  const res = await s.handle(new Request("http://localhost/readyz"));
  return { status: res.status, body: await res.text() };
};

describe("one set of caches per process", () => {
  test("the controllers and the registry server list each kind once and hold the same Version object", async () => {
    const { flaky, caches } = await world();
    // The controllers that need no upstream: they still read Modules, Providers, Versions and GroupBindings.
    const manager = buildManager(["module", "provider", "groupbinding"], { store: flaky, storageFor: storageFactory({}), log: silentLogger, flags: parseFlags(CONTROLLER_FLAGS, []), caches });
    await manager.start();
    cleanup.push(() => manager.stop());
    const s = await server(flaky, caches);
    expect((await s.handle(new Request("http://localhost/opendepot/modules/v1/default/network/aws/versions"))).status).toBe(200);

    for (const kind of ["Module", "Provider", "Version", "GroupBinding"]) expect({ kind, lists: flaky.listsByKind.get(kind) }).toEqual({ kind, lists: 1 });
    // The server's extra kinds (browse API) come on top, each once too.
    expect([...flaky.listsByKind.values()].every((n) => n === 1)).toBe(true);
    expect(caches.size).toBe(flaky.listsByKind.size);
    const fromControllers = manager.cache<VersionObject>(Version).get("default", "network-1-0-0");
    expect(fromControllers).toBeDefined();
    expect(caches.cache<VersionObject>(Version).get("default", "network-1-0-0")).toBe(fromControllers!);
  });

  test("with OIDC, the auth layer's GroupBindings are the GroupBinding controller's cache", async () => {
    const idp = await FixtureOidcProvider.start({ user: { sub: "alice", groups: [] }, clients: [{ id: "terraform-cli", redirectUris: "loopback" }] });
    cleanup.push(() => idp.stop());
    const { flaky, caches } = await world();
    const manager = buildManager(["groupbinding"], { store: flaky, storageFor: storageFactory({}), log: silentLogger, flags: parseFlags(CONTROLLER_FLAGS, []), caches });
    await manager.start();
    cleanup.push(() => manager.stop());
    const root = await mkdtemp(join(tmpdir(), "opendepot-shared-caches-"));
    const auth = authConfigFromFlags({ "oidc-issuer-url": idp.issuer, "oidc-client-id": "terraform-cli", namespace: "opendepot-system" });
    const s = await startRegistryServer({ store: flaky, storageFor: storageFactory({ defaultRoot: root }), signer, urlKey: new Uint8Array(32), urlTtlSeconds: 60, log: silentLogger, caches, auth });
    cleanup.push(() => s.stop());
    expect(flaky.listsByKind.get("GroupBinding")).toBe(1);
    expect((await readyz(s)).status).toBe(200);
  });

  test("a cache is shared per kind and scope, not across scopes", async () => {
    const { caches } = await world();
    expect(caches.cache(Module)).toBe(caches.cache(Module, {}));
    expect(caches.cache(Module, { namespaces: ["b", "a"] })).toBe(caches.cache(Module, { namespaces: ["a", "b", "a"] }));
    expect(caches.cache(Module, { namespaces: ["a"] })).not.toBe(caches.cache(Module));
    expect(caches.cache(Module, { labelSelector: "x" })).not.toBe(caches.cache(Module));
    expect(caches.size).toBe(4);
  });
});

describe("readiness follows the caches' sync state", () => {
  test("not ready before the first list completes, ready after, not ready while relisting after a lost watch", async () => {
    const { store, flaky, caches } = await world(2);
    const modules = caches.cache<ModuleObject>(Module);
    caches.cache<VersionObject>(Version);
    expect(caches.ready()).toBe(false);
    expect(caches.unsynced()).toEqual(["Module", "Version"]);

    let release!: () => void;
    flaky.listGate = new Promise((r) => (release = r));
    const started = caches.start();
    await until(() => flaky.lists === 2);
    expect(caches.ready()).toBe(false);
    flaky.listGate = undefined;
    release();
    await started;
    expect(caches.ready()).toBe(true);
    expect(caches.unsynced()).toEqual([]);

    // The watch breaks, and more changes than the store's event ring remembers happen meanwhile: Gone, relist.
    flaky.listGate = new Promise((r) => (release = r));
    flaky.breakWatches();
    for (const name of ["b", "c", "d", "e"]) await store.create(moduleObj(name, undefined, "default"));
    await until(() => caches.unsynced().includes("Module"));
    expect(caches.ready()).toBe(false);
    flaky.listGate = undefined;
    release();
    await until(() => caches.ready());
    expect(modules.list().map((m) => m.metadata.name).sort()).toEqual(["b", "c", "d", "e", "network"]);
  });

  test("the registry server's /readyz answers 503 naming the caches that relist, then 200", async () => {
    const { store, flaky, caches } = await world(2);
    const s = await server(flaky, caches);
    expect(await readyz(s)).toEqual({ status: 200, body: JSON.stringify({ status: "ready" }) });

    let release!: () => void;
    flaky.listGate = new Promise((r) => (release = r));
    flaky.breakWatches();
    for (const name of ["b", "c", "d", "e"]) await store.create(moduleObj(name, undefined, "default"));
    await until(async () => (await readyz(s)).status === 503);
    const notReady = await readyz(s);
    expect(JSON.parse(notReady.body).errors[0]).toMatch(/^caches are still loading: .*Module/);
    flaky.listGate = undefined;
    release();
    await until(async () => (await readyz(s)).status === 200);
  });

  test("the controller role is not ready while a leading group's caches load; a standby is", async () => {
    const { flaky, caches } = await world();
    const manager = buildManager(["module"], { store: flaky, storageFor: storageFactory({}), log: silentLogger, flags: parseFlags(CONTROLLER_FLAGS, []), caches });
    let release!: () => void;
    flaky.listGate = new Promise((r) => (release = r));
    const started = manager.start();
    cleanup.push(() => manager.stop());
    expect(controllerReadiness([{ name: "module", manager, running: false }])).toEqual({ ready: true, body: { status: "ok", leading: [] } });
    const loading = controllerReadiness([{ name: "module", manager, running: true }]);
    expect(loading.ready).toBe(false);
    expect(loading.body.unsynced).toEqual([
      { controller: "module", cache: "Module" },
      { controller: "module", cache: "Version" },
    ]);
    expect(controllerReadiness([{ name: "module", manager, running: false, elector: { lastError: "leases is forbidden" } }]).body).toEqual({ status: "not ready", failing: [{ controller: "module", error: "leases is forbidden" }] });
    flaky.listGate = undefined;
    release();
    await started;
    expect(controllerReadiness([{ name: "module", manager, running: true }])).toEqual({ ready: true, body: { status: "ok", leading: ["module"] } });
  });
});
