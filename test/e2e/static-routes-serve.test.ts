// `opendepot serve --anonymous-auth --static-routes` on the Kubernetes-compatible API: the stateless server role
// answers the protocol GETs from the native route table once asked, exactly as its fetch path did.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { populateStandalone } from "../../bench/standalone-data.ts";
import { freePort, waitFor, waitForChild } from "../support/ports.ts";
import { startRole, type RoleProcess } from "../support/role-process.ts";
import { startStandalone, type StandaloneProcess } from "../support/standalone-process.ts";

const ROOT = join(import.meta.dir, "..", "..");
let api: StandaloneProcess;
let serve: RoleProcess;
let serveUrl: string;

beforeAll(async () => {
  const root = await mkdtemp(join(tmpdir(), "opendepot-static-serve-"));
  await mkdir(join(root, "api"), { mode: 0o700 });
  await populateStandalone(join(root, "api"), 2, 3, "bench");
  api = await startStandalone({ dataDir: join(root, "api"), admin: true, extra: ["--controllers", ""] });
  const kubectl = Bun.spawn(["kubectl", "--kubeconfig", api.kubeconfig!, "apply", "-f", join(ROOT, "crds")], { stdout: "ignore", stderr: "pipe" });
  expect(await kubectl.exited).toBe(0);
  const keys = join(root, "keys");
  await mkdir(keys);
  expect(await startRole("keygen", ["--out-dir", keys]).exited).toBe(0);
  await writeFile(join(keys, "url.key"), "cd".repeat(32));
  const port = freePort();
  serveUrl = `http://127.0.0.1:${port}`;
  serve = startRole("serve", ["--kubeconfig", api.kubeconfig!, "--listen", `127.0.0.1:${port}`, "--metrics-listen", "off", "--url-signing-key-file", join(keys, "url.key"), "--gpg-key-file", join(keys, "signing-key.asc"), "--anonymous-auth", "--static-routes"]);
  await waitForChild(serve, async () => (await fetch(`${serveUrl}/readyz`).catch(() => undefined))?.ok, 30_000, "serve to be ready").catch((e) => {
    throw new Error(`${(e as Error).message}\nlogs: ${JSON.stringify(serve.logs().slice(-10))}`);
  });
}, 90_000);

afterAll(async () => {
  await serve?.stop();
  await api?.stop();
});

test("module and provider versions lists: the fetch path's answer first, then the table's, the same", async () => {
  // Lines are read from the child's stdout as they come: /readyz may answer before this one is parsed.
  const listening = await waitFor(() => serve.logs().find((l) => l.msg === "listening"), 10_000, "the listening line");
  expect(listening).toMatchObject({ staticRoutes: true });
  for (const path of ["/opendepot/modules/v1/bench/module-1/aws/versions", "/opendepot/providers/v1/bench/widget/versions"]) {
    const first = await fetch(serveUrl + path);
    expect([first.status, first.headers.has("x-request-id")]).toEqual([200, true]);
    const expected = { headers: [...first.headers].filter(([k]) => k !== "date" && k !== "x-request-id"), body: await first.text() };
    const fromTable = await waitFor(async () => {
      const r = await fetch(serveUrl + path);
      if (!r.headers.has("x-request-id")) return r;
      await r.text();
      return undefined;
    }, 20_000, `the table to answer ${path}`, 20);
    expect({ headers: [...fromTable.headers].filter(([k]) => k !== "date"), body: await fromTable.text() }).toEqual(expected);
  }
}, 60_000);
