// Runs an `opendepot <role>` child process with its JSON log lines captured.
import { join } from "node:path";

const MAIN = join(import.meta.dir, "..", "..", "src", "main.ts");

export interface RoleProcess {
  pid: number;
  /** null while running. */
  readonly exitCode: number | null;
  logs: () => Record<string, unknown>[];
  exited: Promise<number>;
  stop(signal?: NodeJS.Signals): Promise<number>;
}

/** Parse a stream of JSON lines into `into`; lines that aren't JSON are kept as { raw }. */
export async function collectJsonLines(stream: ReadableStream<Uint8Array>, into: Record<string, unknown>[]): Promise<void> {
  const decoder = new TextDecoder();
  let buf = "";
  for await (const chunk of stream) {
    buf += decoder.decode(chunk, { stream: true });
    let nl;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (!line.trim()) continue;
      try {
        into.push(JSON.parse(line));
      } catch {
        into.push({ raw: line });
      }
    }
  }
}

export function startRole(role: string, args: string[], env: Record<string, string> = {}): RoleProcess {
  const proc = Bun.spawn(["bun", MAIN, role, ...args], { stdout: "pipe", stderr: "pipe", env: { ...process.env, ...env } });
  const lines: Record<string, unknown>[] = [];
  void collectJsonLines(proc.stdout, lines);
  void collectJsonLines(proc.stderr, lines);
  return {
    pid: proc.pid,
    get exitCode() {
      return proc.exitCode;
    },
    logs: () => lines,
    exited: proc.exited,
    async stop(signal = "SIGTERM") {
      if (proc.exitCode === null) proc.kill(signal);
      return await proc.exited;
    },
  };
}
