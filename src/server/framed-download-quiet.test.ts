// A streamed download cut by storage on a real Bun server: the client's transfer fails, the reason reaches our log
// (onCut), and with `quiet` Bun prints nothing of its own to stderr (without it, it prints the error's stack). Run in
// a child process, whose stderr is what an operator reads.
import { afterAll, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

const dir = await mkdtemp(join(tmpdir(), "opendepot-quiet-cut-"));
afterAll(() => rm(dir, { recursive: true, force: true }));

async function cutDownload(quiet: boolean) {
  const script = join(dir, `serve-${quiet}.ts`);
  await Bun.write(
    script,
    `import { exactLength } from ${JSON.stringify(join(import.meta.dir, "framed-download.ts"))};
let sent = 0;
const failing = () => new ReadableStream({ pull(c) { if (sent++ < 2) return c.enqueue(new Uint8Array(65536)); c.error(new Error("storage reset mid-body")); } });
const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response(exactLength(failing(), 4 * 65536, (e) => console.log("onCut:", String(e)), { quiet: ${quiet} })) });
const client = await fetch("http://127.0.0.1:" + server.port + "/").then((r) => r.arrayBuffer()).then((b) => "complete " + b.byteLength, (e) => "cut: " + e.name);
console.log("client:", client);
await server.stop(true);
`,
  );
  const proc = Bun.spawn(["bun", script], { stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  expect(await proc.exited).toBe(0);
  return { stdout, stderr };
}

test("quiet: the client's transfer is cut, the reason is logged once, and Bun prints no stack", async () => {
  const { stdout, stderr } = await cutDownload(true);
  expect(stdout).toContain("onCut: Error: storage reset mid-body");
  expect(stdout).toMatch(/client: cut: /);
  expect(stderr).toBe("");
});

test("without quiet Bun prints the error a body ends with (what quiet is for)", async () => {
  const { stdout, stderr } = await cutDownload(false);
  expect(stdout).toMatch(/client: cut: /);
  expect(stderr).toContain("storage reset mid-body");
});
