// The GroupBinding controller reports what the server will do with each binding: Ready, or why not.
import { afterEach, expect, test } from "bun:test";
import { GroupBinding, type GroupBindingObject } from "../api/kinds.ts";
import { API_VERSION } from "../api/meta.ts";
import { silentLogger } from "../log.ts";
import { EmbeddedStore } from "../store/embedded.ts";
import { waitFor } from "../../test/support/ports.ts";
import { GroupBindingController } from "./groupbinding-controller.ts";
import { ControllerManager } from "./manager.ts";

let manager: ControllerManager | undefined;
afterEach(async () => {
  await manager?.stop();
  manager = undefined;
});

const binding = (name: string, expression: string, moduleResources: string[] = []): GroupBindingObject => ({
  apiVersion: API_VERSION,
  kind: "GroupBinding",
  metadata: { name, namespace: "opendepot-system" },
  spec: { expression, moduleResources, providerResources: ["*"] },
});

async function readyOf(store: EmbeddedStore, name: string, generation: number) {
  return waitFor(async () => {
    const b = await store.get<GroupBindingObject>(GroupBinding, "opendepot-system", name);
    const ready = b?.status?.conditions?.find((c) => c.type === "Ready");
    return b?.status?.observedGeneration === generation && ready ? ready : undefined;
  }, 5000, `status of ${name}`);
}

test("valid, invalid expression, invalid pattern; status follows edits", async () => {
  const store = EmbeddedStore.open(":memory:", { namespaces: ["opendepot-system"] });
  await store.create(binding("good", '"platform-team" in groups', ["aws-*"]));
  await store.create(binding("typo", '"platform-team" in grups'));
  await store.create(binding("pattern", "true", ["[a-"]));
  manager = new ControllerManager(store, { log: silentLogger, resyncMs: 0 });
  manager.add(new GroupBindingController(store, manager));
  await manager.start();

  expect(await readyOf(store, "good", 1)).toMatchObject({ status: "True", reason: "Valid", observedGeneration: 1 });
  const typo = await readyOf(store, "typo", 1);
  expect(typo).toMatchObject({ status: "False", reason: "InvalidExpression" });
  expect(typo.message).toContain('unknown name grups (the environment holds only "groups")');
  expect(await readyOf(store, "pattern", 1)).toMatchObject({ status: "False", reason: "InvalidPattern" });

  const current = (await store.get<GroupBindingObject>(GroupBinding, "opendepot-system", "typo"))!;
  await store.update({ ...current, spec: { ...current.spec, expression: '"platform-team" in groups' } });
  expect(await readyOf(store, "typo", 2)).toMatchObject({ status: "True", reason: "Valid", observedGeneration: 2 });
});
