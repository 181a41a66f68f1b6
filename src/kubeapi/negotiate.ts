// Content negotiation on Accept: plain JSON objects, meta.k8s.io Tables (kubectl get) or PartialObjectMetadata
// (metadata-only clients). Protobuf is not spoken; a client that accepts nothing else gets 406.
import { ApiError, badRequest } from "./status.ts";
import type { IncludeObject } from "./table.ts";

export type Output =
  | { as: "object" }
  | { as: "Table"; version: string; includeObject: IncludeObject }
  | { as: "PartialObjectMetadata"; version: string };

interface MediaRange {
  type: string;
  params: Record<string, string>;
}

function parseAccept(header: string): MediaRange[] {
  return header
    .split(",")
    .slice(0, 32)
    .map((part) => {
      const [type, ...rest] = part.split(";");
      const params: Record<string, string> = {};
      for (const p of rest) {
        const eq = p.indexOf("=");
        if (eq > 0) params[p.slice(0, eq).trim().toLowerCase()] = p.slice(eq + 1).trim();
      }
      return { type: type!.trim().toLowerCase(), params };
    })
    .filter((m) => m.type !== "");
}

const isJson = (t: string) => t === "application/json" || t === "application/*" || t === "*/*" || t === "application/yaml";

/** Pick the first acceptable representation, in the client's order. */
export function negotiate(request: Request, query: URLSearchParams): Output {
  const header = request.headers.get("accept");
  if (!header) return { as: "object" };
  const ranges = parseAccept(header);
  if (!ranges.length) return { as: "object" };
  for (const m of ranges) {
    if (!isJson(m.type)) continue;
    const as = m.params.as;
    if (!as) return { as: "object" };
    if (m.params.g !== "meta.k8s.io" || (m.params.v !== "v1" && m.params.v !== "v1beta1")) continue;
    if (as === "Table") return { as: "Table", version: m.params.v, includeObject: includeObject(query) };
    if (as === "PartialObjectMetadata" || as === "PartialObjectMetadataList") return { as: "PartialObjectMetadata", version: m.params.v };
  }
  throw new ApiError(406, "NotAcceptable", "only the following media types are accepted: application/json, application/yaml, application/json;as=Table;v=v1;g=meta.k8s.io");
}

function includeObject(query: URLSearchParams): IncludeObject {
  const v = query.get("includeObject");
  if (v === null || v === "") return "Metadata";
  if (v === "None" || v === "Metadata" || v === "Object") return v;
  throw badRequest(`includeObject: unsupported value ${JSON.stringify(v.slice(0, 32))}: must be None, Metadata or Object`);
}
