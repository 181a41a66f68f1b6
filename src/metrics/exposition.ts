// The Prometheus text exposition, written by prom-client's Registry from the plain families of the catalog
// (family.ts). Imported only where metrics are served: prom-client costs ~70 ms and ~18 MiB at startup under Bun,
// which a process with metrics off should not pay. prom-client stays the writer (escaping, value formatting, the
// content type): the families hand it samples in the shape its own metrics do.
import { Registry, type Metric } from "prom-client";
import { watchFamilies } from "./family.ts";

/** Everything this process exports. One per process: standalone records server and controllers side by side. */
export const registry = new Registry();

watchFamilies({
  added: (family) => registry.registerMetric(family as unknown as Metric),
  removed: (family) => registry.removeSingleMetric(family.name),
});

export async function metricsResponse(): Promise<Response> {
  return new Response(await registry.metrics(), { headers: { "content-type": registry.contentType, "cache-control": "no-store" } });
}
