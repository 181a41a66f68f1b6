// A small router in front of Elysia for the fixed protocol GETs Terraform and OpenTofu send over and over:
// discovery, module versions and download, provider versions and package metadata, and the signed downloads of
// module archives and provider zips. It takes only requests whose answer it can give exactly as the app would: a
// valid Host, a path with no percent-escapes, no dot or empty segments and no trailing slash, segments that pass the
// same validators the routes use, and no query — except the downloads, whose query must be exactly the one the
// registry mints (`expires=<digits>&signature=<base64url>`). Anything else (every invalid address, whose 400 the app
// words; any other query: reordered, repeated, extra or escaped parameters) returns undefined and goes the full way:
// request normalisation, the Explorer, Elysia. Both ways answer through the same code: protocol-answers.ts, and for
// downloads ArtifactUrls' signature check (artifact-urls.ts) and then ArtifactDelivery.respond.
import { isNamespaceName } from "../api/naming.ts";
import { isSemver } from "../api/version.ts";
import { archiveContentType, ArtifactUrls, type BuildAddress, type ModuleAddress } from "./artifact-urls.ts";
import type { ServerContext } from "./context.ts";
import { Refusal } from "./http.ts";
import { hostnameParam, isModuleSystem as system, isPlatformName as platform, isRegistryName as name } from "./params.ts";
import { mirrorAnswersFor, type MirrorAddress } from "./mirror-answers.ts";
import { answersFor, discoveryDocument, documentResponse, type Answer, type DiscoveryExtras } from "./protocol-answers.ts";
import { HOST } from "./request-line.ts";
import type { QueryParams } from "./url-signer.ts";

export type FastPath = (request: Request, path: string, requestId: string) => Answer | undefined;

type Route =
  | { kind: "discovery" }
  | { kind: "moduleVersions"; module: Omit<ModuleAddress, "version"> }
  | { kind: "moduleDownload"; module: ModuleAddress }
  | { kind: "providerVersions"; ns: string; type: string }
  | { kind: "providerMetadata"; build: BuildAddress }
  | { kind: "moduleArchive"; module: ModuleAddress; fileName: string }
  | { kind: "providerZip"; build: BuildAddress; fileName: string }
  | { kind: "mirror"; address: MirrorAddress };

/** Signed downloads: the only routes that take (and need) a query. */
const SIGNED_KINDS = new Set<Route["kind"]>(["moduleArchive", "providerZip"]);

// A leading `v` is accepted by the app (and stripped): rare, so left to it.
const version = (s: string) => s.charCodeAt(0) !== 118 /* v */ && isSemver(s);
// Artifact file names are `<uuid7>.zip` / `<uuid7>.tar.gz`; a conservative set of characters that no URL parser
// re-encodes and no decoder changes (anything else, even if it could be a file name, goes the full way).
const artifactFile = (s: string) => /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/.test(s);

/** The route of a path, or undefined when the fast path does not take it (see the header comment). */
export function fastRoute(path: string): Route | undefined {
  if (path === "/.well-known/terraform.json") return { kind: "discovery" };
  if (!path.startsWith("/opendepot/") || path.includes("/.") || path.includes("//") || path.includes("%") || path.endsWith("/")) return undefined;
  const s = path.split("/");
  if (s[2] === "mirror") return mirrorRoute(s);
  // s[0] is "" (before the leading slash), s[1] "opendepot"; the shortest route has 7 segments, the longest 11.
  if (s.length < 7 || s.length > 11 || s[3] !== "v1" || !isNamespaceName(s[4]!)) return undefined;
  if (s[2] === "modules") {
    if (!name(s[5]!) || !system(s[6]!)) return undefined;
    if (s.length === 8 && s[7] === "versions") return { kind: "moduleVersions", module: { ns: s[4]!, name: s[5]!, system: s[6]! } };
    if (s.length === 9 && s[8] === "download" && version(s[7]!)) return { kind: "moduleDownload", module: { ns: s[4]!, name: s[5]!, system: s[6]!, version: s[7]! } };
    if (s.length === 10 && s[8] === "archive" && version(s[7]!) && artifactFile(s[9]!)) {
      return { kind: "moduleArchive", module: { ns: s[4]!, name: s[5]!, system: s[6]!, version: s[7]! }, fileName: s[9]! };
    }
    return undefined;
  }
  if (s[2] === "providers") {
    if (!name(s[5]!)) return undefined;
    if (s.length === 7 && s[6] === "versions") return { kind: "providerVersions", ns: s[4]!, type: s[5]! };
    if (s.length === 10 && s[7] === "download" && version(s[6]!) && platform(s[8]!) && platform(s[9]!)) {
      return { kind: "providerMetadata", build: { ns: s[4]!, type: s[5]!, version: s[6]!, os: s[8]!, arch: s[9]! } };
    }
    if (s.length === 11 && s[7] === "download" && version(s[6]!) && platform(s[8]!) && platform(s[9]!) && artifactFile(s[10]!)) {
      return { kind: "providerZip", build: { ns: s[4]!, type: s[5]!, version: s[6]!, os: s[8]!, arch: s[9]! }, fileName: s[10]! };
    }
  }
  return undefined;
}

/** `/opendepot/mirror/v1/<hostname>/<namespace>/<type>/<index.json | version.json>` (segments as the route checks them). */
function mirrorRoute(s: string[]): Route | undefined {
  if (s.length !== 8 || s[3] !== "v1" || !isNamespaceName(s[5]!) || !name(s[6]!)) return undefined;
  const file = s[7]!;
  const v = file === "index.json" ? undefined : file.endsWith(".json") ? file.slice(0, -".json".length) : null;
  if (v === null || (v !== undefined && !version(v))) return undefined;
  try {
    hostnameParam(s[4]!);
  } catch {
    return undefined; // the route's 400 (routes are remembered per path, so a hostile one pays this once)
  }
  return { kind: "mirror", address: { hostname: s[4]!, upstreamNs: s[5]!, type: s[6]!, version: v } };
}

/**
 * The path of a request as the socket delivered it (`http://host/path`, without the query), when the fast path may
 * take it: a Host header the listener would accept, an authority of exactly that Host, and no fragment. Undefined
 * otherwise. A query is allowed here; the fast path itself refuses it on every route but the signed downloads.
 */
export function fastRequestPath(request: Request): string | undefined {
  const url = request.url;
  const host = request.headers.get("host");
  if (host === null || host.length > 261) return undefined;
  const scheme = url.startsWith("http://") ? 7 : url.startsWith("https://") ? 8 : -1;
  if (scheme < 0 || !url.startsWith(host, scheme) || url.charCodeAt(scheme + host.length) !== 47 /* / */) return undefined;
  if (url.includes("#", scheme)) return undefined;
  if (host !== lastHost) {
    if (!HOST.test(host)) return undefined;
    lastHost = host;
  }
  const query = url.indexOf("?", scheme);
  return url.slice(scheme + host.length, query < 0 ? undefined : query);
}
// Clients send the same Host on every request: checked once, then compared.
let lastHost = "";

// Exactly what ArtifactUrls mints (url-signer.ts `sign`): the expiry, then the signature, nothing else. Digits and
// base64url need no escaping, so these values are what URLSearchParams would hand the full way's signature check.
const SIGNED_QUERY = /^expires=(\d{1,12})&signature=([A-Za-z0-9_-]{1,128})$/;

/**
 * The query of a request whose path the fast path took, as parameters for the signature check, when it is exactly
 * the minted form; undefined (leave it to the full way) for any other, or none. The Host holds no `?` (HOST), so the
 * first one starts the query. With one of each parameter and nothing to decode, `get` answers as URLSearchParams
 * would, without building one per download.
 */
function signedQuery(request: Request): (() => QueryParams) | undefined {
  const url = request.url;
  const q = url.indexOf("?");
  if (q < 0) return undefined;
  const m = SIGNED_QUERY.exec(url.slice(q + 1));
  if (m === null) return undefined;
  const expires = m[1]!;
  const signature = m[2]!;
  const params: QueryParams = { get: (name) => (name === "expires" ? expires : name === "signature" ? signature : null) };
  return () => params;
}

/** The fast path over the app's own answers (shared memos); `discovery` as given to createApp. */
export function createFastPath(ctx: ServerContext, discovery: DiscoveryExtras = {}): FastPath {
  const answers = answersFor(ctx);
  const links = new ArtifactUrls(ctx);
  const mirror = mirrorAnswersFor(ctx);
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
    if (SIGNED_KINDS.has(route.kind)) return signedDownload(route, request);
    if (request.url.includes("?")) return undefined;
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
      case "mirror":
        return mirror?.answer(request, route.address);
    }
    return undefined;
  };

  /** A signed download: the archive route's and zip route's own check (a 403 Refusal), then their delivery. */
  function signedDownload(route: Route, request: Request): Answer | undefined {
    const query = signedQuery(request);
    if (query === undefined) return undefined;
    try {
      if (route.kind === "moduleArchive") {
        const v = links.verifiedArchiveAt(route.module, route.fileName, query);
        return ctx.delivery.respond(v, request, archiveContentType(v.spec.fileName!));
      }
      if (route.kind === "providerZip") return ctx.delivery.respond(links.verifiedBuildArtifactAt("zip", route.build, route.fileName, query), request, "application/zip");
    } catch (e) {
      // The app answers a route hook's Refusal with its response as it is (app.ts onError); so does the fast path.
      if (e instanceof Refusal) return e.response;
      throw e;
    }
    return undefined;
  }
}
