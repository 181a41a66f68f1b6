// GroupBinding controller: compiles each binding exactly as the server will (binding-rules.ts) and reports the
// outcome in status — Ready=True, or Ready=False with reason InvalidExpression / InvalidPattern and the compile
// error — plus observedGeneration. v0.9 never wrote this status, so a typo silently denied everyone; here the
// server skips the one invalid binding and this controller says why. The server itself stays read-only.
import { GroupBinding, type GroupBindingObject } from "../api/kinds.ts";
import { compileBinding, isProblem } from "../policy/binding-rules.ts";
import type { ObjectCache } from "../store/multi-namespace-cache.ts";
import type { ResourceStore } from "../store/types.ts";
import { setConditions } from "./conditions.ts";
import type { Controller, ControllerManager, ObjectKey, ReconcileContext } from "./manager.ts";
import { patchStatusIfChanged } from "./writes.ts";

export const GROUPBINDING_CONTROLLER = "groupbinding";

export class GroupBindingController implements Controller {
  readonly name = GROUPBINDING_CONTROLLER;
  readonly kind = GroupBinding;
  private readonly bindings: ObjectCache<GroupBindingObject>;

  constructor(
    private readonly store: ResourceStore,
    manager: ControllerManager,
  ) {
    this.bindings = manager.cache<GroupBindingObject>(GroupBinding);
  }

  async reconcile(key: ObjectKey, { log }: ReconcileContext) {
    const binding = this.bindings.get(key.namespace, key.name);
    if (!binding || binding.metadata.deletionTimestamp) return;
    const generation = binding.metadata.generation;
    const rules = compileBinding(binding.spec);
    const condition = isProblem(rules)
      ? { type: "Ready", status: "False" as const, reason: rules.reason, message: rules.message }
      : { type: "Ready", status: "True" as const, reason: "Valid", message: "expression and resource patterns compiled" };
    if (isProblem(rules) && binding.status?.observedGeneration !== generation) log.warn("GroupBinding is invalid", { reason: rules.reason, error: rules.message });
    await patchStatusIfChanged(this.store, GroupBinding, binding, {
      observedGeneration: generation,
      conditions: setConditions(binding.status?.conditions, [condition], generation),
    });
  }
}
