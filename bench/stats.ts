// Benchmark: download statistics in Valkey at the browse bench's scale — recording throughput (buffered, one
// MULTI per batch) and the cost of one read-back of 1,000 resources × 20 versions plus 90 day hashes, which every
// replica does every 5 s.   bun bench/stats.ts [--modules 1000] [--versions 20] [--events 200000]
// Requires valkey-server (.ci/install/valkey.sh). Stops by itself.
import { createLogger } from "../src/log.ts";
import { valkeyStats } from "../src/stats/valkey.ts";
import { startValkey } from "../test/peers/valkey.ts";
import { waitFor } from "../test/support/ports.ts";
import { table, numberArg as arg } from "./support.ts";

const MODULES = arg("modules", 1000);
const VERSIONS = arg("versions", 20);
const EVENTS = arg("events", 200_000);

const valkey = await startValkey();
try {
  const stats = valkeyStats({ url: valkey.url, log: createLogger({ level: "error" }), refreshIntervalMs: 0, maxBufferedEvents: EVENTS });
  const targets = Array.from({ length: MODULES }, (_, m) => ({ namespace: "bench", kind: "module" as const, name: `module-${m}`, versions: Array.from({ length: VERSIONS }, (_, v) => ({ version: `1.${v}.0` })) }));
  stats.setTargets(() => targets);
  await waitFor(() => (stats as unknown as { backend: { ready: boolean } }).backend.ready, 10_000, "valkey");

  const t0 = performance.now();
  for (let i = 0; i < EVENTS; i++) stats.record({ namespace: "bench", kind: "module", name: `module-${i % MODULES}`, version: `1.${i % VERSIONS}.0`, at: Date.now() });
  const recordMs = performance.now() - t0;
  await stats.flush();
  const flushMs = performance.now() - t0 - recordMs;

  const loads: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    await stats.refresh();
    loads.push(performance.now() - t);
  }
  const total = stats.snapshot().resource("bench", "module", "module-0")?.count;
  console.log(
    table([
      { measure: `record() × ${EVENTS}`, value: `${recordMs.toFixed(1)} ms (${((recordMs * 1e6) / EVENTS).toFixed(0)} ns each)` },
      { measure: "flush of that buffer (one MULTI)", value: `${flushMs.toFixed(1)} ms` },
      { measure: `read-back of ${MODULES}×${VERSIONS} versions + 90 days`, value: `first ${loads[0]!.toFixed(1)} ms (all versions), then ${loads.slice(1).map((l) => l.toFixed(1)).join(" / ")} ms (totals only: nothing changed)` },
      { measure: "check: module-0 count", value: String(total) },
    ]),
  );
  await stats.close();
} finally {
  await valkey.stop();
}
