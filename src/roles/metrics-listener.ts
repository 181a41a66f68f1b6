// Where a role serves Prometheus metrics (`--metrics-listen`): on the listener it already has for operators (the
// admin API of standalone, the health listener of controller), on an address of its own (plain HTTP: /metrics,
// /healthz), or nowhere. Never on the public registry listener: metrics describe the deployment, not the content.
import { parseListen, UsageError, type FlagSpec } from "../cli/flags.ts";
import type { Logger } from "../log.ts";
import { runtime } from "../runtime/index.ts";

export type MetricsPlacement = { kind: "off" } | { kind: "shared" } | { kind: "own"; hostname: string; port: number };

/** The --metrics-listen flag of a role; `shared` names the role's operator listener (e.g. "admin", "health"). */
export function metricsListenFlag(defaultValue: string, shared: string | undefined, sharedDescription: string): FlagSpec {
  return {
    name: "metrics-listen",
    env: "OPENDEPOT_METRICS_LISTEN",
    default: defaultValue,
    description: `Prometheus /metrics: ${shared ? `"${shared}" (${sharedDescription}), ` : ""}a host:port of its own (plain HTTP), or "off"`,
    check: (value) => void metricsPlacement(value, shared),
  };
}

export function metricsPlacement(value: string | undefined, shared: string | undefined): MetricsPlacement {
  if (value === undefined || value === "" || value === "off") return { kind: "off" };
  if (shared !== undefined && value === shared) return { kind: "shared" };
  try {
    return { kind: "own", ...parseListen(value) };
  } catch {
    throw new UsageError(`invalid metrics address "${value.slice(0, 64)}": use host:port${shared ? `, "${shared}"` : ""} or "off"`);
  }
}

/**
 * The /metrics handler for a listener the role already runs. Called only by a role that serves metrics: it loads
 * prom-client (the exposition) and the process metrics and starts their samplers. What was recorded before counts:
 * the series live in the catalog (metrics/family.ts) from the start.
 */
export async function metricsHandler(): Promise<() => Promise<Response>> {
  const [{ metricsResponse }, { startProcessMetrics }] = await Promise.all([import("../metrics/exposition.ts"), import("../metrics/process.ts")]);
  startProcessMetrics();
  return metricsResponse;
}

/** A listener of its own: GET /metrics and /healthz, 404 for anything else. */
export async function listenMetrics(address: { hostname: string; port: number }, log: Logger) {
  const metrics = await metricsHandler();
  const server = runtime.serve({
    hostname: address.hostname,
    port: address.port,
    maxRequestBodySize: 1024,
    fetch: (request) => {
      const path = new URL(request.url).pathname;
      if (request.method !== "GET" && request.method !== "HEAD") return new Response("method not allowed\n", { status: 405, headers: { allow: "GET, HEAD" } });
      if (path === "/metrics") return metrics();
      if (path === "/healthz") return Response.json({ status: "ok" });
      return new Response("not found\n", { status: 404 });
    },
  });
  log.info("metrics listening", { url: `${server.url.toString()}metrics` });
  return server;
}
