// A small router in front of Elysia for the fixed protocol GETs Terraform and OpenTofu send over and over:
// discovery, module versions and download, provider versions and package metadata. It takes only requests whose
// answer it can give exactly as the app would: a valid Host, a path with no query, no percent-escapes, no dot or
// empty segments and no trailing slash, and segments that pass the same validators the routes use. Anything else
// (including every invalid address, whose 400 the app words) returns undefined and goes the full way: request
// normalisation, the Explorer, Elysia. Both ways answer through protocol-answers.ts.
import { isNamespaceName } from "../api/naming.ts";
import { isSemver } from "../api/version.ts";
import type { BuildAddress, ModuleAddress } from "./artifact-urls.ts";
import type { ServerContext } from "./context.ts";
import { isModuleSystem as system, isPlatformName as platform, isRegistryName as name } from "./params.ts";
import { answersFor, discoveryDocument, documentResponse, type Answer, type DiscoveryExtras } from "./protocol-answers.ts";
import { HOST } from "./request-line.ts";

export type FastPath = (request: Request, path: string, requestId: string) => Answer | undefined;

type Route =
  | { kind: "discovery" }
  | { kind: "moduleVersions"; module: Omit<ModuleAddress, "version"> }
  | { kind: "moduleDownload"; module: ModuleAddress }
  | { kind: "providerVersions"; ns: string; type: string }
  | { kind: "providerMetadata"; build: BuildAddress };

// A leading `v` is accepted by the app (and stripped): rare, so left to it.
const version = (s: string) => s.charCodeAt(0) !== 118 /* v */ && isSemver(s);

/** The route of a path, or undefined when the fast path does not take it (see the header comment). */
export function fastRoute(path: string): Route | undefined {
  if (path === "/.well-known/terraform.json") return { kind: "discovery" };
  if (!path.startsWith("/opendepot/") || path.includes("/.") || path.includes("//") || path.includes("%") || path.endsWith("/")) return undefined;
  const s = path.split("/");
  // s[0] is "" (before the leading slash), s[1] "opendepot"; the shortest route has 7 segments, the longest 10.
  if (s.length < 7 || s.length > 10 || s[3] !== "v1" || !isNamespaceName(s[4]!)) return undefined;
  if (s[2] === "modules") {
    if (!name(s[5]!) || !system(s[6]!)) return undefined;
    if (s.length === 8 && s[7] === "versions") return { kind: "moduleVersions", module: { ns: s[4]!, name: s[5]!, system: s[6]! } };
    if (s.length === 9 && s[8] === "download" && version(s[7]!)) return { kind: "moduleDownload", module: { ns: s[4]!, name: s[5]!, system: s[6]!, version: s[7]! } };
    return undefined;
  }
  if (s[2] === "providers") {
    if (!name(s[5]!)) return undefined;
    if (s.length === 7 && s[6] === "versions") return { kind: "providerVersions", ns: s[4]!, type: s[5]! };
    if (s.length === 10 && s[7] === "download" && version(s[6]!) && platform(s[8]!) && platform(s[9]!)) {
      return { kind: "providerMetadata", build: { ns: s[4]!, type: s[5]!, version: s[6]!, os: s[8]!, arch: s[9]! } };
    }
  }
  return undefined;
}

/**
 * The path of a request as the socket delivered it (`http://host/path`), when the fast path may take it: a Host
 * header the listener would accept, an authority of exactly that Host, and no query or fragment. Undefined otherwise.
 */
export function fastRequestPath(request: Request): string | undefined {
  const url = request.url;
  const host = request.headers.get("host");
  if (host === null || host.length > 261) return undefined;
  const scheme = url.startsWith("http://") ? 7 : url.startsWith("https://") ? 8 : -1;
  if (scheme < 0 || !url.startsWith(host, scheme) || url.charCodeAt(scheme + host.length) !== 47 /* / */) return undefined;
  if (url.includes("?", scheme) || url.includes("#", scheme)) return undefined;
  if (host !== lastHost) {
    if (!HOST.test(host)) return undefined;
    lastHost = host;
  }
  return url.slice(scheme + host.length);
}
// Clients send the same Host on every request: checked once, then compared.
let lastHost = "";

/** The fast path over the app's own answers (shared memos); `discovery` as given to createApp. */
export function createFastPath(ctx: ServerContext, discovery: DiscoveryExtras = {}): FastPath {
  const answers = answersFor(ctx);
  const discoveryDoc = discoveryDocument(discovery);
  // Paths seen lately and their routes: clients ask for the same few documents. Bounded, so hostile paths only churn it.
  const recent = new Map<string, Route | null>();
  return (request, path, requestId) => {
    let route = recent.get(path);
    if (route === undefined) {
      route = fastRoute(path) ?? null;
      if (path.length <= 256) {
        if (recent.size >= 4096) recent.clear();
        recent.set(path, route);
      }
    }
    if (route === null) return undefined;
    switch (route.kind) {
      case "discovery":
        return documentResponse(discoveryDoc, request, requestId);
      case "moduleVersions":
        return answers.moduleVersions(request, route.module, requestId);
      case "moduleDownload":
        return answers.moduleDownload(request, route.module, requestId);
      case "providerVersions":
        return answers.providerVersions(request, route.ns, route.type, requestId);
      case "providerMetadata":
        return answers.providerMetadata(request, route.build, requestId);
    }
  };
}
