// The OwnerReferencesPermissionEnforcement admission plugin (off by default on Kubernetes, on by default on
// OpenShift), for tests that ask for it: changing an object's ownerReferences needs `delete` on the object (not on
// create: whoever creates it could delete it), and setting `blockOwnerDeletion: true` on a reference needs `update`
// on the owner's `finalizers` subresource. The messages are the API server's.
import { ALL_KINDS, apiVersionOf } from "../api/kinds.ts";
import type { KubeObject, OwnerReference } from "../api/meta.ts";
import { deepEqual } from "../store/patch.ts";
import type { Call } from "./call.ts";
import type { Attributes } from "./rbac.ts";
import { denialMessage } from "./rbac.ts";
import { forbidden, invalid } from "./status.ts";

export type Authorize = (call: Call, attrs: Attributes) => Promise<boolean>;

const refsOf = (o: KubeObject | undefined): OwnerReference[] => (Array.isArray(o?.metadata?.ownerReferences) ? o!.metadata.ownerReferences! : []);

export async function enforceOwnerReferencePermissions(call: Call, next: KubeObject, stored: KubeObject | undefined, authorize: Authorize): Promise<void> {
  const before = refsOf(stored);
  const after = refsOf(next);
  if (deepEqual(before as never, after as never)) return;
  const name = next.metadata.name;
  const namespace = call.r.namespaced ? call.namespace : undefined;
  if (stored) {
    const attrs: Attributes = { resource: { verb: "delete", group: call.r.group, resource: call.r.resource, ...(namespace ? { namespace } : {}), name } };
    if (!(await authorize(call, attrs))) throw forbidden(call.r, name, `cannot set an ownerRef on a resource you can't delete: ${denialMessage(call.user, attrs)}, <nil>`);
  }
  // Only references that newly block their owner's deletion need the finalizer right.
  const blocking = after.filter((ref) => ref.blockOwnerDeletion === true && !before.some((b) => b.uid === ref.uid && b.blockOwnerDeletion === true));
  for (const ref of blocking) {
    const owner = ALL_KINDS.find((k) => apiVersionOf(k) === ref.apiVersion && k.kind === ref.kind);
    if (!owner) throw invalid(call.r, name, [{ field: "metadata.ownerReferences", message: `cannot set blockOwnerDeletion in this case because cannot find RESTMapping for APIVersion ${ref.apiVersion} Kind ${ref.kind}` }]);
    const attrs: Attributes = { resource: { verb: "update", group: owner.group, resource: owner.plural, subresource: "finalizers", ...(owner.namespaced && namespace ? { namespace } : {}), name: ref.name } };
    if (!(await authorize(call, attrs))) {
      throw forbidden(call.r, name, `cannot set blockOwnerDeletion if an ownerReference refers to a resource you can't set finalizers on: ${denialMessage(call.user, attrs)}, <nil>`);
    }
  }
}
