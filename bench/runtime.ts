// Benchmark: what the runtime adapter (src/runtime/) costs on Bun. Serving: a listener through runtime.serve next to
// a bare Bun.serve with the same handler (separate processes, wrk interleaved, CPU µs per request from /proc).
// Hashing: node:crypto createHash (used everywhere in src/) next to Bun.CryptoHasher; crc32: the adapter next to
// node:zlib. In-process timings are medians of interleaved rounds.
//   bun bench/runtime.ts [--seconds 5] [--rounds 3]
// Requires wrk. Stops by itself.
import { createHash } from "node:crypto";
import { crc32 as zlibCrc32 } from "node:zlib";
import { runtime } from "../src/runtime/index.ts";
import { median, numberArg, type RatioRow, summarize, table, wrkWithCpu } from "./support.ts";

const SECONDS = numberArg("seconds", 5);
const ROUNDS = numberArg("rounds", 3);

async function start(mode: string) {
  const proc = Bun.spawn([process.execPath, `${import.meta.dir}/runtime-server.ts`, mode], { stdout: "pipe", stderr: "inherit" });
  const reader = proc.stdout.getReader();
  const { value } = await reader.read();
  const { port } = JSON.parse(new TextDecoder().decode(value)) as { port: number };
  return { proc, url: `http://127.0.0.1:${port}/` };
}

function perOp(n: number, f: () => void): number {
  for (let i = 0; i < Math.max(10, n / 10); i++) f();
  const t = performance.now();
  for (let i = 0; i < n; i++) f();
  return ((performance.now() - t) * 1000) / n;
}

const servers = { adapter: await start("adapter"), direct: await start("direct") };
const runs: Record<string, { rps: number[]; cpu: number[] }> = { adapter: { rps: [], cpu: [] }, direct: { rps: [], cpu: [] } };
try {
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, s] of Object.entries(servers)) {
      const res = await wrkWithCpu(s.url, s.proc.pid, { seconds: SECONDS, connections: 32 });
      runs[name]!.rps.push(res.requestsPerSec);
      runs[name]!.cpu.push(res.cpuUsPerRequest);
    }
  }
} finally {
  for (const s of Object.values(servers)) s.proc.kill();
}

const big = Uint8Array.from({ length: 1 << 20 }, (_, i) => (i * 7) & 0xff);
const small = "x".repeat(400);
const timings: Record<string, number[]> = {};
const time = (name: string, n: number, f: () => void) => (timings[name] ??= []).push(perOp(n, f));
for (let r = 0; r < 5; r++) {
  time("sha256 1 MiB: node:crypto", 200, () => createHash("sha256").update(big).digest());
  time("sha256 1 MiB: Bun.CryptoHasher", 200, () => new Bun.CryptoHasher("sha256").update(big).digest());
  time("sha256 400 B: node:crypto", 50_000, () => createHash("sha256").update(small).digest("hex"));
  time("sha256 400 B: Bun.CryptoHasher", 50_000, () => new Bun.CryptoHasher("sha256").update(small).digest("hex"));
  time("crc32 1 MiB: runtime.crc32", 200, () => runtime.crc32(big));
  time("crc32 1 MiB: node:zlib", 200, () => zlibCrc32(big));
}

console.log(`wrk -c32 -d${SECONDS}s × ${ROUNDS} interleaved rounds`);
console.log(table(Object.entries(runs).map(([server, r]) => ({ server: server === "adapter" ? "runtime.serve" : "bare Bun.serve", "req/s (median)": Math.round(median(r.rps)), "CPU µs/req": median(r.cpu).toFixed(1) }))));
console.log(table(Object.entries(timings).map(([what, t]) => ({ what, "µs/op (median)": median(t).toFixed(2) }))));
const m = (k: string) => median(timings[k]!);
const ratios: RatioRow[] = [
  { measure: "runtime.serve CPU µs/req vs bare Bun.serve (lower is better)", ours: median(runs.adapter!.cpu).toFixed(1), reference: median(runs.direct!.cpu).toFixed(1), ratio: (median(runs.adapter!.cpu) / median(runs.direct!.cpu)).toFixed(2) },
  { measure: "runtime.serve req/s vs bare Bun.serve", ours: String(Math.round(median(runs.adapter!.rps))), reference: String(Math.round(median(runs.direct!.rps))), ratio: (median(runs.adapter!.rps) / median(runs.direct!.rps)).toFixed(2) },
  { measure: "sha256 1 MiB node:crypto vs Bun.CryptoHasher (time)", ours: m("sha256 1 MiB: node:crypto").toFixed(1), reference: m("sha256 1 MiB: Bun.CryptoHasher").toFixed(1), ratio: (m("sha256 1 MiB: node:crypto") / m("sha256 1 MiB: Bun.CryptoHasher")).toFixed(2) },
  { measure: "sha256 400 B node:crypto vs Bun.CryptoHasher (time)", ours: m("sha256 400 B: node:crypto").toFixed(2), reference: m("sha256 400 B: Bun.CryptoHasher").toFixed(2), ratio: (m("sha256 400 B: node:crypto") / m("sha256 400 B: Bun.CryptoHasher")).toFixed(2) },
];
console.log(table(ratios as unknown as Record<string, string | number>[]));
await summarize("runtime", ratios);
