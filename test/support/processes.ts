// Running a command from a test on either runtime (node:child_process, which Bun and Deno both implement), for the
// unit tests that also run under Deno (test/deno/units.test.ts): the shape of Bun.spawnSync's answer.
import { spawn, spawnSync } from "node:child_process";

export interface CommandResult {
  exitCode: number | null;
  stdout: Buffer;
  stderr: Buffer;
}

export function runSync(argv: string[], options: { cwd?: string; env?: Record<string, string | undefined>; stdin?: Uint8Array } = {}): CommandResult {
  const [command, ...args] = argv;
  const p = spawnSync(command!, args, { cwd: options.cwd, env: options.env, input: options.stdin, maxBuffer: 256 * 1024 * 1024 });
  if (p.error) throw p.error;
  return { exitCode: p.status, stdout: p.stdout, stderr: p.stderr };
}

/** Runs to the end, feeding `input` on stdin (closed at once when absent). */
export function run(argv: string[], options: { cwd?: string; env?: Record<string, string | undefined>; input?: string | Uint8Array } = {}): Promise<{ code: number; out: string; err: string }> {
  const [command, ...args] = argv;
  return new Promise((resolve, reject) => {
    const child = spawn(command!, args, { cwd: options.cwd, env: options.env, stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => err.push(c));
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), out: Buffer.concat(out).toString(), err: Buffer.concat(err).toString() }));
    child.stdin.end(options.input === undefined ? undefined : options.input);
  });
}
