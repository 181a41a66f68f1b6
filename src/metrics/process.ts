// Process health as Prometheus sees it: resident memory, CPU, open descriptors and event-loop lag. Read at scrape
// time, except the lag, which a light timer samples (started only where metrics are served).
import { readdirSync } from "node:fs";
import { Counter, Gauge } from "prom-client";
import { registry } from "./registry.ts";

new Gauge({
  name: "process_resident_memory_bytes",
  help: "Resident memory size in bytes.",
  registers: [registry],
  collect() {
    this.set(process.memoryUsage.rss());
  },
});

new Counter({
  name: "process_cpu_seconds_total",
  help: "Total user and system CPU time spent in seconds.",
  registers: [registry],
  collect() {
    const { user, system } = process.cpuUsage();
    this.reset();
    this.inc((user + system) / 1e6);
  },
});

new Gauge({
  name: "process_open_fds",
  help: "Number of open file descriptors (from /proc/self/fd; absent where there is no /proc).",
  registers: [registry],
  collect() {
    try {
      // The directory listing itself holds one descriptor while it is read.
      this.set(Math.max(0, readdirSync("/proc/self/fd").length - 1));
    } catch {
      this.reset();
    }
  },
});

new Gauge({ name: "process_start_time_seconds", help: "Start time of the process since unix epoch in seconds.", registers: [registry] }).set(
  Math.round((Date.now() - performance.now()) / 1000),
);

const LAG_SAMPLE_MS = 250;
let worstLagSeconds = 0;
let sampler: ReturnType<typeof setInterval> | undefined;

new Gauge({
  name: "opendepot_event_loop_lag_seconds",
  help: "Largest delay of a 250 ms timer observed since the previous scrape: how long the event loop was busy.",
  registers: [registry],
  collect() {
    this.set(worstLagSeconds);
    worstLagSeconds = 0;
  },
});

/** Start sampling event-loop lag (idempotent; the timer does not keep the process alive). */
export function startProcessMetrics(): void {
  if (sampler) return;
  let expected = performance.now() + LAG_SAMPLE_MS;
  sampler = setInterval(() => {
    const now = performance.now();
    worstLagSeconds = Math.max(worstLagSeconds, Math.max(0, now - expected) / 1000);
    expected = now + LAG_SAMPLE_MS;
  }, LAG_SAMPLE_MS);
  (sampler as { unref?: () => void }).unref?.();
}
