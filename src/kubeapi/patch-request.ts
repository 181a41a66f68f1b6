// PATCH of store-backed kinds: JSON patch, JSON merge patch, strategic merge patch (a merge patch for custom
// resources; an approximation with kubectl's directives for the core kinds) and server-side apply. The patch is
// applied to the stored object here and written back with its resourceVersion as a precondition, retrying on a
// concurrent write unless the patch itself pinned a resourceVersion, as the API server's GuaranteedUpdate does.
import type { KubeObject } from "../api/meta.ts";
import { StoreError } from "../store/errors.ts";
import { applyJsonPatch, applyMergePatch } from "../store/patch.ts";
import { isPlainObject } from "../kits/json.ts";
import type { JsonPatchOp } from "../store/types.ts";
import { serverSideApply } from "./apply.ts";
import { PATCH_TYPES, decode, mediaType, readBody } from "./body.ts";
import type { Call } from "./call.ts";
import { ApiError, badRequest, conflict, invalid, notFound, unsupportedMediaType } from "./status.ts";
import { applyStrategicMerge } from "./strategic.ts";
import { write } from "./write.ts";

const MAX_ATTEMPTS = 5;

type PatchFn = (doc: KubeObject) => unknown;

function patchFunction(call: Call, type: string, body: unknown): PatchFn {
  switch (type) {
    case PATCH_TYPES.json:
      if (!Array.isArray(body)) throw badRequest("a JSON patch must be a JSON array of operations");
      if (body.length > 10_000) throw badRequest("a JSON patch may hold at most 10000 operations");
      return (doc) => {
        try {
          return applyJsonPatch(doc, body as JsonPatchOp[]);
        } catch (e) {
          if (e instanceof StoreError) throw new ApiError(422, "Invalid", e.message, { name: call.name, group: call.r.group, kind: call.r.kind });
          throw e;
        }
      };
    case PATCH_TYPES.merge:
      if (!isPlainObject(body)) throw badRequest("a merge patch must be a JSON object");
      return (doc) => applyMergePatch(doc, body);
    case PATCH_TYPES.strategic:
      if (!isPlainObject(body)) throw badRequest("a strategic merge patch must be a JSON object");
      // Custom resources have no patch strategies: a strategic merge patch is a merge patch for them.
      return (doc) => (call.d.spec ? applyMergePatch(doc, body) : applyStrategicMerge(doc, body));
    default:
      throw unsupportedMediaType(Object.values(PATCH_TYPES));
  }
}

export async function patchObject(call: Call): Promise<Response> {
  const type = mediaType(call.request);
  if (type === PATCH_TYPES.apply) return serverSideApply(call);
  if (!Object.values(PATCH_TYPES).includes(type as never)) throw unsupportedMediaType(Object.values(PATCH_TYPES));
  const apply = patchFunction(call, type, decode(await readBody(call.request, call.deps.maxBodyBytes), type));
  const name = call.name!;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const stored = await call.deps.store.get<KubeObject>(call.d, call.namespace, name);
    if (!stored) throw notFound(call.r, name);
    const patched = apply(structuredClone(stored));
    if (!isPlainObject(patched) || !isPlainObject(patched.metadata)) throw invalid(call.r, name, [{ field: "metadata", message: "is required" }]);
    const next = patched as KubeObject;
    if (next.metadata.name !== stored.metadata.name || (next.metadata.namespace ?? "") !== (stored.metadata.namespace ?? "")) {
      throw invalid(call.r, name, [{ field: "metadata.name", message: "field is immutable" }]);
    }
    if (next.apiVersion !== stored.apiVersion || next.kind !== stored.kind) throw badRequest("apiVersion and kind cannot be changed by a patch");
    // A resourceVersion the patch put in is a precondition: a stale one fails at once (and on a retry, after a
    // concurrent write, the one it pinned is stale).
    const rv = next.metadata.resourceVersion;
    if (rv !== undefined && rv !== stored.metadata.resourceVersion) throw conflict(call.r, name);
    next.metadata.resourceVersion = stored.metadata.resourceVersion;
    try {
      return await write(call, next, stored);
    } catch (e) {
      if (!(e instanceof ApiError && e.reason === "Conflict")) throw e;
    }
  }
  throw conflict(call.r, name);
}
