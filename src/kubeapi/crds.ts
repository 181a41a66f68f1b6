// customresourcedefinitions (apiextensions.k8s.io/v1): our five CRDs, built into the binary and served read-only.
// Creating or updating one with the spec this release generates is accepted as a no-op (so `kubectl apply -f
// crds/` works; labels and annotations are kept in memory, so kubectl sees its last-applied configuration), any
// other spec or CRD is refused with 422, and deleting is not allowed.
import { createHash } from "node:crypto";
import { crdFor } from "../api/crd.ts";
import { OUR_KINDS } from "../api/kinds.ts";
import type { KubeObject } from "../api/meta.ts";
import { applyJsonPatch, applyMergePatch } from "../store/patch.ts";
import { deepEqual, isPlainObject } from "../kits/json.ts";
import type { JsonPatchOp } from "../store/types.ts";
import { PATCH_TYPES, decode, mediaType, readBody, readObject } from "./body.ts";
import { checkTypeMeta, isDryRun, type Call } from "./call.ts";
import { parseFieldSelector } from "./field-selector.ts";
import { parseSelector } from "../store/selector.ts";
import { renderList, renderObject } from "./output.ts";
import { partialMetadata, toTable } from "./table.ts";
import { ApiError, badRequest, conflict, invalid, notFound, unsupportedMediaType } from "./status.ts";

type CrdCall = Omit<Call, "d">;
interface Overlay {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  resourceVersion: number;
}

// Built on the first request that needs them, not at import: a process whose admin API nobody asks (or that is off)
// never pays for generating five CRD documents with their schemas.
let builtInMemo: Map<string, KubeObject> | undefined;
const builtInCrds = () => (builtInMemo ??= new Map(OUR_KINDS.map((d) => [`${d.plural}.${d.group}`, crdFor(d) as unknown as KubeObject])));
const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

/** JSON with sorted keys and a newline: how kubectl serialises the configuration it applies. */
function goJson(v: unknown): string {
  const sort = (x: unknown): unknown =>
    Array.isArray(x) ? x.map(sort) : isPlainObject(x) ? Object.fromEntries(Object.keys(x).sort().map((k) => [k, sort(x[k])])) : x;
  // Go's encoding/json escapes <, >, & and the JavaScript line separators; descriptions contain them.
  const goEscapes: Record<string, string> = { "<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029" };
  return `${JSON.stringify(sort(v)).replace(/[<>&\u2028\u2029]/g, (c) => goEscapes[c]!)}\n`;
}

/** As if `kubectl apply -f crds/` had installed them: a fresh server answers the first apply with "unchanged". */
let installedAnnotationsMemo: Map<string, Record<string, string>> | undefined;
const installedAnnotations = () =>
  (installedAnnotationsMemo ??= new Map([...builtInCrds()].map(([name, crd]) => [name, { [LAST_APPLIED]: goJson({ ...crd, metadata: { ...crd.metadata, annotations: {} } }) }])));

/** Drop what the API server defaults, so a CRD file and the served object compare equal. */
function normalise(spec: unknown): unknown {
  if (!isPlainObject(spec)) return spec;
  const s = structuredClone(spec);
  if (isPlainObject(s.conversion) && s.conversion.strategy === "None" && Object.keys(s.conversion).length === 1) delete s.conversion;
  if (s.preserveUnknownFields === false) delete s.preserveUnknownFields;
  return s;
}

function firstDifference(a: unknown, b: unknown, path: string): string {
  if (isPlainObject(a) && isPlainObject(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) if (!deepEqual(a[k], b[k])) return firstDifference(a[k], b[k], `${path}.${k}`);
  } else if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return firstDifference(a[i], b[i], `${path}[${i}]`);
  }
  return path;
}

export class CrdRegistry {
  private readonly overlays = new Map<string, Overlay>();
  private readonly created = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  private revision = 1;

  private object(name: string): KubeObject | undefined {
    const crd = builtInCrds().get(name);
    if (!crd) return undefined;
    const o = this.overlays.get(name);
    const spec = crd.spec as { names: unknown; versions: { name: string }[] };
    const condition = (type: string, reason: string, message: string) => ({ type, status: "True", lastTransitionTime: this.created, reason, message });
    return {
      apiVersion: "apiextensions.k8s.io/v1",
      kind: "CustomResourceDefinition",
      metadata: {
        name,
        uid: createHash("sha256").update(name).digest("hex").replace(/^(.{8})(.{4})(.{4})(.{4})(.{12}).*$/, "$1-$2-$3-$4-$5"),
        resourceVersion: String(o?.resourceVersion ?? 1),
        generation: 1,
        creationTimestamp: this.created,
        ...(o?.labels ? { labels: o.labels } : {}),
        ...(o ? (o.annotations ? { annotations: o.annotations } : {}) : { annotations: installedAnnotations().get(name) }),
      },
      spec: structuredClone(crd.spec),
      status: {
        conditions: [condition("NamesAccepted", "NoConflicts", "no conflicts found"), condition("Established", "InitialNamesAccepted", "the initial names have been accepted")],
        acceptedNames: spec.names,
        storedVersions: spec.versions.map((v) => v.name),
      },
    };
  }

  list(): KubeObject[] {
    return [...builtInCrds().keys()].map((n) => this.object(n)!);
  }

  async handle(call: CrdCall, verb: string): Promise<Response> {
    const name = call.name;
    switch (verb) {
      case "get": {
        const obj = this.object(name!);
        if (!obj) throw notFound(call.r, name!);
        return renderObject(call.r, obj, call.output);
      }
      case "list": {
        const labels = parseSelector(call.query.get("labelSelector") ?? undefined);
        const fields = parseFieldSelector(call.query.get("fieldSelector"), call.r.resource);
        const items = this.list().filter((o) => labels.matches(o.metadata.labels) && fields.matches(o));
        return renderList(call.r, items, String(this.revision), call.output);
      }
      case "create": {
        const body = await readObject(call.request, call.deps.maxBodyBytes);
        checkTypeMeta(call.r, body);
        return this.accept(call, String((body.metadata as KubeObject["metadata"]).name ?? ""), body as KubeObject, 201);
      }
      case "update": {
        const body = await readObject(call.request, call.deps.maxBodyBytes);
        checkTypeMeta(call.r, body);
        const meta = body.metadata as KubeObject["metadata"];
        if (meta.name && meta.name !== name) throw badRequest(`the name of the object (${String(meta.name).slice(0, 253)}) does not match the name on the URL (${name})`);
        const current = this.object(name!);
        if (current && meta.resourceVersion && meta.resourceVersion !== current.metadata.resourceVersion) throw conflict(call.r, name!);
        return this.accept(call, name!, body as KubeObject, 200);
      }
      case "patch":
        return this.patch(call, name!);
      default:
        throw new ApiError(405, "MethodNotAllowed", "the CustomResourceDefinitions of OpenDepot are built in and cannot be deleted", { name, group: call.r.group, kind: call.r.resource });
    }
  }

  private async patch(call: CrdCall, name: string): Promise<Response> {
    const current = this.object(name);
    const type = mediaType(call.request);
    const body = decode(await readBody(call.request, call.deps.maxBodyBytes), type);
    let patched: unknown;
    if (type === PATCH_TYPES.apply) {
      if (!isPlainObject(body)) throw badRequest("the applied configuration must be an object");
      if (!current) return this.accept(call, name, body as KubeObject, 201);
      patched = applyMergePatch(current, body);
    } else {
      if (!current) throw notFound(call.r, name);
      if (type === PATCH_TYPES.json) {
        if (!Array.isArray(body)) throw badRequest("a JSON patch must be a JSON array of operations");
        try {
          patched = applyJsonPatch(current, body as JsonPatchOp[]);
        } catch (e) {
          throw new ApiError(422, "Invalid", (e as Error).message);
        }
      } else if (type === PATCH_TYPES.merge || type === PATCH_TYPES.strategic) {
        if (!isPlainObject(body)) throw badRequest("a merge patch must be a JSON object");
        patched = applyMergePatch(current, body);
      } else throw unsupportedMediaType(Object.values(PATCH_TYPES));
    }
    if (!isPlainObject(patched) || !isPlainObject(patched.metadata)) throw badRequest("the patched object must have metadata");
    const rv = (patched as KubeObject).metadata.resourceVersion;
    if (rv && rv !== current!.metadata.resourceVersion) throw conflict(call.r, name);
    return this.accept(call, name, patched as KubeObject, 200);
  }

  /** Accept `obj` if it is one of ours with this release's spec; keep its labels and annotations. */
  private accept(call: CrdCall, name: string, obj: KubeObject, code: number): Response {
    const builtIn = builtInCrds().get(name);
    if (!builtIn) {
      throw invalid(call.r, name, [
        { field: "metadata.name", message: `${JSON.stringify(name.slice(0, 253))}: the CustomResourceDefinitions of this server are built in; only ${[...builtInCrds().keys()].join(", ")} exist` },
      ]);
    }
    if (!deepEqual(normalise(obj.spec), normalise(builtIn.spec))) {
      const where = firstDifference(normalise(obj.spec), normalise(builtIn.spec), "spec");
      throw invalid(call.r, name, [{ field: where, message: "the CustomResourceDefinitions of OpenDepot are built in and cannot be changed: apply the crds/ of this release" }]);
    }
    const meta = obj.metadata ?? {};
    const labels = isPlainObject(meta.labels) ? (meta.labels as Record<string, string>) : undefined;
    const annotations = isPlainObject(meta.annotations) ? (meta.annotations as Record<string, string>) : undefined;
    const before = this.overlays.get(name);
    if (!isDryRun(call.query) && (!deepEqual(before?.labels, labels) || !deepEqual(before?.annotations, annotations))) {
      this.overlays.set(name, { labels, annotations, resourceVersion: ++this.revision });
    }
    return renderObject(call.r, this.object(name)!, call.output, code);
  }
}

/** A watch of the CRDs: ADDED for each (unless resuming), then nothing changes until the stream times out. */
export function watchCrds(call: CrdCall, registry: CrdRegistry): Response {
  const rv = call.query.get("resourceVersion") ?? "";
  const seconds = Number(call.query.get("timeoutSeconds") ?? "1800");
  call.keepOpen?.();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode("\n")); // headers now (see watch.ts)
      if (rv === "" || rv === "0") {
        for (const o of registry.list()) {
          const object = call.output.as === "Table" ? toTable(call.r, [o], o.metadata.resourceVersion, call.output) : call.output.as === "PartialObjectMetadata" ? partialMetadata(o, call.output.version) : o;
          controller.enqueue(new TextEncoder().encode(`${JSON.stringify({ type: "ADDED", object })}\n`));
        }
      }
      timer = setTimeout(() => controller.close(), Math.min(Math.max(Number.isFinite(seconds) ? seconds : 1800, 1), 86_400) * 1000);
    },
    cancel() {
      if (timer) clearTimeout(timer);
    },
  });
  return new Response(stream, { headers: { "content-type": "application/json" } });
}
