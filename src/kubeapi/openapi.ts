// OpenAPI v3 (`/openapi/v3` and one document per group/version), built from the same schemas the store validates
// with. kubectl reads it to learn that the server validates fields itself (the `fieldValidation` parameter on each
// PATCH operation), so plain `kubectl apply` sends fieldValidation=Strict instead of needing --validate=false;
// `kubectl explain` reads the component schemas.
import { createHash } from "node:crypto";
import { groupVersionOf, groupVersions, resourcesIn, type ResourceInfo } from "./resources.ts";
import { OBJECT_META, schemaOf, type Structural } from "./schema.ts";

type Json = Record<string, unknown>;
const OBJECT_META_REF = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
const PATCH_CONTENT = ["application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml"];

function schemaName(r: ResourceInfo): string {
  if (r.descriptor?.spec) return `${r.group.split(".").reverse().join(".")}.${r.version}.${r.kind}`;
  if (r.group === "") return `io.k8s.api.core.${r.version}.${r.kind}`;
  if (r.group === "apiextensions.k8s.io") return `io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.${r.version}.${r.kind}`;
  return `io.k8s.api.${r.group.replace(/\.k8s\.io$/, "")}.${r.version}.${r.kind}`;
}

function componentSchema(r: ResourceInfo): Json {
  const s = structuredClone(schemaOf(r) ?? { type: "object", "x-kubernetes-preserve-unknown-fields": true, properties: { spec: { type: "object" }, status: { type: "object" } } }) as Structural;
  s.properties = { apiVersion: { type: "string" }, kind: { type: "string" }, ...s.properties, metadata: { allOf: [{ $ref: `#/components/schemas/${OBJECT_META_REF}` }] } };
  return { ...s, "x-kubernetes-group-version-kind": [{ group: r.group, version: r.version, kind: r.kind }] };
}

const param = (name: string, where: "path" | "query", description: string): Json => ({
  name,
  in: where,
  description,
  ...(where === "path" ? { required: true } : {}),
  schema: { type: "string", uniqueItems: true },
});

function operation(r: ResourceInfo, action: string, ref: string, extraParams: Json[], body?: string[]): Json {
  const content = (types: string[]) => Object.fromEntries(types.map((t) => [t, { schema: { $ref: ref } }]));
  return {
    operationId: `${action}${r.kind}`,
    parameters: extraParams,
    ...(body ? { requestBody: { content: content(body), required: true } } : {}),
    responses: { "200": { description: "OK", content: content(["application/json", "application/yaml"]) }, "401": { description: "Unauthorized" } },
    "x-kubernetes-action": action,
    "x-kubernetes-group-version-kind": { group: r.group, version: r.version, kind: r.kind },
  };
}

function pathsOf(r: ResourceInfo): Record<string, Json> {
  const ref = `#/components/schemas/${schemaName(r)}`;
  const prefix = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
  const collection = r.namespaced ? `${prefix}/namespaces/{namespace}/${r.resource}` : `${prefix}/${r.resource}`;
  const nsParam = r.namespaced ? [param("namespace", "path", "object name and auth scope, such as for teams and projects")] : [];
  const nameParam = param("name", "path", `name of the ${r.kind}`);
  const writeParams = [param("dryRun", "query", "When present, indicates that modifications should not be persisted."), param("fieldManager", "query", "a name associated with the actor or entity that is making these changes."), param("fieldValidation", "query", "Ignore, Warn (default) or Strict: how unknown fields are handled.")];
  const paths: Record<string, Json> = {};
  if (r.virtual && r.virtual !== "crds") {
    paths[collection] = { post: operation(r, "post", ref, writeParams, ["application/json", "application/yaml"]) };
    return paths;
  }
  paths[collection] = {
    get: operation(r, "list", ref, [...nsParam, param("labelSelector", "query", "label selector"), param("fieldSelector", "query", "field selector"), param("watch", "query", "watch for changes")]),
    post: operation(r, "post", ref, [...nsParam, ...writeParams], ["application/json", "application/yaml"]),
  };
  paths[`${collection}/{name}`] = {
    get: operation(r, "get", ref, [...nsParam, nameParam]),
    put: operation(r, "put", ref, [...nsParam, nameParam, ...writeParams], ["application/json", "application/yaml"]),
    patch: operation(r, "patch", ref, [...nsParam, nameParam, ...writeParams, param("force", "query", "force apply")], PATCH_CONTENT),
    delete: operation(r, "delete", ref, [...nsParam, nameParam, param("dryRun", "query", "dry run")]),
  };
  if (r.subresources.includes("status")) {
    paths[`${collection}/{name}/status`] = {
      get: operation(r, "get", ref, [...nsParam, nameParam]),
      put: operation(r, "put", ref, [...nsParam, nameParam, ...writeParams], ["application/json"]),
      patch: operation(r, "patch", ref, [...nsParam, nameParam, ...writeParams], PATCH_CONTENT),
    };
  }
  return paths;
}

const docs = new Map<string, { body: string; hash: string }>();

function document(group: string, version: string, appVersion: string): { body: string; hash: string } | undefined {
  const key = `${group}/${version}`;
  const cached = docs.get(key);
  if (cached) return cached;
  const resources = resourcesIn(group, version);
  if (!resources.length) return undefined;
  const schemas: Json = { [OBJECT_META_REF]: OBJECT_META };
  let paths: Json = {};
  for (const r of resources) {
    schemas[schemaName(r)] = componentSchema(r);
    paths = { ...paths, ...pathsOf(r) };
  }
  const body = JSON.stringify({ openapi: "3.0.0", info: { title: "OpenDepot", version: appVersion }, paths, components: { schemas } });
  const doc = { body, hash: createHash("sha512").update(body).digest("hex").slice(0, 128).toUpperCase() };
  docs.set(key, doc);
  return doc;
}

const docPath = (gv: { group: string; version: string }) => (gv.group ? `apis/${gv.group}/${gv.version}` : `api/${gv.version}`);

export function openApiRoot(appVersion: string): Json {
  const paths: Json = {};
  for (const gv of groupVersions()) {
    const doc = document(gv.group, gv.version, appVersion)!;
    paths[docPath(gv)] = { serverRelativeURL: `/openapi/v3/${docPath(gv)}?hash=${doc.hash}` };
  }
  return { paths };
}

/** `/openapi/v3/api/v1` or `/openapi/v3/apis/<group>/<version>` → the JSON text, or undefined. */
export function openApiDocument(path: string, appVersion: string): string | undefined {
  const m = /^\/openapi\/v3\/(?:api\/([^/]+)|apis\/([^/]+)\/([^/]+))$/.exec(path);
  if (!m) return undefined;
  const gv = m[1] ? { group: "", version: m[1] } : { group: m[2]!, version: m[3]! };
  if (!groupVersions().some((x) => groupVersionOf(x) === groupVersionOf(gv))) return undefined;
  return document(gv.group, gv.version, appVersion)?.body;
}
