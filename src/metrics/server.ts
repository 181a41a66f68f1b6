// Metrics of the registry server. Labels are fixed sets or route templates, never raw paths or client input, so
// hostile traffic cannot grow the number of series. The per-request series handles are cached, so recording a
// request costs a map lookup and a few additions (hot.ts).
import { HotCounter, HotHistogram, type CounterSeries, type HistogramSeries } from "./hot.ts";
import { counter, SourcedGauge, statusClass } from "./registry.ts";

const requests = new HotCounter("opendepot_http_requests_total", "Registry HTTP requests by route template, status class and credentials presented.", ["route", "status_class", "auth"]);
const duration = new HotHistogram("opendepot_http_request_duration_seconds", "Time to build the response (headers ready; streamed bodies continue after), by route template.", ["route"], [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
]);
const downloads = counter("opendepot_artifact_downloads_total", "Artifact downloads answered, by kind (module, provider) and delivery (proxied: bytes from this process; presigned: redirect to storage).", ["kind", "delivery"]);
const bytes = counter("opendepot_artifact_bytes_total", "Artifact bytes this process answered with (Content-Length of proxied downloads), by kind.", ["kind"]);
const urlRefusals = counter("opendepot_signed_url_refusals_total", "Download URLs refused, by reason (unsigned, malformed, invalid, expired).", ["reason"]);
const authFailures = counter("opendepot_auth_failures_total", "Protocol requests refused by authentication or authorisation, by reason.", ["status", "reason"]);
/** Objects in the server's read model, by kind (modules, providers, versions). */
export const indexObjects = new SourcedGauge("opendepot_index_objects", "Objects held in the registry server's watch-fed index, by kind.", ["kind"]);

export type Auth = "none" | "bearer" | "basic" | "other";
const requestSeries = new Map<string, CounterSeries>();
const durationSeries = new Map<string, HistogramSeries>();

const AUTH_INDEX: Record<Auth, number> = { none: 0, bearer: 1, basic: 2, other: 3 };

/** Records requests of one route template: its histogram and its counters by status and credentials, looked up once. */
export type RouteRecorder = (status: number, auth: Auth, seconds: number) => void;

/** A recorder for `route` (a template or the catch-all label, never the raw path); the same series recordRequest uses. */
export function routeRecorder(route: string): RouteRecorder {
  let h = durationSeries.get(route);
  if (!h) durationSeries.set(route, (h = duration.series(route)));
  const histogram = h;
  const counters = new Map<number, CounterSeries>(); // status × auth: at most a few dozen per route
  return (status, auth, seconds) => {
    const key = status * 4 + AUTH_INDEX[auth];
    let c = counters.get(key);
    if (!c) counters.set(key, (c = requests.series(route, statusClass(status), auth)));
    c.inc();
    histogram.observe(seconds);
  };
}

/** One request answered. `route` must be a template (or the catch-all label), never the raw path. */
export function recordRequest(route: string, status: number, auth: Auth, seconds: number): void {
  const key = `${route} ${status} ${auth}`;
  let series = requestSeries.get(key);
  if (!series) requestSeries.set(key, (series = requests.series(route, statusClass(status), auth)));
  series.inc();
  let h = durationSeries.get(route);
  if (!h) durationSeries.set(route, (h = duration.series(route)));
  h.observe(seconds);
}

export type ArtifactKind = "module" | "provider";

export function recordDownload(kind: ArtifactKind, delivery: "proxied" | "presigned", contentLength: number): void {
  downloads.series(kind, delivery).inc();
  if (contentLength > 0) bytes.series(kind).inc(contentLength);
}

export type UrlRefusal = "unsigned" | "malformed" | "invalid" | "expired";
export function recordSignedUrlRefusal(reason: UrlRefusal): void {
  urlRefusals.series(reason).inc();
}

/** Reason labels of refusals; free-text reasons are mapped onto these so that names in messages never become labels. */
const AUTH_REASONS: [RegExp, string][] = [
  [/missing Authorization/i, "missing_token"],
  [/not a Bearer|expected a bearer/i, "not_bearer"],
  [/malformed/i, "malformed_token"],
  [/expired/i, "expired_token"],
  [/no GroupBinding matches/i, "no_binding"],
  [/does not grant/i, "not_granted"],
  [/could not be evaluated/i, "evaluation_failed"],
  [/groups/i, "groups"],
  [/RBAC|not allow/i, "rbac_denied"],
  [/kubeconfig|server/i, "kubeconfig"],
];

export function recordAuthFailure(status: 401 | 403, reason: string): void {
  let label = status === 401 ? "token_rejected" : "forbidden";
  for (const [pattern, name] of AUTH_REASONS) {
    if (pattern.test(reason)) {
      label = name;
      break;
    }
  }
  authFailures.series(String(status), label).inc();
}

/** Entries of the native route table (--static-routes), by kind; its answers are in no other server metric. */
export const staticRouteEntries = new SourcedGauge("opendepot_static_route_entries", "Entries of the native route table (--static-routes), by kind. Requests it answers are not in opendepot_http_requests_total nor the access log.", ["kind"]);
const staticRouteRebuilds = counter("opendepot_static_route_rebuilds_total", "Rebuilds of the native route table (--static-routes), by cause (start, change: index change or promotion, clock: expiry window or yank deadline, keys: signing keys reloaded).", ["reason"]);
export type StaticRouteRebuild = "start" | "change" | "clock" | "keys";
export function recordStaticRouteRebuild(reason: StaticRouteRebuild): void {
  staticRouteRebuilds.series(reason).inc();
}
