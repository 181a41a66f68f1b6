// Benchmark: the registry's hot read paths under concurrent load, next to nginx serving the same JSON bytes from
// disk, plus the resident memory of a standalone process holding 1,000 modules × 20 versions. The same registry with
// --static-routes (Bun's native route table, on a copy of the data directory) runs in the same rounds, and the cost
// of that table's rebuild with the whole catalog held is measured in-process (bench/static-routes.ts).
//   bun bench/registry.ts [--seconds 8] [--connections 32] [--rounds 3] [--modules 1000] [--versions 20]
// Requires wrk and nginx (apt-get install wrk nginx-light). Stops by itself.
import { cp, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, waitFor } from "../test/support/ports.ts";
import { populateStandalone } from "./standalone-data.ts";
import { staticRebuildCost } from "./static-routes.ts";
import { median, type RatioRow, settledRssMiB, startNginx, summarize, table, wrk, wrkWithCpu, numberArg as arg } from "./support.ts";

const SECONDS = arg("seconds", 8);
const CONNECTIONS = arg("connections", 32);
const MODULES = arg("modules", 1000);
const VERSIONS = arg("versions", 20);

/** Bun.serve answering with the same precomputed bytes: what the runtime itself costs, without any registry logic. */
function startBareBun(bodies: Record<string, string>) {
  const port = freePort();
  const script = `const bodies = ${JSON.stringify(bodies)};
Bun.serve({ hostname: "127.0.0.1", port: ${port}, fetch(req) {
  const body = bodies[new URL(req.url).pathname];
  return body === undefined ? new Response("not found", { status: 404 }) : new Response(body, { headers: { "content-type": "application/json" } });
} });`;
  const proc = Bun.spawn(["bun", "-e", script], { stdout: "ignore", stderr: "inherit" });
  return { url: `http://127.0.0.1:${port}`, pid: proc.pid, stop: async () => { proc.kill("SIGTERM"); await proc.exited; } };
}

const ROUNDS = arg("rounds", 3);

async function main() {
  const dataDir = await mkdtemp(join(tmpdir(), "opendepot-bench-"));
  const t0 = performance.now();
  await populateStandalone(dataDir, MODULES, VERSIONS);
  console.log(`populated ${MODULES} modules × ${VERSIONS} versions in ${Math.round(performance.now() - t0)} ms`);

  // The first start generates the signing keys (openpgp, ~11 MiB more resident): it is made and stopped first, so
  // the figures below are those of a restart, as a registry runs after its first day (bench/startup.ts does the same).
  const start = async (dir = dataDir, extra: string[] = []) => {
    const port = freePort();
    const proc = Bun.spawn(["bun", join(import.meta.dir, "..", "src", "main.ts"), "standalone", "--listen", `127.0.0.1:${port}`, "--data-dir", dir, "--controllers", "", "--admin-listen", "off", ...extra], {
      stdout: "ignore",
      stderr: "inherit",
    });
    const url = `http://127.0.0.1:${port}`;
    const startedAt = performance.now();
    await waitFor(async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.ok, 120_000, "registry");
    return { proc, url, startupMs: Math.round(performance.now() - startedAt) };
  };
  const first = await start();
  first.proc.kill("SIGTERM");
  await first.proc.exited;
  // The static-routes registry gets its own copy (same keys, same data): two processes never share one store file.
  const staticDir = `${dataDir}-static`;
  await cp(dataDir, staticDir, { recursive: true });
  const { proc, url, startupMs } = await start();
  const idleRss = await settledRssMiB(proc.pid);
  const tabled = await start(staticDir, ["--static-routes"]);

  const versionsPath = `/opendepot/modules/v1/bench/module-${Math.floor(MODULES / 2)}/aws/versions`;
  const metadataPath = `/opendepot/providers/v1/bench/widget/2.${Math.floor(VERSIONS / 2)}.0/download/linux/amd64`;
  const versionsBody = await (await fetch(url + versionsPath)).text();
  const metadataRes = await fetch(url + metadataPath);
  const metadataBody = await metadataRes.text();
  if (!metadataRes.ok) throw new Error(`provider metadata answered ${metadataRes.status}: ${metadataBody}`);
  const nginx = await startNginx({ "versions.json": versionsBody, "metadata.json": metadataBody });
  const bare = startBareBun({ "/versions.json": versionsBody, "/metadata.json": metadataBody });
  await waitFor(async () => (await fetch(`${bare.url}/versions.json`).catch(() => undefined))?.ok, 10_000, "bare Bun.serve");

  const rows: Record<string, string | number>[] = [];
  const ratios: RatioRow[] = [];
  try {
    for (const [label, path, file] of [["module versions", versionsPath, "/versions.json"], ["provider metadata", metadataPath, "/metadata.json"]] as const) {
      const servers = {
        opendepot: { url: url + path, pid: proc.pid },
        "opendepot --static-routes": { url: tabled.url + path, pid: tabled.proc.pid },
        nginx: { url: nginx.url + file, pid: nginx.pid },
        "bare Bun.serve": { url: bare.url + file, pid: bare.pid },
      };
      const runs: Record<string, { rps: number[]; cpu: number[]; p99: number[]; errors: number }> = {};
      for (const name of Object.keys(servers)) runs[name] = { rps: [], cpu: [], p99: [], errors: 0 };
      for (const s of Object.values(servers)) await wrk(s.url, { seconds: 2, connections: CONNECTIONS }); // warm-up
      // The warm-up promoted the path into the table: it must answer now (no request id), with the same bytes.
      const fromTable = await fetch(servers["opendepot --static-routes"].url);
      const tableBody = await fromTable.text();
      if (fromTable.headers.has("x-request-id")) throw new Error(`--static-routes did not take ${label} into its table: the comparison is void`);
      if (label === "module versions" && tableBody !== versionsBody) throw new Error("--static-routes answered other module versions bytes");
      // Interleaved rounds: a burst of load elsewhere on this shared machine hits every server alike.
      for (let round = 0; round < ROUNDS; round++) {
        for (const [name, s] of Object.entries(servers)) {
          const r = await wrkWithCpu(s.url, s.pid, { seconds: SECONDS, connections: CONNECTIONS });
          runs[name]!.rps.push(r.requestsPerSec);
          runs[name]!.cpu.push(r.cpuUsPerRequest);
          runs[name]!.p99.push(r.p99ms);
          runs[name]!.errors += r.errors;
        }
      }
      for (const [name, r] of Object.entries(runs)) {
        if (r.errors > 0) throw new Error(`${name} answered ${r.errors} errors on ${label}: the comparison is void`);
        rows.push({ endpoint: label, server: name, "req/s (median)": Math.round(median(r.rps)), "CPU µs/req": median(r.cpu).toFixed(1), "p99 ms": median(r.p99).toFixed(2), errors: r.errors });
      }
      const ours = runs.opendepot!;
      for (const ref of ["nginx", "bare Bun.serve"]) {
        const other = runs[ref]!;
        ratios.push({ measure: `${label} req/s vs ${ref}`, ours: String(Math.round(median(ours.rps))), reference: String(Math.round(median(other.rps))), ratio: (median(ours.rps) / median(other.rps)).toFixed(2) });
      }
      ratios.push({ measure: `${label} CPU µs/req vs bare Bun.serve (lower is better)`, ours: median(ours.cpu).toFixed(1), reference: median(runs["bare Bun.serve"]!.cpu).toFixed(1), ratio: (median(ours.cpu) / median(runs["bare Bun.serve"]!.cpu)).toFixed(2) });
      const tabledRuns = runs["opendepot --static-routes"]!;
      ratios.push({ measure: `${label}, static routes, req/s vs nginx`, ours: String(Math.round(median(tabledRuns.rps))), reference: String(Math.round(median(runs.nginx!.rps))), ratio: (median(tabledRuns.rps) / median(runs.nginx!.rps)).toFixed(2) });
      ratios.push({ measure: `${label}, static routes, CPU µs/req vs nginx (lower is better)`, ours: median(tabledRuns.cpu).toFixed(1), reference: median(runs.nginx!.cpu).toFixed(1), ratio: (median(tabledRuns.cpu) / median(runs.nginx!.cpu)).toFixed(2) });
    }
    const loadedRss = await settledRssMiB(proc.pid);
    const tabledRss = await settledRssMiB(tabled.proc.pid);
    console.log(`wrk -c${CONNECTIONS} -d${SECONDS}s × ${ROUNDS} interleaved rounds; bodies checked byte-identical`);
    console.log(table(rows));
    console.log(`\nresident memory with ${MODULES} modules × ${VERSIONS} versions: ${idleRss} MiB after start (${startupMs} ms to ready), ${loadedRss} MiB after load`);
    ratios.push({ measure: `RSS at ready, ${MODULES}×${VERSIONS} (MiB)`, ours: String(idleRss), reference: "-", ratio: "-" });
    ratios.push({ measure: "startup to ready (ms)", ours: String(startupMs), reference: "-", ratio: "-" });
    ratios.push({ measure: `RSS after load, static routes, ${MODULES}×${VERSIONS} (MiB)`, ours: String(tabledRss), reference: String(loadedRss), ratio: (tabledRss / loadedRss).toFixed(2) });
    ratios.push(...(await staticRebuildCost({ modules: MODULES, versions: VERSIONS, builds: 2 * VERSIONS, rebuilds: 5 })));
    console.log("\n" + table(ratios as unknown as Record<string, string>[]));
    await summarize("registry", ratios);
  } finally {
    await nginx.stop();
    await bare.stop();
    proc.kill("SIGTERM");
    tabled.proc.kill("SIGTERM");
    await Promise.all([proc.exited, tabled.proc.exited]);
  }
}

await main();
