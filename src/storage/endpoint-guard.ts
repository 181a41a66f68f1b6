// The second line of defence of the storage policy, at the HTTP layer of the storage clients: every request that
// would carry credentials (SigV4, a bearer token, a Shared Key signature) is checked against the endpoints its
// client may reach *before* any credential is loaded. The factory installs a guard built from the operator's
// storage policy; a client built without one may reach only the endpoint it was configured with, so a future code
// path (a redirect, a session URI, a new call) can never take the platform's credentials somewhere else.
import { StorageError } from "./types.ts";

/** undefined = allowed; otherwise why not. */
export type EndpointGuard = (url: URL) => string | undefined;

export interface GuardedClientOptions {
  /** Which request URLs may receive this client's credentials (default: the configured endpoint's origin only). */
  endpointGuard?: EndpointGuard;
}

/** Thrown when a storage config (or a request) falls outside the operator's storage policy. */
export class StorageNotAllowedError extends StorageError {
  constructor(
    /** The offending field, relative to the resource (e.g. `spec.moduleConfig.storageConfig.gcs.endpoint`). */
    readonly field: string,
    readonly detail: string,
  ) {
    super("NotAllowed", `${field}: ${detail}`);
  }

  /** The same refusal, with the field named from the resource's root. */
  under(prefix: string): StorageNotAllowedError {
    return new StorageNotAllowedError(`${prefix}.${this.field}`, this.detail);
  }
}

/** The default guard: exactly the configured origin. */
export function sameOriginGuard(base: URL): EndpointGuard {
  return (url) => (url.origin === base.origin ? undefined : `${url.origin} is not the configured endpoint ${base.origin}`);
}

/** Throws (before any credential is touched) when `url` may not receive this client's credentials. */
export function assertEndpointAllowed(guard: EndpointGuard, url: URL | string, what: string): void {
  let u: URL;
  try {
    u = typeof url === "string" ? new URL(url) : url;
  } catch {
    throw new StorageNotAllowedError("endpoint", `${what}: refusing a request to an unparsable URL`);
  }
  const refusal = guard(u);
  if (refusal !== undefined) throw new StorageNotAllowedError("endpoint", `${what}: refusing to send credentials to ${u.origin}: ${refusal}`);
}

/**
 * Storage requests never follow redirects: a 3xx answer is an error to report, not a new destination for a signed
 * request (fetch would replay the Authorization header to the Location it was given).
 */
export const NO_REDIRECTS: RequestInit = { redirect: "manual" };
