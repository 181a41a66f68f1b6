// Metrics of the controllers and the upstream clients they drive. Controller names, results and services are
// fixed sets; upstream hosts and failure reasons come from outside and are bounded (BoundedValues).
import { HotGauge } from "./hot.ts";
import { BoundedValues, counter, histogram, SourcedGauge } from "./registry.ts";

const reconciles = counter("opendepot_reconciles_total", "Reconciles finished, by controller and result (success, error, deferred: waiting for an upstream rate limit, abandoned: cut short at shutdown).", ["controller", "result"]);
const reconcileDuration = histogram("opendepot_reconcile_duration_seconds", "Duration of reconciles, by controller.", ["controller"], [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300]);
const retries = counter("opendepot_workqueue_retries_total", "Keys requeued with backoff after a failed reconcile, by controller.", ["controller"]);
const rateLimitWait = counter("opendepot_rate_limit_wait_seconds_total", "Seconds of requeue delay imposed by upstream rate limits (reconciles deferred to the reset time), by controller.", ["controller"]);
/** Keys waiting in each controller's work queue. */
export const queueDepth = new SourcedGauge("opendepot_workqueue_depth", "Keys waiting in the work queue, by controller.", ["controller"]);
/** Keys being reconciled right now. */
export const queueInFlight = new SourcedGauge("opendepot_workqueue_in_flight", "Keys being reconciled right now, by controller.", ["controller"]);

const upstreamRequests = counter("opendepot_upstream_requests_total", "HTTP exchanges with upstreams (GitHub, the OpenTofu registry, their CDNs), by host and status code (`error`: no response).", ["host", "status"]);
const upstreamRateLimited = counter("opendepot_upstream_rate_limited_total", "Upstream answers that said we are rate limited, by service.", ["service"]);
const upstreamBytes = counter("opendepot_upstream_bytes_total", "Bytes streamed from upstreams (release archives, provider packages), by service.", ["service"]);
const storedBytes = counter("opendepot_artifact_bytes_stored_total", "Artifact bytes written to storage by the version controller, by kind.", ["kind"]);
const depotPolls = counter("opendepot_depot_polls_total", "Depot entries polled upstream, by kind (Module, Provider) and result (Discovered, or the failure reason).", ["kind", "result"]);
const scans = counter("opendepot_scans_total", "Vulnerability scans of artifacts, by result.", ["result"]);
/** Versions by type (Module, Provider) and sync state (synced, failed, pending). */
export const versionsBySyncState = new SourcedGauge("opendepot_versions", "Versions known to the controllers, by type and sync state (synced, failed, pending).", ["type", "state"]);
const leader = new HotGauge("opendepot_leader", "1 while this replica holds the lease of a controller group, else 0.", ["group"]);

const hosts = new BoundedValues(64);
const reasons = new BoundedValues(32);

export type ReconcileResultLabel = "success" | "error" | "deferred" | "abandoned";

export function recordReconcile(controller: string, result: ReconcileResultLabel, seconds: number): void {
  reconciles.series(controller, result).inc();
  reconcileDuration.series(controller).observe(seconds);
}

export function recordRetry(controller: string): void {
  retries.series(controller).inc();
}

export function recordRateLimitWait(controller: string, delayMs: number): void {
  rateLimitWait.series(controller).inc(Math.max(0, delayMs) / 1000);
}

/** One exchange with an upstream; `status` undefined when no response came back. */
export function recordUpstreamRequest(url: string, status: number | undefined): void {
  let host = "invalid";
  try {
    host = new URL(url).host;
  } catch {
    // A URL we could not even parse is still one request attempt.
  }
  upstreamRequests.series(hosts.of(host), status === undefined ? "error" : String(status)).inc();
}

export function recordUpstreamRateLimited(service: string): void {
  upstreamRateLimited.series(service).inc();
}

export function recordUpstreamBytes(service: string, n: number): void {
  upstreamBytes.series(service).inc(n);
}

export function recordStoredBytes(kind: "Module" | "Provider", n: number): void {
  if (n > 0) storedBytes.series(kind).inc(n);
}

export function recordDepotPoll(kind: string, result: string): void {
  depotPolls.series(kind === "Provider" ? "Provider" : "Module", reasons.of(result)).inc();
}

export function setLeader(group: string, leading: boolean): void {
  leader.series(group).set(leading ? 1 : 0);
}

/**
 * Hook for the scanner (being built separately): call once per finished scan with a small fixed result such as
 * `clean`, `vulnerable`, `failed` or `skipped`. Unknown values beyond a handful are folded into `other`.
 */
export function recordScanResult(result: string): void {
  scans.series(scanResults.of(result)).inc();
}
const scanResults = new BoundedValues(8);
