// Process health as Prometheus sees it: resident memory, CPU, open descriptors and event-loop lag. Read at scrape
// time, except the lag, which a light timer samples. Imported only where metrics are served (metrics-listener.ts),
// so these families exist, and the timer runs, only in a process that exports them.
import { readdirSync } from "node:fs";
import { CollectedFamily } from "./family.ts";

const one = (value: number) => [[{}, value] as const];

new CollectedFamily("gauge", "process_resident_memory_bytes", "Resident memory size in bytes.", [], () => one(process.memoryUsage.rss()));

new CollectedFamily("counter", "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", [], () => {
  const { user, system } = process.cpuUsage();
  return one((user + system) / 1e6);
});

new CollectedFamily("gauge", "process_open_fds", "Number of open file descriptors (from /proc/self/fd; absent where there is no /proc).", [], () => {
  try {
    // The directory listing itself holds one descriptor while it is read.
    return one(Math.max(0, readdirSync("/proc/self/fd").length - 1));
  } catch {
    return [];
  }
});

const startTime = Math.round((Date.now() - performance.now()) / 1000);
new CollectedFamily("gauge", "process_start_time_seconds", "Start time of the process since unix epoch in seconds.", [], () => one(startTime));

const LAG_SAMPLE_MS = 250;
let worstLagSeconds = 0;
let sampler: ReturnType<typeof setInterval> | undefined;

new CollectedFamily("gauge", "opendepot_event_loop_lag_seconds", "Largest delay of a 250 ms timer observed since the previous scrape: how long the event loop was busy.", [], () => {
  const worst = worstLagSeconds;
  worstLagSeconds = 0;
  return one(worst);
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
