// Module and Provider status on failure: when the API refuses the Versions (RBAC, a webhook, a quota), the
// owner's columns and conditions say why, and the reconcile is retried with backoff (a bounded number of attempts).
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { waitFor } from "../../test/support/ports.ts";
import { Module, Provider, type ModuleObject, type ProviderObject } from "../api/kinds.ts";
import { API_VERSION, type KubeObject } from "../api/meta.ts";
import { silentLogger } from "../log.ts";
import { EmbeddedStore } from "../store/embedded.ts";
import { StoreError } from "../store/errors.ts";
import type { ResourceStore } from "../store/types.ts";
import { ControllerManager } from "./manager.ts";
import { ModuleController } from "./module-controller.ts";
import { ProviderController } from "./provider-controller.ts";

let store: EmbeddedStore;
let manager: ControllerManager;
let versionCreates = 0;

/** The store as a controller without `create` on versions sees it: the API server's 403. */
function refusingVersionCreates(base: EmbeddedStore): ResourceStore {
  return new Proxy(base, {
    get(target, prop, receiver) {
      if (prop === "create") {
        return (obj: KubeObject) => {
          if (obj.kind !== "Version") return target.create(obj);
          versionCreates++;
          return Promise.reject(new StoreError("Forbidden", `versions.opendepot.defdev.io is forbidden: User "system:serviceaccount:opendepot:controller" cannot create resource "versions" in API group "opendepot.defdev.io" in the namespace "default"`));
        };
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}

beforeEach(async () => {
  versionCreates = 0;
  store = EmbeddedStore.open(":memory:");
  const refusing = refusingVersionCreates(store);
  manager = new ControllerManager(refusing, { log: silentLogger, resyncMs: 0, backoff: { baseMs: 100, maxMs: 400 } });
  manager.add(new ModuleController(refusing, manager));
  manager.add(new ProviderController(refusing, manager));
  await manager.start();
});
afterEach(async () => {
  await manager.stop();
  await store.close();
});

const ready = (o: ModuleObject | ProviderObject) => o.status?.conditions?.find((c) => c.type === "Ready");

describe("status on every failure path", () => {
  test("a Module whose Versions cannot be created: SYNCED false, Ready False VersionWriteFailed naming the refusal, retried with backoff", async () => {
    await store.create<ModuleObject>({ apiVersion: API_VERSION, kind: "Module", metadata: { name: "vpc", namespace: "default" }, spec: { moduleConfig: { repoOwner: "acme" }, versions: [{ version: "1.0.0" }] } });
    const m = await waitFor(async () => {
      const x = await store.get<ModuleObject>(Module, "default", "vpc");
      return x && ready(x) ? x : undefined;
    }, 10_000, "the Module's status");
    expect(m.status?.synced).toBe(false);
    expect(ready(m)).toMatchObject({ status: "False", reason: "VersionWriteFailed" });
    expect(ready(m)?.message).toContain('cannot create resource "versions"');
    expect(m.status?.syncStatus).toContain("Failed to sync module");
    await waitFor(() => versionCreates >= 3 || undefined, 10_000, "retries");
    // Backoff, not a hot loop: the attempts grow slowly (0.1 s doubling to 0.4 s between them).
    const seen = versionCreates;
    await Bun.sleep(500);
    expect(versionCreates - seen).toBeLessThanOrEqual(3);
  });

  test("a Provider likewise", async () => {
    await store.create<ProviderObject>({ apiVersion: API_VERSION, kind: "Provider", metadata: { name: "aws", namespace: "default" }, spec: { providerConfig: { operatingSystems: ["linux"], architectures: ["amd64"] }, versions: [{ version: "5.80.0" }] } });
    const p = await waitFor(async () => {
      const x = await store.get<ProviderObject>(Provider, "default", "aws");
      return x && ready(x) ? x : undefined;
    }, 10_000, "the Provider's status");
    expect(ready(p)).toMatchObject({ status: "False", reason: "VersionWriteFailed" });
    expect(p.status?.synced).toBe(false);
  });
});
