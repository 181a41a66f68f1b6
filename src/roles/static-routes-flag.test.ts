// --static-routes end to end: a real standalone process with the flag answers the protocol GETs from the native
// route table once asked (no request id, no access-log line) exactly as its fetch path did; with authorization of
// any kind the flag is refused before anything starts.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseFlags, UsageError } from "../cli/flags.ts";
import { populateStandalone } from "../../bench/standalone-data.ts";
import { startStandalone, type StandaloneProcess } from "../../test/support/standalone-process.ts";
import { waitFor } from "../../test/support/ports.ts";
import { run } from "../../test/support/processes.ts";
import { staticRoutesFromFlags } from "./registry-server.ts";
import { SERVE_FLAGS } from "./serve.ts";
import { STANDALONE_FLAGS } from "./standalone.ts";

const MAIN = join(import.meta.dir, "..", "main.ts");

describe("the flag", () => {
  test("off by default, on by flag or environment; refused unless access is anonymous", () => {
    for (const specs of [STANDALONE_FLAGS, SERVE_FLAGS]) {
      expect(staticRoutesFromFlags(parseFlags(specs, [], {}), true)).toBe(false);
      expect(staticRoutesFromFlags(parseFlags(specs, ["--static-routes"], {}), true)).toBe(true);
      expect(staticRoutesFromFlags(parseFlags(specs, [], { OPENDEPOT_STATIC_ROUTES: "true" }), true)).toBe(true);
      expect(() => staticRoutesFromFlags(parseFlags(specs, ["--static-routes"], {}), false)).toThrow(UsageError);
      expect(staticRoutesFromFlags(parseFlags(specs, [], {}), false)).toBe(false);
    }
  });

  test("standalone with an OIDC issuer and serve without --anonymous-auth exit with status 2 and the reason", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "opendepot-static-flag-"));
    const oidc = await run(["bun", MAIN, "standalone", "--static-routes", "--data-dir", dataDir, "--listen", "127.0.0.1:0", "--admin-listen", "off", "--oidc-issuer-url", "https://issuer.test", "--oidc-client-id", "cli"]);
    expect(oidc.code).toBe(2);
    expect(oidc.err).toContain("--static-routes answers without authorization");
    const serve = await run(["bun", MAIN, "serve", "--static-routes", "--listen", "127.0.0.1:0", "--url-signing-key-file", join(dataDir, "none")]);
    expect(serve.code).toBe(2);
    expect(serve.err).toContain("--static-routes answers without authorization");
  }, 30_000);
});

describe("a standalone registry with --static-routes", () => {
  let registry: StandaloneProcess;
  beforeAll(async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "opendepot-static-standalone-"));
    await populateStandalone(dataDir, 3, 4, "bench");
    registry = await startStandalone({ dataDir, extra: ["--static-routes", "--controllers", ""] });
  }, 60_000);
  afterAll(async () => {
    await registry?.stop();
  });

  const shape = async (response: Response) => ({
    status: response.status,
    headers: [...response.headers].filter(([k]) => k !== "date" && k !== "x-request-id"),
    body: await response.text(),
  });

  test("each kind: the first answer is the fetch path's, later ones the table's, and they are the same", async () => {
    const paths = [
      "/.well-known/terraform.json",
      "/opendepot/modules/v1/bench/module-1/aws/versions",
      "/opendepot/providers/v1/bench/widget/versions",
      "/opendepot/providers/v1/bench/widget/2.1.0/download/linux/amd64",
    ];
    // Lines are read from the child's stdout as they come: /readyz may answer before this one is parsed.
    const listening = await waitFor(() => registry.logs().find((l) => l.msg === "listening"), 10_000, "the listening line");
    expect(listening).toMatchObject({ staticRoutes: true });
    for (const path of paths) {
      const first = await fetch(registry.url + path);
      if (path !== paths[0]) expect({ path, id: first.headers.has("x-request-id") }).toEqual({ path, id: true });
      const expected = await shape(first);
      expect(expected.status).toBe(200);
      // Promotion is a rebuild a little later (debounced, at most one per 250 ms): ask until the table answers.
      const answer = await waitFor(async () => {
        const r = await fetch(registry.url + path);
        if (!r.headers.has("x-request-id")) return r;
        await r.text();
        return undefined;
      }, 20_000, `the table to answer ${path}`, 20);
      const got = await shape(answer);
      // Metadata carries signed URLs of the current expiry window: after a roll in between, compare with the fetch
      // path's answer now (the `v` spelling is the app's, never the table's).
      const reference = got.body !== expected.body && path.includes("/download/") ? await shape(await fetch(`${registry.url}${path.replace("/2.1.0/", "/v2.1.0/")}`)) : expected;
      expect({ path, ...got }).toEqual({ path, ...reference });
    }
    // Table answers leave no access-log line.
    const logged = registry.logs().filter((l) => l.path === paths[1]).length;
    await (await fetch(registry.url + paths[1])).text();
    await (await fetch(`${registry.url}/healthz`)).text();
    await waitFor(() => registry.logs().some((l) => l.path === "/healthz"), 5000, "the access-log line of /healthz");
    expect(registry.logs().filter((l) => l.path === paths[1]).length).toBe(logged);
  }, 60_000);
});
