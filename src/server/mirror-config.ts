// The provider network mirror's flags → its config. Apart from routes-mirror.ts so that wiring a server does not
// import Elysia (which the routes need and the listener loads only at the first request the fast path leaves).
import type { MirrorConfig } from "./context.ts";
import { hostnameParam, namespaceParam } from "./params.ts";

export const DEFAULT_MIRROR_HOSTNAMES = ["registry.opentofu.org", "registry.terraform.io"];

/** `--mirror-namespace` / `--mirror-hostnames` → the mirror's config; undefined (mirror off) for namespace "off". */
export function mirrorConfig(namespace: string | undefined, hostnames: string | undefined): MirrorConfig | undefined {
  if (!namespace || namespace === "off") return undefined;
  namespaceParam(namespace);
  const list = (hostnames ?? DEFAULT_MIRROR_HOSTNAMES.join(",")).split(",").map((h) => h.trim().toLowerCase()).filter(Boolean);
  for (const h of list) hostnameParam(h);
  return { namespace, hostnames: new Set(list) };
}
