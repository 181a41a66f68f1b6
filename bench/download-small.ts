// Small downloads, the ones `tofu init` makes by the dozen: many keep-alive GETs of one small artifact (wrk), the
// registry's signed archive URL (exactly as the download redirect hands it out) next to nginx sendfile serving the
// same inode. Per size: req/s, the server's CPU µs per request (utime+stime from /proc over the run ÷ requests, the
// steadier figure on a shared machine), its peak RSS while the run lasts, and errors on both sides (wrk's non-2xx
// count). Bodies are checked byte-identical (one GET from each server against the stored bytes) before any run.
// Several registry checkouts (`--registry-root a,b`) run side by side over the same data, each interleaved with
// nginx and with each other (ABBA-style order reversed every other round), for a before/after comparison.
import { loadavg } from "node:os";
import { median, rssMiB, summarize, table, wrkWithCpu, type RatioRow } from "./support.ts";

export interface SmallTarget {
  /** `registry <root>` or `nginx`. */
  name: string;
  pid: number;
  /** URL per artifact size (bytes). */
  urls: Map<number, string>;
}

export interface SmallOptions {
  sizes: number[];
  seconds: number;
  rounds: number;
  connections: number;
  /** The stored bytes per size, to check every server's body against. */
  expected: Map<number, Uint8Array>;
}

interface Run {
  requestsPerSec: number;
  cpuUsPerRequest: number;
  errors: number;
  peakRssMiB: number;
}

async function measured(url: string, pid: number, o: SmallOptions): Promise<Run> {
  let peak = await rssMiB(pid);
  const sampler = setInterval(async () => (peak = Math.max(peak, await rssMiB(pid).catch(() => peak))), 100);
  const r = await wrkWithCpu(url, pid, { seconds: o.seconds, connections: o.connections });
  clearInterval(sampler);
  return { requestsPerSec: r.requestsPerSec, cpuUsPerRequest: r.cpuUsPerRequest, errors: r.errors, peakRssMiB: peak };
}

/** Every server's body for every size, byte for byte the stored one. */
async function checkBodies(targets: SmallTarget[], o: SmallOptions): Promise<void> {
  for (const size of o.sizes) {
    for (const t of targets) {
      const res = await fetch(t.urls.get(size)!);
      const got = new Uint8Array(await res.arrayBuffer());
      if (res.status !== 200 || !Buffer.from(got).equals(Buffer.from(o.expected.get(size)!))) {
        throw new Error(`${t.name} serves the ${size}-byte artifact wrongly (status ${res.status}, ${got.length} bytes)`);
      }
    }
  }
}

const label = (size: number) => (size >= 1024 * 1024 ? `${size / (1024 * 1024)} MiB` : `${size / 1024} KiB`);

/** Runs the small-download rounds and prints (and summarizes) one row per server and size. */
export async function benchSmallDownloads(targets: SmallTarget[], o: SmallOptions): Promise<void> {
  await checkBodies(targets, o);
  const nginx = targets.find((t) => t.name === "nginx")!;
  const runs = new Map<string, Run[]>();
  const key = (t: SmallTarget, size: number) => `${t.name}|${size}`;
  // Warm-up: one short discarded run per server and size (JIT, page cache, the first download's hash).
  for (const size of o.sizes) for (const t of targets) await measured(t.urls.get(size)!, t.pid, { ...o, seconds: 1 });
  const loadBefore = loadavg();
  for (let round = 0; round < o.rounds; round++) {
    for (const size of o.sizes) {
      const order = round % 2 === 0 ? targets : [...targets].reverse();
      for (const t of [...order, ...[...order].reverse()]) {
        const k = key(t, size);
        runs.set(k, [...(runs.get(k) ?? []), await measured(t.urls.get(size)!, t.pid, o)]);
      }
    }
    console.error(`bench: small downloads round ${round + 1}/${o.rounds} done`);
  }
  const loadAfter = loadavg();
  const rows: Record<string, string>[] = [];
  const summary: RatioRow[] = [];
  for (const size of o.sizes) {
    const ref = runs.get(key(nginx, size))!;
    const refRps = median(ref.map((r) => r.requestsPerSec));
    const refCpu = median(ref.map((r) => r.cpuUsPerRequest));
    for (const t of targets) {
      const mine = runs.get(key(t, size))!;
      const rps = median(mine.map((r) => r.requestsPerSec));
      const cpu = median(mine.map((r) => r.cpuUsPerRequest));
      rows.push({
        download: `${label(size)} × keep-alive (wrk -c${o.connections})`,
        server: t.name,
        "req/s (median)": rps.toFixed(0),
        "req/s per run": mine.map((r) => r.requestsPerSec.toFixed(0)).join(" "),
        "vs nginx": (rps / refRps).toFixed(2),
        "CPU µs/req (median)": cpu.toFixed(1),
        "CPU µs/req per run": mine.map((r) => r.cpuUsPerRequest.toFixed(1)).join(" "),
        "CPU vs nginx": (cpu / refCpu).toFixed(2),
        errors: String(mine.reduce((s, r) => s + r.errors, 0)),
        "peak RSS MiB": Math.max(...mine.map((r) => r.peakRssMiB)).toFixed(1),
      });
      if (t === nginx) continue;
      summary.push({ measure: `download ${label(size)} × keep-alive req/s vs nginx (${t.name})`, ours: rps.toFixed(0), reference: refRps.toFixed(0), ratio: (rps / refRps).toFixed(2) });
      summary.push({ measure: `download ${label(size)} × keep-alive: server CPU µs/req vs nginx (${t.name}, lower is better)`, ours: cpu.toFixed(1), reference: refCpu.toFixed(1), ratio: (cpu / refCpu).toFixed(2) });
    }
  }
  console.log(table(rows));
  console.log(`\nsmall downloads: load average (1/5/15 min) ${loadBefore.map((x) => x.toFixed(2)).join(" ")} before, ${loadAfter.map((x) => x.toFixed(2)).join(" ")} after`);
  await summarize("download", summary);
}
