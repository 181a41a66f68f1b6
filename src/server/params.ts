// Validation of every path segment a client sends. Anything that does not look exactly like a name we could have
// issued is rejected with a 400 before it reaches a lookup: no decoding tricks, no traversal, bounded lengths.
import { isNamespaceName, isObjectName } from "../api/naming.ts";
import { isSemver } from "../api/version.ts";


export class BadRequest extends Error {}

const PLATFORM = /^[a-z0-9][a-z0-9_]{0,31}$/;
const SYSTEM = /^[a-z0-9][a-z0-9_-]{0,63}$/;

// The checks without the exceptions, for the fast path (which leaves anything invalid to the routes' 400s).
export const isRegistryName = (value: string) => isObjectName(value) && !value.includes(".");
export const isModuleSystem = (value: string) => SYSTEM.test(value);
export const isPlatformName = (value: string) => PLATFORM.test(value);

export function namespaceParam(value: string): string {
  if (!isNamespaceName(value)) throw new BadRequest(`invalid namespace "${printable(value)}"`);
  return value;
}

export function nameParam(value: string, what = "name"): string {
  // Registry names are object names without dots (Version names are derived from them and must not contain '.').
  if (!isRegistryName(value)) throw new BadRequest(`invalid ${what} "${printable(value)}"`);
  return value;
}

export function systemParam(value: string): string {
  if (!isModuleSystem(value)) throw new BadRequest(`invalid module system "${printable(value)}"`);
  return value;
}

export function versionParam(value: string): string {
  if (!isSemver(value)) throw new BadRequest(`invalid version "${printable(value)}": expected semantic version like 1.2.3`);
  return value.replace(/^v/, "");
}

export function platformParam(value: string, what: "os" | "arch"): string {
  if (!isPlatformName(value)) throw new BadRequest(`invalid ${what} "${printable(value)}"`);
  return value;
}

// A provider source hostname as Terraform normalises it: lowercase DNS name, optional port.
const HOSTNAME = /^(?=.{1,253}(:|$))[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*(?::[1-9]\d{0,4})?$/;

export function hostnameParam(value: string): string {
  if (value.length > 259 || !HOSTNAME.test(value)) throw new BadRequest(`invalid hostname "${printable(value)}"`);
  return value;
}

/** Echo user input in an error message without letting it inject anything or grow the response. */
function printable(value: string): string {
  return value.slice(0, 64).replace(/[^\x20-\x7e]/g, "?");
}
