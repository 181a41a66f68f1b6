// What the listener records per request for Prometheus: the route TEMPLATE the path matches (from the app's own
// route table, so new routes are picked up without edits here), never the raw path: every path that matches no
// route is counted under one label, so hostile paths cannot grow the number of series. Downloads are recognised
// by their route templates and answered status (proxied bytes vs a redirect to a pre-signed URL).
import { recordDownload, routeRecorder, type ArtifactKind, type Auth, type RouteRecorder } from "../metrics/server.ts";

/** The label of every path that matches no route. */
export const UNMATCHED_ROUTE = "(unmatched)";

type Segment = { kind: "static"; text: string } | { kind: "param" } | { kind: "rest" };
interface Compiled {
  template: string;
  segments: Segment[];
}

const compile = (template: string): Compiled => ({
  template,
  segments: template
    .split("/")
    .slice(1)
    .map((s): Segment => (s === "*" ? { kind: "rest" } : s.startsWith(":") ? { kind: "param" } : { kind: "static", text: s })),
});

// Static segments win over parameters, parameters over a wildcard, position by position (as the router decides).
const rank = (c: Compiled) => c.segments.map((s) => (s.kind === "static" ? "0" : s.kind === "param" ? "1" : "2")).join("");

/** Maps a request path to the template of the route that serves it. */
export class RouteTemplates {
  private readonly compiled: Compiled[];

  constructor(templates: Iterable<string>) {
    this.compiled = [...new Set(templates)].map(compile).sort((a, b) => (rank(a) < rank(b) ? -1 : rank(a) > rank(b) ? 1 : 0));
  }

  /** Recently matched paths: clients ask for the same few paths over and over. Bounded, so hostile paths only churn it. */
  private readonly recent = new Map<string, string>();

  match(path: string): string {
    const known = this.recent.get(path);
    if (known !== undefined) return known;
    const parts = path.split("/");
    let template = UNMATCHED_ROUTE;
    for (const c of this.compiled) {
      if (matches(c.segments, parts)) {
        template = c.template;
        break;
      }
    }
    if (path.length <= 256) {
      if (this.recent.size >= 2048) this.recent.clear();
      this.recent.set(path, template);
    }
    return template;
  }
}

function matches(segments: Segment[], parts: string[]): boolean {
  // parts[0] is the empty string before the leading slash.
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i]!;
    if (s.kind === "rest") return true;
    const part = parts[i + 1];
    if (part === undefined || part === "") return false;
    if (s.kind === "static" && s.text !== part) return false;
  }
  return parts.length === segments.length + 1;
}

/** The path of a request URL without parsing it (`new URL` costs more than the rest of this observer). */
export function pathOf(url: string): string {
  const authority = url.indexOf("//");
  const start = url.indexOf("/", authority < 0 ? 0 : authority + 2);
  if (start < 0) return "/";
  const query = url.indexOf("?", start);
  const hash = url.indexOf("#", start);
  const end = query < 0 ? (hash < 0 ? url.length : hash) : query;
  return url.slice(start, end);
}

function authOf(request: Request): Auth {
  const header = request.headers.get("authorization");
  if (!header) return "none";
  const scheme = header.slice(0, 7).toLowerCase();
  return scheme === "bearer " ? "bearer" : scheme.startsWith("basic ") ? "basic" : "other";
}

function artifactKind(template: string): ArtifactKind | undefined {
  if (template.startsWith("/opendepot/modules/") && template.endsWith("/archive/:fileName")) return "module";
  if (template.startsWith("/opendepot/providers/") && template.endsWith("/download/:os/:arch/:fileName")) return "provider";
  return undefined;
}

/** `path`, when the caller has it, is the request's path (no scheme, authority or query); else read from its URL. */
export type RequestObserver = (request: Request, response: Response, seconds: number, path?: string) => void;

/** The observer the listener calls once per answered request; `templates()` is read once, on first use. */
export function requestObserver(templates: () => Iterable<string>): RequestObserver {
  let routes: RouteTemplates | undefined;
  // Per path (clients ask for the same few over and over): its route's recorder and artifact kind, so a request
  // costs no key string and no series lookups. Bounded like the route memo; one recorder per template, shared.
  const byPath = new Map<string, { record: RouteRecorder; kind: ArtifactKind | undefined }>();
  const byRoute = new Map<string, { record: RouteRecorder; kind: ArtifactKind | undefined }>();
  return (request, response, seconds, knownPath) => {
    routes ??= new RouteTemplates(templates());
    const path = knownPath ?? pathOf(request.url);
    let entry = byPath.get(path);
    if (!entry) {
      const route = routes.match(path);
      entry = byRoute.get(route);
      if (!entry) byRoute.set(route, (entry = { record: routeRecorder(route), kind: artifactKind(route) }));
      if (path.length <= 256) {
        if (byPath.size >= 2048) byPath.clear();
        byPath.set(path, entry);
      }
    }
    entry.record(response.status, authOf(request), seconds);
    const kind = request.method === "GET" ? entry.kind : undefined;
    if (!kind) return;
    const status = response.status;
    if (status === 200 || status === 206) recordDownload(kind, "proxied", Number(response.headers.get("content-length") ?? 0) || 0);
    else if (status === 302 || status === 307) recordDownload(kind, "presigned", 0);
  };
}
