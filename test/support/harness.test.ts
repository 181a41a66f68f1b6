// The harnesses that wait for a child to become ready fail at once, with the child's stderr, when the child has
// already exited (they used to wait out their whole timeout and then report only "timed out").
import { expect, test } from "bun:test";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ChildExitedError, waitForChild } from "./ports.ts";
import { startStandalone } from "./standalone-process.ts";

test("waitForChild stops polling as soon as the child has exited", async () => {
  const child = Bun.spawn(["bun", "-e", "process.exit(3)"], { stdout: "ignore", stderr: "ignore" });
  await child.exited;
  let polls = 0;
  const error = await waitForChild(child, () => (polls++, false), 60_000, "readiness").catch((e) => e);
  expect(error).toBeInstanceOf(ChildExitedError);
  expect(error.message).toContain("exited with code 3");
  expect(polls).toBe(0);
});

test("startStandalone reports a child that exits at start with its exit code and stderr, not a timeout", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "opendepot-harness-"));
  const error = (await startStandalone({ dataDir, extra: ["--no-such-flag"] }).then(
    () => new Error("started"),
    (e: Error) => e,
  )) as Error;
  expect(error).toBeInstanceOf(Error);
  expect(error.message).toContain("exited with code 2");
  expect(error.message).toContain("unknown flag --no-such-flag");
  expect(error.message).not.toContain("timed out");
});
