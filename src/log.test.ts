// The stdout log is written in batches (one write for up to 512 lines, the rest after a few milliseconds), and
// nothing pending is lost when the process ends: by process.exit (what every role's SIGTERM handler calls), by
// running out of work, or by an uncaught exception. Each case runs in a child process writing to a real pipe.
import { describe, expect, test } from "bun:test";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

const child = `
import { createLogger, stdoutBatchesWritten } from ${JSON.stringify(join(import.meta.dir, "log.ts"))};
const log = createLogger();
const [n, mode] = [Number(process.argv[2]), process.argv[3]];
// "mixed": lines of many sizes, some not ASCII, one far larger than a batch, so lines straddle batch ends.
const pad = (i) => (mode === "mixed" ? "é中😀x".repeat(i === 7 ? 40_000 : (i * 37) % 500) : "");
const burst = () => { for (let i = 0; i < n; i++) log.rawLine(\`\${log.rawHead("info", "request")},"i":\${i},"pad":"\${pad(i)}"}\`); };
process.on("SIGTERM", () => { burst(); process.exit(0); });
if (mode === "signal") { process.stderr.write("ready\\n"); setInterval(() => {}, 1000); }
else {
  burst();
  process.stderr.write(\`writes \${stdoutBatchesWritten()}\\n\`);
  if (mode === "exit" || mode === "mixed") process.exit(0);
  if (mode === "throw") throw new Error("boom");
}
`;

async function run(n: number, mode: "exit" | "idle" | "throw" | "signal" | "mixed") {
  const dir = await mkdtemp(join(tmpdir(), "opendepot-log-"));
  const script = join(dir, "child.ts");
  await writeFile(script, child);
  const proc = Bun.spawn(["bun", script, String(n), mode], { stdout: "pipe", stderr: "pipe" });
  const stdout = new Response(proc.stdout).text();
  const reader = proc.stderr.getReader();
  let err = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    err += new TextDecoder().decode(value);
    if (mode === "signal" && err.includes("ready") && !proc.killed) proc.kill("SIGTERM");
  }
  const out = await stdout;
  await proc.exited;
  const lines = out.split("\n").filter(Boolean).map((l) => JSON.parse(l) as { msg: string; i: number; pad: string });
  return { indexes: lines.map((l) => l.i), pads: lines.map((l) => l.pad), writes: Number(/writes (\d+)/.exec(err)?.[1] ?? NaN), err };
}

const upTo = (n: number) => Array.from({ length: n }, (_, i) => i);

describe("batched stdout log", () => {
  test("20,000 lines then process.exit: every line, in order, in a few dozen writes", async () => {
    const { indexes, writes } = await run(20_000, "exit");
    expect(indexes).toEqual(upTo(20_000));
    expect(writes).toBeGreaterThan(0);
    expect(writes).toBeLessThanOrEqual(Math.ceil(20_000 / 512));
  }, 30_000);

  test("lines of every size, multi-byte text and one larger than a whole batch: each intact and in order", async () => {
    const { indexes, pads } = await run(3000, "mixed");
    expect(indexes).toEqual(upTo(3000));
    pads.forEach((p, i) => expect(p).toBe("é中😀x".repeat(i === 7 ? 40_000 : (i * 37) % 500)));
  }, 30_000);

  test("a few lines and nothing else to do: written before the process ends by itself", async () => {
    const { indexes } = await run(3, "idle");
    expect(indexes).toEqual(upTo(3));
  }, 30_000);

  test("lines logged just before an uncaught exception are not lost", async () => {
    const { indexes, err } = await run(1000, "throw");
    expect(err).toContain("boom");
    expect(indexes).toEqual(upTo(1000));
  }, 30_000);

  test("lines logged by a SIGTERM handler that exits are not lost", async () => {
    const { indexes } = await run(5000, "signal");
    expect(indexes).toEqual(upTo(5000));
  }, 30_000);
});
