// A first start says which keys it generated and where; a second start on the same data directory generates none.
import { afterAll, expect, test } from "bun:test";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startStandalone, type StandaloneProcess } from "../support/standalone-process.ts";

let running: StandaloneProcess | undefined;
afterAll(async () => {
  await running?.stop();
});

const generated = (s: StandaloneProcess) => s.logs().filter((l) => typeof l.msg === "string" && /^generated /.test(l.msg));

test("first start logs each generated key with its path; the next start generates nothing", async () => {
  const dataDir = join(await mkdtemp(join(tmpdir(), "opendepot-first-start-")), "data");
  running = await startStandalone({ dataDir, admin: true, extra: ["--controllers", ""] });
  const first = generated(running);
  expect(first.map((l) => l.msg)).toEqual(
    expect.arrayContaining([
      "generated a provider signing key (first start); keep it: clients pin providers to it",
      "generated a download-URL signing key (first start)",
      "generated an admin token for the Kubernetes-compatible API",
    ]),
  );
  expect(first.find((l) => String(l.msg).includes("provider signing key"))).toMatchObject({ privateKey: join(dataDir, "signing-key.asc"), publicKey: join(dataDir, "signing-key.pub.asc") });
  expect(first.find((l) => String(l.msg).includes("download-URL"))).toMatchObject({ path: join(dataDir, "url-signing.key") });
  await running.stop();

  running = await startStandalone({ dataDir, admin: true, extra: ["--controllers", ""] });
  expect(generated(running)).toEqual([]);
}, 60_000);
