// Request paths → what they address, following the API server's RequestInfo rules (including the legacy
// `/watch/` prefix and `/api/v1/namespaces/{name}[/status]` naming the Namespace object itself).
import { badRequest } from "./status.ts";

export type Target =
  | { type: "nonResource"; path: string }
  | {
      type: "resource";
      group: string;
      version: string;
      resource: string;
      namespace?: string;
      name?: string;
      subresource?: string;
      /** The legacy `/watch/` path prefix. */
      watchPath: boolean;
    };

const NAMESPACE_SUBRESOURCES = new Set(["status", "finalize"]);

function segments(pathname: string): string[] {
  const raw = pathname.split("/").filter((s) => s !== "");
  return raw.map((s) => {
    let d: string;
    try {
      d = decodeURIComponent(s);
    } catch {
      throw badRequest(`invalid path segment ${JSON.stringify(s.slice(0, 64))}`);
    }
    if (d === "." || d === ".." || d.includes("/") || d.includes("\u0000")) throw badRequest(`invalid path segment ${JSON.stringify(d.slice(0, 64))}`);
    return d;
  });
}

/** Parse a request path. Paths that are not under /api or /apis are non-resource paths. */
export function parsePath(pathname: string): Target | undefined {
  const parts = segments(pathname);
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === "api") {
    if (parts.length < 3) return { type: "nonResource", path: `/${parts.join("/")}` };
    group = "";
    version = parts[1]!;
    rest = parts.slice(2);
  } else if (parts[0] === "apis") {
    if (parts.length < 4) return { type: "nonResource", path: `/${parts.join("/")}` };
    group = parts[1]!;
    version = parts[2]!;
    rest = parts.slice(3);
  } else {
    return { type: "nonResource", path: `/${parts.join("/")}` };
  }
  let watchPath = false;
  if (rest[0] === "watch") {
    watchPath = true;
    rest = rest.slice(1);
  }
  let namespace: string | undefined;
  if (rest[0] === "namespaces" && rest.length > 1) {
    namespace = rest[1];
    if (rest.length > 2 && !NAMESPACE_SUBRESOURCES.has(rest[2]!)) rest = rest.slice(2);
    else namespace = undefined; // the Namespace object itself: /api/v1/namespaces/{name}[/status]
  }
  if (rest.length === 0 || rest.length > 3) return undefined;
  const [resource, name, subresource] = rest as [string, string | undefined, string | undefined];
  return { type: "resource", group, version, resource, namespace, name, subresource, watchPath };
}
