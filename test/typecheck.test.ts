// The whole project typechecks under TypeScript strict mode.
import { expect, test } from "bun:test";
import { join } from "node:path";

test("tsc --noEmit passes", async () => {
  const root = join(import.meta.dir, "..");
  const proc = Bun.spawn(["bun", "x", "tsc", "--noEmit", "-p", root], { cwd: root, stdout: "pipe", stderr: "pipe" });
  const [out, exit] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  expect(out).toBe("");
  expect(exit).toBe(0);
}, 120_000);

test("tsc --noEmit passes for the Explorer's browser script (DOM lib)", async () => {
  const root = join(import.meta.dir, "..");
  const proc = Bun.spawn(["bun", "x", "tsc", "--noEmit", "-p", join(root, "src", "ui", "client")], { cwd: root, stdout: "pipe", stderr: "pipe" });
  const [out, exit] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  expect(out).toBe("");
  expect(exit).toBe(0);
}, 120_000);
