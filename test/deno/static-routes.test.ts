// --static-routes under Deno: Deno.serve has no native route table, so the flag is ignored with a warning and the
// protocol GETs keep being answered by the fast path (every answer has its request id and access-log line).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { populateStandalone } from "../../bench/standalone-data.ts";
import { waitFor } from "../support/ports.ts";
import { startStandalone, type StandaloneProcess } from "../support/standalone-process.ts";
import { requireDeno, ROOT } from "./deno.ts";

let server: StandaloneProcess;
beforeAll(async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "opendepot-deno-static-"));
  await populateStandalone(dataDir, 2, 2, "bench");
  server = await startStandalone({
    dataDir,
    extra: ["--controllers", "", "--static-routes"],
    launcher: [requireDeno(), "run", "--config", join(ROOT, "deno.json"), "--allow-all", "--quiet"],
    env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1", DENO_NO_PROMPT: "1" },
  });
}, 120_000);
afterAll(async () => {
  await server?.stop();
});

test("the flag is ignored with a warning; the fast path answers every time", async () => {
  // Lines are read from the child's stdout as they come: /readyz may answer before these are parsed.
  await waitFor(() => server.logs().find((l) => l.level === "warn" && String(l.msg).startsWith("--static-routes ignored")), 10_000, "the warning");
  const listening = await waitFor(() => server.logs().find((l) => l.msg === "listening"), 10_000, "the listening line");
  expect(listening).not.toHaveProperty("staticRoutes");
  const path = "/opendepot/modules/v1/bench/module-1/aws/versions";
  for (let i = 0; i < 5; i++) {
    const answer = await fetch(server.url + path);
    expect([answer.status, answer.headers.has("x-request-id")]).toEqual([200, true]);
    expect(await answer.json()).toEqual({ modules: [{ versions: [{ version: "1.1.0" }, { version: "1.0.0" }] }] });
  }
}, 60_000);
