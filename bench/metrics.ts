// Benchmark: what Prometheus metrics cost on the hot path. Two standalone processes serve the same store, one with
// `--metrics-listen off`, one with metrics on (its own listener, scraped once per round as Prometheus would);
// wrk runs against the module versions list in interleaved rounds. Target: on ≥ 0.97× off (req/s).
//   bun bench/metrics.ts [--seconds 8] [--connections 32] [--rounds 3]
// Requires wrk (apt-get install wrk). Stops by itself.
import { copyFile, mkdir, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ModuleObject, VersionObject } from "../src/api/kinds.ts";
import { API_VERSION, LABELS } from "../src/api/meta.ts";
import { artifactFileName, moduleVersionName } from "../src/api/naming.ts";
import { EmbeddedStore } from "../src/store/embedded.ts";
import { freePort, waitFor } from "../test/support/ports.ts";
import { median, type RatioRow, summarize, table, wrk, wrkWithCpu, numberArg as arg } from "./support.ts";

const SECONDS = arg("seconds", 8);
const CONNECTIONS = arg("connections", 32);
const ROUNDS = arg("rounds", 3);
const MODULES = arg("modules", 100);
const VERSIONS = arg("versions", 20);

async function populate(dataDir: string) {
  const store = EmbeddedStore.open(join(dataDir, "store.db"), { namespaces: ["bench"] }); // namespaces must exist before anything goes in
  for (let m = 0; m < MODULES; m++) {
    const name = `module-${m}`;
    await store.create<ModuleObject>({ apiVersion: API_VERSION, kind: "Module", metadata: { name, namespace: "bench" }, spec: { moduleConfig: { provider: "aws", repoOwner: "acme" }, versions: [] } });
    for (let v = 0; v < VERSIONS; v++) {
      const version = `1.${v}.0`;
      const created = await store.create<VersionObject>({
        apiVersion: API_VERSION,
        kind: "Version",
        metadata: { name: moduleVersionName(name, version), namespace: "bench", labels: { [LABELS.module]: name, [LABELS.namespace]: "bench" } },
        spec: { type: "Module", version, fileName: artifactFileName(".zip"), moduleConfigRef: { name } },
      });
      await store.updateStatus({ ...created, status: { synced: true, checksum: new Bun.CryptoHasher("sha256").update(name + version).digest("base64"), syncStatus: "Successfully synced version" } });
    }
  }
  await store.close();
}

async function startRegistry(dataDir: string, metricsListen: string) {
  const port = freePort();
  const proc = Bun.spawn(["bun", join(import.meta.dir, "..", "src", "main.ts"), "standalone", "--listen", `127.0.0.1:${port}`, "--data-dir", dataDir, "--controllers", "", "--admin-listen", "off", "--metrics-listen", metricsListen], { stdout: "ignore", stderr: "inherit" });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.ok, 60_000, "registry");
  return { url, pid: proc.pid, stop: async () => (proc.kill("SIGTERM"), await proc.exited) };
}

async function main() {
  const off = await mkdtemp(join(tmpdir(), "opendepot-bench-metrics-"));
  await populate(off);
  const on = join(off, "copy");
  await mkdir(on);
  await copyFile(join(off, "store.db"), join(on, "store.db"));
  const metricsPort = freePort();
  const servers = { "metrics off": await startRegistry(off, "off"), "metrics on": await startRegistry(on, `127.0.0.1:${metricsPort}`) };
  const scrape = async () => {
    const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    if (!res.ok) throw new Error(`/metrics answered ${res.status}`);
    return res.text();
  };
  const path = `/opendepot/modules/v1/bench/module-${Math.floor(MODULES / 2)}/aws/versions`;
  try {
    const bodies = await Promise.all(Object.values(servers).map(async (s) => (await fetch(s.url + path)).text()));
    if (bodies[0] !== bodies[1] || !bodies[0]!.includes("1.0.0")) throw new Error("the two registries answer differently");
    const runs: Record<string, { rps: number[]; cpu: number[]; p99: number[]; errors: number }> = {};
    for (const name of Object.keys(servers)) runs[name] = { rps: [], cpu: [], p99: [], errors: 0 };
    for (const s of Object.values(servers)) await wrk(s.url + path, { seconds: 2, connections: CONNECTIONS });
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, s] of Object.entries(servers)) {
        const r = await wrkWithCpu(s.url + path, s.pid, { seconds: SECONDS, connections: CONNECTIONS });
        runs[name]!.rps.push(r.requestsPerSec);
        runs[name]!.cpu.push(r.cpuUsPerRequest);
        runs[name]!.p99.push(r.p99ms);
        runs[name]!.errors += r.errors;
      }
      await scrape();
    }
    const exposition = await scrape();
    const counted = /opendepot_http_requests_total\{route="\/opendepot\/modules\/v1\/:namespace\/:name\/:system\/versions",status_class="2xx",auth="none"\} (\d+)/.exec(exposition);
    if (!counted || Number(counted[1]) < 1000) throw new Error("the metrics-on registry did not count the requests");
    const rows = Object.entries(runs).map(([name, r]) => {
      if (r.errors > 0) throw new Error(`${name} answered ${r.errors} errors: the comparison is void`);
      return { server: name, "req/s (median)": Math.round(median(r.rps)), "CPU µs/req": median(r.cpu).toFixed(1), "p99 ms": median(r.p99).toFixed(2), "req/s per round": r.rps.map(Math.round).join(" / "), "CPU µs/req per round": r.cpu.map((c) => c.toFixed(1)).join(" / ") };
    });
    console.log(`module versions list, wrk -c${CONNECTIONS} -d${SECONDS}s × ${ROUNDS} interleaved rounds; ${Number(counted[1])} requests counted by the metrics-on registry`);
    console.log(table(rows));
    const ratios: RatioRow[] = [
      { measure: "versions list req/s, /metrics on vs off (target ≥ 0.97)", ours: String(Math.round(median(runs["metrics on"]!.rps))), reference: String(Math.round(median(runs["metrics off"]!.rps))), ratio: (median(runs["metrics on"]!.rps) / median(runs["metrics off"]!.rps)).toFixed(3) },
      { measure: "versions list CPU µs/req, /metrics on vs off (lower is better)", ours: median(runs["metrics on"]!.cpu).toFixed(1), reference: median(runs["metrics off"]!.cpu).toFixed(1), ratio: (median(runs["metrics on"]!.cpu) / median(runs["metrics off"]!.cpu)).toFixed(3) },
    ];
    console.log("\n" + table(ratios as unknown as Record<string, string>[]));
    await summarize("metrics", ratios);
  } finally {
    await Promise.all(Object.values(servers).map((s) => s.stop()));
  }
}

await main();
