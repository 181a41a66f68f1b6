// Errors of the resource store, shaped after the Kubernetes API's status reasons so that the embedded and the
// kube backends (and the Kubernetes-compatible HTTP front) map onto each other one to one.
import type { FieldError } from "../api/validate.ts";
import { formatErrors } from "../api/validate-metadata.ts";

export type StoreErrorReason = "NotFound" | "AlreadyExists" | "Conflict" | "Invalid" | "Gone" | "Forbidden" | "Unavailable";

const HTTP_CODE: Record<StoreErrorReason, number> = {
  NotFound: 404,
  AlreadyExists: 409,
  Conflict: 409,
  Invalid: 422,
  Gone: 410,
  Forbidden: 403,
  Unavailable: 503,
};

export class StoreError extends Error {
  readonly code: number;
  constructor(
    readonly reason: StoreErrorReason,
    message: string,
    readonly causes: FieldError[] = [],
  ) {
    super(message);
    this.name = `StoreError(${reason})`;
    this.code = HTTP_CODE[reason];
  }
}

export const notFound = (kind: string, ns: string | undefined, name: string) =>
  new StoreError("NotFound", `${kind.toLowerCase()}s "${ns ? `${ns}/` : ""}${name}" not found`);
export const alreadyExists = (kind: string, ns: string | undefined, name: string) =>
  new StoreError("AlreadyExists", `${kind.toLowerCase()}s "${ns ? `${ns}/` : ""}${name}" already exists`);
export const conflict = (kind: string, name: string) =>
  new StoreError("Conflict", `Operation cannot be fulfilled on ${kind.toLowerCase()}s "${name}": the object has been modified; please apply your changes to the latest version and try again`);
export const invalid = (kind: string, name: string, causes: FieldError[]) =>
  new StoreError("Invalid", `${kind} "${name}" is invalid: ${formatErrors(causes)}`, causes);
export const gone = (rv: string) => new StoreError("Gone", `too old resource version: ${rv}`);

export const isNotFound = (e: unknown): e is StoreError => e instanceof StoreError && e.reason === "NotFound";
export const isConflict = (e: unknown): e is StoreError => e instanceof StoreError && e.reason === "Conflict";
export const isAlreadyExists = (e: unknown): e is StoreError => e instanceof StoreError && e.reason === "AlreadyExists";
