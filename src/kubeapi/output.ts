// Rendering objects and lists in the representation the client negotiated (object, Table, metadata only), and
// the Warning headers the API server attaches (unknown fields dropped under fieldValidation=Warn).
import type { KubeObject } from "../api/meta.ts";
import type { Output } from "./negotiate.ts";
import { groupVersionOf, type ResourceInfo } from "./resources.ts";
import { jsonResponse } from "./status.ts";
import { partialMetadata, toTable } from "./table.ts";

export function withWarnings(response: Response, warnings: string[]): Response {
  for (const w of warnings.slice(0, 50)) response.headers.append("warning", `299 - ${JSON.stringify(w)}`);
  return response;
}

export function renderObject(r: ResourceInfo, obj: KubeObject, output: Output, code = 200, warnings: string[] = []): Response {
  let body: unknown = obj;
  if (output.as === "Table") body = toTable(r, [obj], obj.metadata.resourceVersion, output);
  else if (output.as === "PartialObjectMetadata") body = partialMetadata(obj, output.version);
  return withWarnings(jsonResponse(body, code), warnings);
}

export function listBody(r: ResourceInfo, items: KubeObject[], resourceVersion: string, output: Output): Record<string, unknown> {
  if (output.as === "Table") return toTable(r, items, resourceVersion, output);
  if (output.as === "PartialObjectMetadata") {
    return {
      kind: "PartialObjectMetadataList",
      apiVersion: `meta.k8s.io/${output.version}`,
      metadata: { resourceVersion },
      items: items.map((o) => partialMetadata(o, output.version)),
    };
  }
  return { kind: `${r.kind}List`, apiVersion: groupVersionOf(r), metadata: { resourceVersion }, items };
}

export function renderList(r: ResourceInfo, items: KubeObject[], resourceVersion: string, output: Output): Response {
  return jsonResponse(listBody(r, items, resourceVersion, output));
}
