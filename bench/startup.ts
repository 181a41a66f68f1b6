// Benchmark: startup to ready and resident memory of `opendepot standalone` holding 1,000 modules × 20 versions
// (keys present: the first start, which generates the signing keys, is timed apart). RSS is read once it settles,
// and as the peak and settled value under wrk load on a module versions document. Several binaries can be compared
// in interleaved runs (e.g. main's checkout against this one): --impl /work/main/src/main.ts,src/main.ts
// A runtime knob is compared the same way, one environment per binary, `,`-separated like --impl (K=V pairs split by
// spaces): --impl src/main.ts,src/main.ts --env ",BUN_OPTIONS=--smol". The server's CPU µs per request is reported
// next to req/s (a knob that saves memory by spending CPU shows there).
//   bun bench/startup.ts [--modules 1000] [--versions 20] [--rounds 3] [--seconds 5] [--controllers ""|all] [--admin on] [--env ...]
import { cp, mkdtemp } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePort } from "../test/support/ports.ts";
import { populateStandalone } from "./standalone-data.ts";
import { median, numberArg as arg, rssMiB, settledRssMiB, summarize, table, wrkWithCpu } from "./support.ts";

const MODULES = arg("modules", 1000);
const VERSIONS = arg("versions", 20);
const ROUNDS = arg("rounds", 3);
const SECONDS = arg("seconds", 5);
const stringArg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : fallback;
};
const OURS = resolve(import.meta.dir, "..", "src", "main.ts");
const IMPLS = stringArg("impl", OURS).split(",").map((p) => resolve(p));
const ENVS: Record<string, string>[] = stringArg("env", "").split(",").map((entry) => Object.fromEntries(entry.split(" ").filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)])));
const envOf = (i: number) => ENVS[i] ?? {};
// "" = no controllers (the registry bench's setting); "all" = every controller, as `bun start` runs.
const CONTROLLERS = stringArg("controllers", "");
// "on": the admin API (kubectl) and /metrics on it, as `bun start` runs; off by default, as in bench/registry.ts.
const ADMIN = stringArg("admin", "off") === "on";

interface Run {
  readyMs: number;
  idleRss: number;
  loadPeakRss: number;
  loadSettledRss: number;
  rps: number;
  cpuUsPerRequest: number;
  errors: number;
}

async function startStandalone(main: string, dataDir: string, env: Record<string, string>) {
  const port = freePort();
  const args = ["bun", main, "standalone", "--listen", `127.0.0.1:${port}`, "--data-dir", dataDir, "--admin-listen", ADMIN ? `127.0.0.1:${freePort()}` : "off", "--log-level", "error"];
  if (CONTROLLERS !== "all") args.push("--controllers", CONTROLLERS);
  const started = performance.now();
  const proc = Bun.spawn(args, { stdout: "ignore", stderr: "inherit", env: { ...process.env, ...env } });
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`standalone exited with ${proc.exitCode}`);
    const res = await fetch(`${url}/readyz`).catch(() => undefined);
    if (res?.ok) break;
    if (performance.now() - started > 120_000) throw new Error("standalone not ready after 120 s");
    await Bun.sleep(5);
  }
  const readyMs = performance.now() - started;
  return { proc, url, readyMs, stop: async () => { proc.kill("SIGTERM"); await proc.exited; } };
}

async function once(main: string, dataDir: string, env: Record<string, string>): Promise<Run> {
  const s = await startStandalone(main, dataDir, env);
  try {
    const idleRss = await settledRssMiB(s.proc.pid);
    const path = `${s.url}/opendepot/modules/v1/bench/module-${Math.floor(MODULES / 2)}/aws/versions`;
    const check = await fetch(path);
    if (!check.ok) throw new Error(`versions answered ${check.status}`);
    let peak = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, await rssMiB(s.proc.pid));
        await Bun.sleep(100);
      }
    })();
    const load = await wrkWithCpu(path, s.proc.pid, { seconds: SECONDS, connections: 32 });
    sampling = false;
    await sampler;
    return { readyMs: s.readyMs, idleRss, loadPeakRss: peak, loadSettledRss: await settledRssMiB(s.proc.pid), rps: load.requestsPerSec, cpuUsPerRequest: load.cpuUsPerRequest, errors: load.errors };
  } finally {
    await s.stop();
  }
}

async function main() {
  const template = await mkdtemp(join(tmpdir(), "opendepot-bench-startup-"));
  const t0 = performance.now();
  await populateStandalone(template, MODULES, VERSIONS);
  console.log(`populated ${MODULES} modules × ${VERSIONS} versions in ${Math.round(performance.now() - t0)} ms`);

  // One data dir per binary (each keeps its own keys); the first start generates them and is reported apart.
  const dirs: string[] = [];
  const firstStartMs: number[] = [];
  for (const main of IMPLS) {
    const dir = await mkdtemp(join(tmpdir(), "opendepot-bench-startup-run-"));
    await cp(template, dir, { recursive: true });
    const s = await startStandalone(main, dir, envOf(dirs.length));
    firstStartMs.push(s.readyMs);
    await s.stop();
    dirs.push(dir);
  }
  const runs: Run[][] = IMPLS.map(() => []);
  const loads: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < IMPLS.length; i++) {
      loads.push(loadavg()[0]!);
      runs[i]!.push(await once(IMPLS[i]!, dirs[i]!, envOf(i)));
    }
  }
  const rows = IMPLS.map((impl, i) => {
    const r = runs[i]!;
    const m = (f: (x: Run) => number) => median(r.map(f));
    return {
      binary: (impl === OURS ? "this tree" : impl) + (Object.keys(envOf(i)).length ? ` ${Object.entries(envOf(i)).map(([k, v]) => `${k}=${v}`).join(" ")}` : ""),
      "first start, keys generated (ms)": Math.round(firstStartMs[i]!),
      "start to ready (ms, median)": Math.round(m((x) => x.readyMs)),
      "all ready (ms)": r.map((x) => Math.round(x.readyMs)).join(" / "),
      "RSS settled at ready (MiB)": m((x) => x.idleRss).toFixed(1),
      "RSS peak under load (MiB)": m((x) => x.loadPeakRss).toFixed(1),
      "all peaks (MiB)": r.map((x) => x.loadPeakRss.toFixed(0)).join(" / "),
      "RSS settled after load (MiB)": m((x) => x.loadSettledRss).toFixed(1),
      "req/s": Math.round(m((x) => x.rps)),
      "CPU µs/req": m((x) => x.cpuUsPerRequest).toFixed(2),
      "all CPU µs/req": r.map((x) => x.cpuUsPerRequest.toFixed(1)).join(" / "),
      // Non-2xx answers and socket errors under load (wrk's count), over all rounds: the RSS figures need them at 0.
      errors: r.reduce((sum, x) => sum + x.errors, 0),
    };
  });
  console.log(`${MODULES} modules × ${VERSIONS} versions, controllers: ${CONTROLLERS === "all" ? "all" : CONTROLLERS || "none"}, admin API ${ADMIN ? "on" : "off"}, ${ROUNDS} interleaved rounds, wrk -c32 -d${SECONDS}s; load average 1 min during runs: ${loads.map((l) => l.toFixed(2)).join(", ")}`);
  console.log(table(rows));
  const ours = IMPLS.indexOf(OURS) >= 0 ? rows[IMPLS.indexOf(OURS)]! : rows[0]!;
  await summarize("startup", [
    { measure: `startup to ready, ${MODULES}×${VERSIONS}, keys present (ms; target ≤ 400)`, ours: String(ours["start to ready (ms, median)"]), reference: "400", ratio: (ours["start to ready (ms, median)"] / 400).toFixed(2) },
    { measure: `RSS at ready, ${MODULES}×${VERSIONS} (MiB; target ≤ 90)`, ours: ours["RSS settled at ready (MiB)"], reference: "90", ratio: (Number(ours["RSS settled at ready (MiB)"]) / 90).toFixed(2) },
    { measure: `RSS peak under load, ${MODULES}×${VERSIONS} (MiB; target ≤ 110)`, ours: ours["RSS peak under load (MiB)"], reference: "110", ratio: (Number(ours["RSS peak under load (MiB)"]) / 110).toFixed(2) },
  ]);
}

await main();
