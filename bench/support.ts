// Shared bench plumbing: wrk runs, nginx as the reference server, resident memory of a process.
import { chmod, mkdtemp, mkdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, waitFor } from "../test/support/ports.ts";

/** `--name N` from the command line, else `fallback` (every bench takes its sizes this way). */
export function numberArg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

export interface WrkResult {
  requestsPerSec: number;
  /** Requests completed over the whole run (wrk's "N requests in"). */
  requests: number;
  p50ms: number;
  p99ms: number;
  /** Non-2xx/3xx answers plus socket errors: a reference that answers 403 must not look fast. */
  errors: number;
}

function toMs(value: string, unit: string): number {
  const n = Number(value);
  return unit === "us" ? n / 1000 : unit === "s" ? n * 1000 : unit === "m" ? n * 60_000 : n;
}

export async function wrk(url: string, options: { seconds?: number; connections?: number; threads?: number; headers?: Record<string, string>; script?: string } = {}): Promise<WrkResult> {
  const headers = Object.entries(options.headers ?? {}).flatMap(([k, v]) => ["-H", `${k}: ${v}`]);
  const script = options.script ? ["-s", options.script] : [];
  const args = ["wrk", `-t${options.threads ?? 1}`, `-c${options.connections ?? 32}`, `-d${options.seconds ?? 8}s`, "--latency", ...headers, ...script, url];
  const proc = Bun.spawn(args, { stdout: "pipe", stderr: "pipe" });
  const out = await new Response(proc.stdout).text();
  if ((await proc.exited) !== 0) throw new Error(`wrk failed: ${out}`);
  const latency = (pct: string) => {
    const m = new RegExp(`\\s${pct}%\\s+([\\d.]+)(us|ms|s|m)`).exec(out);
    return m ? toMs(m[1]!, m[2]!) : NaN;
  };
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return {
    requestsPerSec: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN),
    requests: Number(/(\d+) requests in/.exec(out)?.[1] ?? NaN),
    p50ms: latency("50"),
    p99ms: latency("99"),
    errors:
      Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0) +
      (socketErrors ? socketErrors.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0),
  };
}

/**
 * utime + stime of a process and its direct children (nginx's master does no work; its worker does), in
 * microseconds, from /proc (clock ticks are 100 Hz on Linux).
 */
export async function cpuMicros(pid: number): Promise<number> {
  const own = async (p: number | string) => {
    const stat = await Bun.file(`/proc/${p}/stat`).text().catch(() => "");
    if (!stat) return 0;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15 of the whole line.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  };
  const children = (await Bun.file(`/proc/${pid}/task/${pid}/children`).text().catch(() => "")).split(" ").filter(Boolean);
  const parts = await Promise.all([own(pid), ...children.map(own)]);
  return parts.reduce((sum, n) => sum + n, 0);
}

/** A wrk run plus the server's CPU time per completed request. */
export async function wrkWithCpu(url: string, pid: number, options: Parameters<typeof wrk>[1] = {}) {
  const before = await cpuMicros(pid);
  const result = await wrk(url, options);
  const cpuUsPerRequest = (await cpuMicros(pid)) - before;
  return { ...result, cpuUsPerRequest: cpuUsPerRequest / result.requests };
}

/** Median of a list of numbers (interleaved runs on a shared machine are noisy; the median is steadier). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * nginx with one worker (like one Bun process) and sendfile, serving `root` on a free loopback port; its config,
 * pid and temp files live in `dir`. Its workers run as `nobody`: `root` and `dir` must be world-readable.
 */
export async function startNginxIn(dir: string, root: string, o: { defaultType: string; workerConnections: number }) {
  const port = freePort();
  await mkdir(join(dir, "tmp"), { recursive: true });
  const conf = join(dir, "nginx.conf");
  await writeFile(
    conf,
    `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections ${o.workerConnections}; }
http {
  access_log off;
  client_body_temp_path ${dir}/tmp;
  proxy_temp_path ${dir}/tmp;
  fastcgi_temp_path ${dir}/tmp;
  uwsgi_temp_path ${dir}/tmp;
  scgi_temp_path ${dir}/tmp;
  default_type ${o.defaultType};
  sendfile on;
  keepalive_requests 1000000;
  server { listen 127.0.0.1:${port}; root ${root}; }
}
`,
  );
  const proc = Bun.spawn(["nginx", "-c", conf, "-p", dir], { stdout: "ignore", stderr: "pipe" });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    proc.kill("SIGQUIT");
    await proc.exited;
  };
  await waitFor(async () => (await fetch(`${url}/`).catch(() => undefined))?.status !== undefined, 10_000, "nginx");
  return { url, pid: proc.pid, stop };
}

/**
 * nginx serving files from a directory on a free loopback port, one worker (like one Bun process). Its workers run
 * as `nobody`, so the root is made world-readable, and every file is fetched once and compared byte for byte before
 * the reference is trusted: a reference that answers 403 pages is no reference.
 */
export async function startNginx(files: Record<string, string | Uint8Array>) {
  const dir = await mkdtemp(join(tmpdir(), "opendepot-nginx-"));
  await chmod(dir, 0o755);
  const root = join(dir, "root");
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(root, path, ".."), { recursive: true });
    await writeFile(join(root, path), content);
  }
  const { url, pid, stop } = await startNginxIn(dir, root, { defaultType: "application/json", workerConnections: 1024 });
  for (const [path, content] of Object.entries(files)) {
    const res = await fetch(`${url}/${path}`);
    const served = new Uint8Array(await res.arrayBuffer());
    const expected = typeof content === "string" ? new TextEncoder().encode(content) : content;
    if (res.status !== 200 || !Buffer.from(served).equals(Buffer.from(expected))) {
      await stop();
      throw new Error(`nginx reference does not serve /${path} byte-identically (status ${res.status}, ${served.length} vs ${expected.length} bytes)`);
    }
  }
  return { url, pid, stop };
}

/** Resident memory once it has stopped moving: sampled until two readings 200 ms apart agree within 1 MiB. */
export async function settledRssMiB(pid: number, maxSamples = 25): Promise<number> {
  let last = await rssMiB(pid);
  for (let i = 0; i < maxSamples; i++) {
    await Bun.sleep(200);
    const now = await rssMiB(pid);
    if (Math.abs(now - last) < 1) return now;
    last = now;
  }
  return last;
}

export async function rssMiB(pid: number): Promise<number> {
  const status = await Bun.file(`/proc/${pid}/status`).text();
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return Math.round((kb / 1024) * 10) / 10;
}

export function table(rows: Record<string, string | number>[]): string {
  const cols = Object.keys(rows[0] ?? {});
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(width[i]!)).join(" | ")} |`;
  return [line(cols), line(width.map((w) => "-".repeat(w))), ...rows.map((r) => line(cols.map((c) => String(r[c]))))].join("\n");
}

export interface RatioRow {
  measure: string;
  ours: string;
  reference: string;
  /** ours ÷ reference, in the direction the measure names (higher is better unless the measure says otherwise). */
  ratio: string;
}

/**
 * Records a benchmark's headline ratios. `bun run bench` (bench/run.ts) sets OPENDEPOT_BENCH_SUMMARY to a file and
 * prints every benchmark's rows as one markdown table; a bench run on its own just prints them.
 */
export async function summarize(bench: string, rows: RatioRow[]): Promise<void> {
  const file = process.env.OPENDEPOT_BENCH_SUMMARY;
  if (!file) return;
  const lines = rows.map((row) => JSON.stringify({ bench, ...row })).join("\n") + "\n";
  const { appendFile } = await import("node:fs/promises");
  await appendFile(file, lines);
}
