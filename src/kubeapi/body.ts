// Request bodies: read with a hard size limit (whatever the Content-Length claims), decoded as JSON, YAML or (for
// kubectl's typed clients) Kubernetes protobuf by Content-Type, and checked for shape before any handler sees them.
import { isPlainObject } from "../kits/json.ts";
import { runtime } from "../runtime/index.ts";
import { decodeProtobuf } from "./protobuf.ts";
import { badRequest, tooLarge, unsupportedMediaType } from "./status.ts";

export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;

export const PATCH_TYPES = {
  json: "application/json-patch+json",
  merge: "application/merge-patch+json",
  strategic: "application/strategic-merge-patch+json",
  apply: "application/apply-patch+yaml",
} as const;

/** The media type without parameters, lower-cased: `application/json; charset=utf-8` → `application/json`. */
export function mediaType(request: Request): string {
  return (request.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
}

const PROTOBUF = "application/vnd.kubernetes.protobuf";

export async function readBytes(request: Request, limit: number): Promise<Uint8Array> {
  const declared = Number(request.headers.get("content-length") ?? "NaN");
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

export async function readBody(request: Request, limit: number): Promise<string> {
  const bytes = await readBytes(request, limit);
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw badRequest("the request body is not valid UTF-8");
  }
}

const MAX_DEPTH = 64;
const MAX_NODES = 500_000;

/**
 * Refuse documents nested deeper than any object needs, or with more nodes than the body size explains: YAML
 * aliases can make a small body expand into an exponentially large tree once handlers copy or serialise it.
 */
function checkShape(value: unknown): void {
  const stack: [unknown, number][] = [[value, 0]];
  let nodes = 0;
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (++nodes > MAX_NODES) throw badRequest(`the request body has more than ${MAX_NODES} values`);
    if (typeof v !== "object" || v === null) continue;
    if (depth >= MAX_DEPTH) throw badRequest(`the request body is nested deeper than ${MAX_DEPTH} levels`);
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, depth + 1]);
  }
}

/** JSON, or YAML for `application/yaml` and server-side apply (whose bodies may be either). */
export function decode(text: string, type: string): unknown {
  const yaml = type === "application/yaml" || type === PATCH_TYPES.apply;
  if (!text.trim()) throw badRequest("the request body is empty");
  let value: unknown;
  try {
    value = yaml ? runtime.parseYaml(text) : JSON.parse(text);
  } catch (e) {
    throw badRequest(`couldn't get version/kind; ${yaml ? "yaml" : "json"} parse error: ${(e as Error).message.slice(0, 200)}`);
  }
  checkShape(value);
  return value;
}

/** Read and decode an object body (create, update, reviews): JSON, YAML, or protobuf for the built-in kinds. */
export async function readObject(request: Request, limit: number): Promise<Record<string, unknown>> {
  const type = mediaType(request);
  if (type === PROTOBUF) return decodeProtobuf(await readBytes(request, limit));
  if (type && type !== "application/json" && type !== "application/yaml" && type !== "*/*") {
    throw unsupportedMediaType(["application/json", "application/yaml", PROTOBUF]);
  }
  const value = decode(await readBody(request, limit), type || "application/json");
  if (!isPlainObject(value)) throw badRequest("the request body must be a JSON object");
  return value;
}

/** An optional body (DeleteOptions): empty is fine, anything else must be a JSON object. */
export async function readOptionalObject(request: Request, limit: number): Promise<Record<string, unknown> | undefined> {
  if (mediaType(request) === PROTOBUF) {
    const bytes = await readBytes(request, limit);
    return bytes.length ? decodeProtobuf(bytes) : undefined;
  }
  const text = await readBody(request, limit);
  if (!text.trim()) return undefined;
  const value = decode(text, mediaType(request) === "application/yaml" ? "application/yaml" : "application/json");
  if (!isPlainObject(value)) throw badRequest("the request body must be a JSON object");
  return value;
}
