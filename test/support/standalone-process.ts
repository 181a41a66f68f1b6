// Runs `opendepot standalone` as a real child process on a free loopback port, with its logs captured.
import { join } from "node:path";
import { freePort, waitFor } from "./ports.ts";

const MAIN = join(import.meta.dir, "..", "..", "src", "main.ts");

export interface StandaloneProcess {
  url: string;
  port: number;
  logs: () => Record<string, unknown>[];
  stop(signal?: NodeJS.Signals): Promise<number>;
}

export async function startStandalone(args: { dataDir: string; manifests?: string; extra?: string[]; env?: Record<string, string> }): Promise<StandaloneProcess> {
  const port = freePort();
  const argv = ["bun", MAIN, "standalone", "--listen", `127.0.0.1:${port}`, "--data-dir", args.dataDir, ...(args.manifests ? ["--manifests", args.manifests] : []), ...(args.extra ?? [])];
  const proc = Bun.spawn(argv, { stdout: "pipe", stderr: "pipe", env: { ...process.env, ...args.env } });
  const lines: Record<string, unknown>[] = [];
  const stderr: string[] = [];
  void (async () => {
    const decoder = new TextDecoder();
    let buf = "";
    for await (const chunk of proc.stdout) {
      buf += decoder.decode(chunk, { stream: true });
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          lines.push(JSON.parse(line));
        } catch {
          lines.push({ raw: line });
        }
      }
    }
  })();
  void (async () => {
    for await (const chunk of proc.stderr) stderr.push(new TextDecoder().decode(chunk));
  })();
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(async () => proc.exitCode === null && (await fetch(`${url}/readyz`)).ok, 20_000, "standalone to become ready");
  } catch (e) {
    proc.kill("SIGKILL");
    throw new Error(`${(e as Error).message}\nexit=${proc.exitCode}\nstderr: ${stderr.join("")}\nlogs: ${JSON.stringify(lines.slice(-20))}`);
  }
  return {
    url,
    port,
    logs: () => lines,
    async stop(signal = "SIGTERM") {
      proc.kill(signal);
      return await proc.exited;
    },
  };
}
