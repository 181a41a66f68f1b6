// Runs `opendepot standalone` as a real child process on a free loopback port, with its logs captured.
import { join } from "node:path";
import { freePort, waitForChild } from "./ports.ts";
import { collectJsonLines } from "./role-process.ts";

const MAIN = join(import.meta.dir, "..", "..", "src", "main.ts");

export interface StandaloneProcess {
  url: string;
  port: number;
  /** The Kubernetes-compatible admin API (only with `admin: true`) and the kubeconfig standalone wrote for it. */
  adminUrl?: string;
  kubeconfig?: string;
  logs: () => Record<string, unknown>[];
  stop(signal?: NodeJS.Signals): Promise<number>;
}

/** `launcher`: what runs src/main.ts (default `bun`; the Deno smoke passes `deno run -A`). */
export async function startStandalone(args: { dataDir: string; manifests?: string; extra?: string[]; env?: Record<string, string>; admin?: boolean; launcher?: string[] }): Promise<StandaloneProcess> {
  const port = freePort();
  // The admin API defaults to a fixed port: tests get a free one when they ask for it, and none otherwise.
  const adminPort = args.admin ? freePort() : undefined;
  const adminArgs = adminPort ? ["--admin-listen", `127.0.0.1:${adminPort}`] : ["--admin-listen=off"];
  const argv = [...(args.launcher ?? ["bun"]), MAIN, "standalone", "--listen", `127.0.0.1:${port}`, "--data-dir", args.dataDir, ...adminArgs, ...(args.manifests ? ["--manifests", args.manifests] : []), ...(args.extra ?? [])];
  const proc = Bun.spawn(argv, { stdout: "pipe", stderr: "pipe", env: { ...process.env, ...args.env } });
  const lines: Record<string, unknown>[] = [];
  const stderr: string[] = [];
  const stdoutDone = collectJsonLines(proc.stdout, lines);
  const stderrDone = (async () => {
    for await (const chunk of proc.stderr) stderr.push(new TextDecoder().decode(chunk));
  })();
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForChild(proc, async () => (await fetch(`${url}/readyz`)).ok, 20_000, "standalone to become ready");
  } catch (e) {
    proc.kill("SIGKILL");
    await proc.exited;
    await Promise.all([stdoutDone, stderrDone]);
    throw new Error(`${(e as Error).message}\nexit=${proc.exitCode}\nstderr: ${stderr.join("")}\nlogs: ${JSON.stringify(lines.slice(-20))}`);
  }
  const adminUrl = adminPort ? `https://127.0.0.1:${adminPort}` : undefined;
  // The admin API serves TLS with a CA of its own (in the data directory); the kubeconfig is written once it listens.
  if (adminUrl) {
    const ready = async () => (await fetch(`${adminUrl}/readyz`, { tls: { rejectUnauthorized: false } })).ok && (await Bun.file(join(args.dataDir, "kubeconfig")).exists());
    await waitForChild(proc, ready, 10_000, "the admin API to listen");
  }
  return {
    url,
    port,
    ...(adminUrl ? { adminUrl, kubeconfig: join(args.dataDir, "kubeconfig") } : {}),
    logs: () => lines,
    async stop(signal = "SIGTERM") {
      proc.kill(signal);
      return await proc.exited;
    },
  };
}
