// One request against a resource, as the handlers see it, and the checks every write shares: the object's
// kind/apiVersion/name/namespace against the URL, query options (dryRun, fieldValidation), and admission
// (unknown fields pruned or refused, core-kind rules), the way the API server decodes and admits objects.
import type { KindDescriptor } from "../api/kinds.ts";
import type { KubeObject } from "../api/meta.ts";
import type { Logger } from "../log.ts";
import { isPlainObject } from "../store/patch.ts";
import type { ResourceStore } from "../store/types.ts";
import { checkWrite, prepareCreate } from "./core-kinds.ts";
import type { UserInfo } from "./identity.ts";
import type { NamespaceLifecycle } from "./namespaces.ts";
import type { Output } from "./negotiate.ts";
import { groupVersionOf, type ResourceInfo } from "./resources.ts";
import { pruneUnknown, schemaOf } from "./schema.ts";
import { badRequest, invalid } from "./status.ts";
import type { Attributes } from "./rbac.ts";

export interface ApiDeps {
  store: ResourceStore;
  log: Logger;
  maxBodyBytes: number;
  /** How often watches that allow bookmarks get one (the API server: about a minute). */
  bookmarkIntervalMs: number;
  namespaces: NamespaceLifecycle;
  /** Set when the OwnerReferencesPermissionEnforcement admission plugin is on: may the caller do this? */
  ownerReferencesAuthorize?: (call: Call, attrs: Attributes) => Promise<boolean>;
}

export interface Call {
  request: Request;
  query: URLSearchParams;
  r: ResourceInfo;
  d: KindDescriptor;
  /** The namespace from the path (namespaced kinds); absent for cluster-scoped kinds and all-namespace lists. */
  namespace?: string;
  name?: string;
  subresource?: "status";
  user: UserInfo;
  output: Output;
  deps: ApiDeps;
  /** Lift the listener's idle timeout for this request (long-running watches). */
  keepOpen?: () => void;
}

export type FieldValidation = "Strict" | "Warn" | "Ignore";

export function fieldValidation(query: URLSearchParams): FieldValidation {
  const v = query.get("fieldValidation");
  if (v === null || v === "") return "Warn";
  if (v === "Strict" || v === "Warn" || v === "Ignore") return v;
  throw badRequest(`fieldValidation: unsupported value ${JSON.stringify(v.slice(0, 32))}: must be Ignore, Warn or Strict`);
}

/**
 * The field manager of a write, as the API server derives it: the `fieldManager` parameter, else the User-Agent up
 * to its first `/` (kubectl sends `kubectl-client-side-apply`, `kubectl-edit`, ... itself).
 */
export function fieldManagerOf(call: Pick<Call, "query" | "request">): string | undefined {
  const explicit = call.query.get("fieldManager");
  if (explicit !== null) {
    if (!explicit || explicit.length > 128 || /[^\x20-\x7e]/.test(explicit)) throw badRequest("fieldManager must be 1 to 128 printable characters");
    return explicit;
  }
  const agent = call.request.headers.get("user-agent")?.split("/")[0]?.replace(/[^\x20-\x7e]/g, "").slice(0, 128);
  return agent || undefined;
}

export function isDryRun(query: URLSearchParams, options?: Record<string, unknown>): boolean {
  const values = [...query.getAll("dryRun"), ...(Array.isArray(options?.dryRun) ? (options.dryRun as unknown[]).map(String) : [])];
  for (const v of values) if (v !== "All") throw badRequest(`dryRun: unsupported value ${JSON.stringify(v.slice(0, 32))}: only All is supported`);
  return values.length > 0;
}

/** Fill in apiVersion/kind from the URL when absent (as the API server's decoder does); refuse a mismatch. */
export function checkTypeMeta(r: ResourceInfo, body: Record<string, unknown>, required = false): void {
  const gv = groupVersionOf(r);
  if (body.apiVersion === undefined && body.kind === undefined && !required) {
    body.apiVersion = gv;
    body.kind = r.kind;
  }
  if (body.kind !== r.kind || body.apiVersion !== gv) {
    const got = `${String(body.apiVersion ?? "").slice(0, 64)}, Kind=${String(body.kind ?? "").slice(0, 64)}`;
    throw badRequest(`the API version in the data (${got}) does not match the expected API version (${gv}, Kind=${r.kind})`);
  }
  if (body.metadata === undefined || body.metadata === null) body.metadata = {};
  if (!isPlainObject(body.metadata)) throw badRequest("metadata must be an object");
}

/** The body's name and namespace against the URL's. */
export function checkIdentity(call: Call, obj: KubeObject): void {
  const meta = obj.metadata;
  if (call.name !== undefined) {
    if (meta.name !== undefined && meta.name !== "" && meta.name !== call.name) {
      throw badRequest(`the name of the object (${String(meta.name).slice(0, 253)}) does not match the name on the URL (${call.name})`);
    }
    meta.name = call.name;
  }
  if (call.r.namespaced) {
    if (meta.namespace !== undefined && meta.namespace !== "" && meta.namespace !== call.namespace) {
      throw badRequest("the namespace of the provided object does not match the namespace sent on the request");
    }
    meta.namespace = call.namespace;
  } else delete meta.namespace;
}

/**
 * Decode-time and admission checks on an object about to be written: unknown fields (refused under Strict,
 * dropped with a warning under Warn, dropped silently under Ignore), type errors of the core kinds, and the
 * core kinds' write rules. `stored` is absent on create. Returns the warnings for the response.
 */
export function admit(call: Call, obj: KubeObject, stored: KubeObject | undefined): string[] {
  const warnings = decodeChecks(call, obj);
  const name = String(obj.metadata?.name ?? call.name ?? "");
  if (!isPlainObject(obj.metadata)) obj.metadata = { name };
  if (!stored) prepareCreate(call.r, obj);
  const errors = checkWrite(call.r, obj, stored);
  if (errors.length) throw invalid(call.r, name, errors);
  return warnings;
}

/** The decode step alone: unknown fields per fieldValidation, `null` members dropped, core-kind type errors. */
export function decodeChecks(call: Call, obj: KubeObject): string[] {
  const schema = schemaOf(call.r);
  const warnings: string[] = [];
  const name = String(obj.metadata?.name ?? call.name ?? "");
  if (schema) {
    const report = pruneUnknown(schema, obj, !call.d.spec);
    if (report.unknown.length) {
      const mode = fieldValidation(call.query);
      const list = report.unknown.slice(0, 20).map((f) => `unknown field "${f}"`);
      if (mode === "Strict") throw badRequest(`${call.r.kind} in version "${call.r.version}" cannot be handled as a ${call.r.kind}: strict decoding error: ${list.join(", ")}`);
      if (mode === "Warn") warnings.push(...list);
    }
    if (report.typeErrors.length) throw invalid(call.r, name, report.typeErrors);
  }
  return warnings;
}
