// Kubernetes `Status` objects: how every failure (and an immediate delete) looks on the wire, with the messages,
// reasons and details the real API server uses, so that kubectl and client libraries print and classify them alike.
import type { FieldError } from "../api/validate.ts";
import { StoreError } from "../store/errors.ts";
import type { ResourceInfo } from "./resources.ts";

export type StatusReason =
  | "NotFound"
  | "AlreadyExists"
  | "Conflict"
  | "Invalid"
  | "Gone"
  | "Expired"
  | "Forbidden"
  | "Unauthorized"
  | "MethodNotAllowed"
  | "UnsupportedMediaType"
  | "NotAcceptable"
  | "BadRequest"
  | "RequestEntityTooLarge"
  | "TooManyRequests"
  | "ServiceUnavailable"
  | "InternalError";

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

/** An error that becomes a `Status` response. */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: StatusReason,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
    this.name = `ApiError(${code} ${reason})`;
  }
}

export function statusOf(e: ApiError): Record<string, unknown> {
  return {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message: e.message,
    reason: e.reason,
    ...(e.details ? { details: e.details } : {}),
    code: e.code,
  };
}

export function successStatus(details: StatusDetails): Record<string, unknown> {
  return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", details };
}

const JSON_TYPE = "application/json";

export function jsonResponse(body: unknown, code = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status: code, headers: { "content-type": JSON_TYPE, ...headers } });
}

export function statusResponse(e: ApiError, headers: Record<string, string> = {}): Response {
  if (e.details?.retryAfterSeconds) headers = { "retry-after": String(e.details.retryAfterSeconds), ...headers };
  return jsonResponse(statusOf(e), e.code, e.code === 401 ? { "www-authenticate": 'Bearer realm="opendepot"', ...headers } : headers);
}

// ---- Constructors with the API server's wording ----

/** `modules.opendepot.defdev.io`, or `configmaps` for the core group. */
export const qualified = (r: Pick<ResourceInfo, "resource" | "group">) => (r.group ? `${r.resource}.${r.group}` : r.resource);
const details = (r: ResourceInfo, name?: string): StatusDetails => ({ ...(name ? { name } : {}), group: r.group, kind: r.resource });

export const badRequest = (message: string) => new ApiError(400, "BadRequest", message);
export const pathNotFound = () => new ApiError(404, "NotFound", "the server could not find the requested resource", {});
export const methodNotAllowed = () => new ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource", {});
export const unauthorized = () => new ApiError(401, "Unauthorized", "Unauthorized");
export const notFound = (r: ResourceInfo, name: string) => new ApiError(404, "NotFound", `${qualified(r)} "${name}" not found`, details(r, name));
export const alreadyExists = (r: ResourceInfo, name: string) => new ApiError(409, "AlreadyExists", `${qualified(r)} "${name}" already exists`, details(r, name));
export const conflict = (r: ResourceInfo, name: string, why = "the object has been modified; please apply your changes to the latest version and try again") =>
  new ApiError(409, "Conflict", `Operation cannot be fulfilled on ${qualified(r)} "${name}": ${why}`, details(r, name));
export const expired = (message: string) => new ApiError(410, "Expired", message);
export const unsupportedMediaType = (accepted: string[]) =>
  new ApiError(415, "UnsupportedMediaType", `the body of the request was in an unknown format - accepted media types include: ${accepted.join(", ")}`);
export const tooLarge = (limit: number) => new ApiError(413, "RequestEntityTooLarge", `Request entity too large: limit is ${limit}`);
export const forbidden = (r: ResourceInfo | undefined, name: string | undefined, why: string) =>
  new ApiError(403, "Forbidden", r ? `${qualified(r)}${name ? ` "${name}"` : ""} is forbidden: ${why}` : `forbidden: ${why}`, r ? details(r, name) : {});

/** A cause for each field error; "is required" becomes the API server's FieldValueRequired. */
function causeOf(e: FieldError): StatusCause {
  if (e.message === "is required") return { reason: "FieldValueRequired", message: "Required value", field: e.field };
  return { reason: "FieldValueInvalid", message: `Invalid value: ${e.message}`, field: e.field };
}

/** 422 `Module.opendepot.defdev.io "x" is invalid: spec.a: Invalid value: ...` with one cause per field. */
export function invalid(r: ResourceInfo, name: string, errors: FieldError[], fallback = "invalid object"): ApiError {
  const causes = errors.map(causeOf);
  const parts = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : String(c.message)));
  const text = parts.length === 0 ? fallback : parts.length === 1 ? parts[0] : `[${parts.join(", ")}]`;
  const kind = r.group ? `${r.kind}.${r.group}` : r.kind;
  return new ApiError(422, "Invalid", `${kind} "${name}" is invalid: ${text}`, { name, group: r.group, kind: r.kind, causes });
}

/** Translate a store failure into the Status the API server would send for the same condition. */
export function fromStoreError(e: unknown, r: ResourceInfo, name: string): unknown {
  if (!(e instanceof StoreError)) return e;
  switch (e.reason) {
    case "NotFound": {
      // The store refuses content of a namespace that does not exist; the API server names the namespace then.
      const missingNamespace = /^namespaces "([^"/]+)" not found$/.exec(e.message);
      if (missingNamespace && r.resource !== "namespaces") return new ApiError(404, "NotFound", e.message, { name: missingNamespace[1]!, kind: "namespaces" });
      return notFound(r, name);
    }
    case "AlreadyExists":
      return alreadyExists(r, name);
    case "Conflict":
      return conflict(r, name);
    case "Invalid":
      return e.causes.length ? invalid(r, name, e.causes) : new ApiError(422, "Invalid", e.message, { name, group: r.group, kind: r.kind });
    case "Gone":
      return expired(e.message);
    case "Forbidden":
      return forbidden(r, name, e.message);
    case "Unavailable":
      return new ApiError(503, "ServiceUnavailable", e.message);
  }
}

/** Any thrown value → a Response; unexpected errors become a 500 without internals. */
export function errorResponse(e: unknown, onUnexpected?: (e: unknown) => void): Response {
  if (e instanceof ApiError) return statusResponse(e);
  if (e instanceof StoreError) {
    const code = e.code;
    const reason: StatusReason = e.reason === "Unavailable" ? "ServiceUnavailable" : e.reason === "Gone" ? "Expired" : e.reason;
    return statusResponse(new ApiError(code, reason, e.message, e.causes.length ? { causes: e.causes.map(causeOf) } : undefined));
  }
  onUnexpected?.(e);
  return statusResponse(new ApiError(500, "InternalError", "an error on the server has prevented the request from succeeding"));
}
