// Refusals in the registry protocol's error shape. 401 carries an RFC 6750 challenge so clients know a bearer
// token is wanted (and, for a bad one, why it was refused); 403 means "authenticated, but not allowed".
import { recordAuthFailure } from "../../metrics/server.ts";
import { errorResponse } from "../http.ts";

export const REALM = "opendepot";

/** Only characters RFC 6750 allows inside error_description (%x20-21 / %x23-5B / %x5D-7E). */
const safe = (text: string) => text.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, "").slice(0, 200);

export function unauthorized(reason: string, tokenPresented: boolean): Response {
  recordAuthFailure(401, reason);
  const challenge = tokenPresented ? `Bearer realm="${REALM}", error="invalid_token", error_description="${safe(reason)}"` : `Bearer realm="${REALM}"`;
  return errorResponse(401, `unauthorized: ${reason}`, { "www-authenticate": challenge });
}

export function forbidden(reason: string): Response {
  recordAuthFailure(403, reason);
  return errorResponse(403, `forbidden: ${reason}`);
}

export function unavailable(reason: string): Response {
  return errorResponse(503, reason, { "retry-after": "5" });
}
