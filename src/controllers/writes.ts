// Writes controllers make: merge patches, which need no resourceVersion and so never conflict with other writers
// of other fields; status goes through the status subresource only.
import type { KindDescriptor } from "../api/kinds.ts";
import type { KubeObject } from "../api/meta.ts";
import { isNotFound } from "../store/errors.ts";
import { deepEqual } from "../kits/json.ts";
import type { ResourceStore } from "../store/types.ts";

export async function patchStatus(store: ResourceStore, kind: KindDescriptor, obj: KubeObject, status: Record<string, unknown>): Promise<KubeObject | undefined> {
  try {
    return await store.patch(kind, obj.metadata.namespace, obj.metadata.name, { type: "merge", patch: { status } }, { subresource: "status" });
  } catch (e) {
    if (isNotFound(e)) return undefined; // deleted meanwhile: nothing to report on
    throw e;
  }
}

export async function patchSpec(store: ResourceStore, kind: KindDescriptor, obj: KubeObject, spec: Record<string, unknown>): Promise<KubeObject | undefined> {
  try {
    return await store.patch(kind, obj.metadata.namespace, obj.metadata.name, { type: "merge", patch: { spec } });
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

/** Replace one field wholesale (merge patches would merge nested objects and keep removed keys). */
export async function replaceField(store: ResourceStore, kind: KindDescriptor, obj: KubeObject, path: string, value: unknown): Promise<KubeObject | undefined> {
  try {
    return await store.patch(kind, obj.metadata.namespace, obj.metadata.name, { type: "json", patch: [{ op: "add", path, value }] });
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

/** Finalizers are replaced as a list, guarded by resourceVersion so a concurrent change is not lost. */
export async function setFinalizers(store: ResourceStore, kind: KindDescriptor, obj: KubeObject, finalizers: string[]): Promise<KubeObject | undefined> {
  try {
    return await store.patch(kind, obj.metadata.namespace, obj.metadata.name, {
      type: "json",
      patch: [
        { op: "test", path: "/metadata/resourceVersion", value: obj.metadata.resourceVersion },
        { op: "add", path: "/metadata/finalizers", value: finalizers },
      ],
    });
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

/** Patch status only with the fields that differ, so that a steady state causes no writes (and no watch events). */
export async function patchStatusIfChanged(store: ResourceStore, kind: KindDescriptor, obj: KubeObject, status: Record<string, unknown>): Promise<void> {
  const current = (obj.status ?? {}) as Record<string, unknown>;
  const changes: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(status)) {
    if (v === undefined) continue;
    if (v === null ? k in current : !deepEqual(v, current[k])) changes[k] = v;
  }
  if (Object.keys(changes).length) await patchStatus(store, kind, obj, changes);
}
