// The Deno CLI the Deno tests run: installed from npm by .ci/install/deno.sh into .tmp/deno (or DENO_BIN). A
// missing Deno fails the tests that need it, with how to install it; nothing is skipped.
import { existsSync } from "node:fs";
import { join, relative } from "node:path";

export const ROOT = join(import.meta.dir, "..", "..");
export const DENO = process.env.DENO_BIN ?? join(ROOT, ".tmp", "deno", "node_modules", ".bin", "deno");

export function requireDeno(): string {
  if (!existsSync(DENO)) throw new Error(`Deno not found at ${DENO}: run \`bash .ci/install/deno.sh\` (CI runs it from .ci/run)`);
  return DENO;
}

export interface DenoRun {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs `deno <args>` from the repository root (so deno.json applies), colourless and without update checks. */
export async function runDeno(args: string[], options: { env?: Record<string, string> } = {}): Promise<DenoRun> {
  const proc = Bun.spawn([requireDeno(), ...args], {
    cwd: ROOT,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1", DENO_NO_PROMPT: "1", ...options.env },
  });
  const [stdout, stderr, exitCode] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { exitCode, stdout, stderr };
}

/** The TypeScript errors of a `deno check` output, as "file:line:col CODE message" lines (paths from the root). */
export function checkErrors(output: string): string[] {
  const errors: string[] = [];
  const lines = output.split("\n");
  for (const [i, line] of lines.entries()) {
    const m = /^(TS\d+) \[ERROR\]: (.*)$/.exec(line.trim());
    if (!m) continue;
    const at = lines.slice(i + 1, i + 12).find((l) => /^\s+at file:\/\//.test(l));
    const where = at ? relative(ROOT, at.trim().replace(/^at file:\/\//, "")) : "?";
    errors.push(`${where} ${m[1]} ${m[2]}`);
  }
  return errors;
}
