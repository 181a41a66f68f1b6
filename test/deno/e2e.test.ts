// Deno end-to-end smoke (issue #18): `opendepot standalone` started under Deno — the embedded store on Deno's
// SQLite (node:sqlite), filesystem storage, the registry served by Deno.serve through Elysia's Web-standard
// adapter — and the real Terraform CLI installs the sample module and provider from it. The same fixtures and
// checks as test/e2e/terraform-standalone.test.ts (the Bun run); the fixture's store is written by Bun, so this is
// also the proof that one store file opens in both runtimes.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { VersionObject } from "../../src/api/kinds.ts";
import { locateArtifact } from "../../src/storage/locate.ts";
import { createFixtureRegistry } from "../e2e/fixture-registry.ts";
import { rawRequest, type JsonResponse } from "../support/ports.ts";
import { installSampleModules, installSampleProvider, PROVIDER_BINARIES, sampleProviderConfig } from "../support/sample-registry.ts";
import { startStandalone, type StandaloneProcess } from "../support/standalone-process.ts";
import { TERRAFORM, TerraformWorkspace } from "../support/terraform.ts";
import { requireDeno, ROOT } from "./deno.ts";

let fixture: Awaited<ReturnType<typeof createFixtureRegistry>>;
let server: StandaloneProcess;

const onDeno = () => ["run", "--config", join(ROOT, "deno.json"), "--allow-all", "--quiet"];
const start = () =>
  startStandalone({
    dataDir: fixture.dataDir,
    manifests: fixture.manifests,
    extra: ["--controllers", ""],
    launcher: [requireDeno(), ...onDeno()],
    env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1", DENO_NO_PROMPT: "1" },
    admin: true,
  });

beforeAll(async () => {
  if (!existsSync(TERRAFORM)) throw new Error(`Terraform CLI not found at ${TERRAFORM}: the acceptance tests need it`);
  requireDeno();
  fixture = await createFixtureRegistry();
  server = await start();
}, 120_000);

afterAll(async () => {
  await server?.stop();
});

const get = (path: string, init?: RequestInit) => fetch(new URL(path, server.url), { redirect: "manual", ...init }) as Promise<JsonResponse>;

describe("opendepot standalone on Deno", () => {
  test("the process is Deno: the admin API reports the runtime it runs on", async () => {
    const version = (await (await fetch(`${server.adminUrl}/version`, { tls: { rejectUnauthorized: false } })).json()) as { goVersion: string };
    expect(version.goVersion).toMatch(/^deno2\.9\.\d+$/);
  });

  test("serves discovery, a module versions list, a provider package and its signed download", async () => {
    expect(await (await get("/.well-known/terraform.json")).json()).toEqual({ "modules.v1": "/opendepot/modules/v1/", "providers.v1": "/opendepot/providers/v1/" });
    expect(await (await get("/opendepot/modules/v1/default/network/aws/versions")).json()).toEqual({ modules: [{ versions: [{ version: "1.2.0" }] }] });
    const meta = await (await get("/opendepot/providers/v1/default/widget/2.1.0/download/linux/amd64")).json();
    expect(meta).toMatchObject({ os: "linux", arch: "amd64", protocols: ["5.0"] });
    expect(meta.filename).toMatch(/\.zip$/);
    expect(meta.signing_keys.gpg_public_keys).toHaveLength(1);
    const download = await get(meta.download_url);
    expect(download.status).toBe(200);
    const zip = new Uint8Array(await download.arrayBuffer());
    expect(new Bun.CryptoHasher("sha256").update(zip).digest("hex")).toBe(meta.shasum);
    const sums = await (await get(meta.shasums_url)).text();
    expect(sums).toContain(`${meta.shasum}  ${meta.filename}`);
    const signature = await get(meta.shasums_signature_url);
    expect(signature.status).toBe(200);
    expect((await signature.arrayBuffer()).byteLength).toBeGreaterThan(100);
  });

  test("terraform init installs the module at its root and its //modules/sub submodule; validate passes", async () => {
    await installSampleModules(server.url);
  }, 120_000);

  test("terraform init installs the provider for linux_amd64, verified through the registry's signature", async () => {
    await installSampleProvider(server.url);
  }, 120_000);

  test("the invalid manifest document is reported with file, document and field; the rest still load", async () => {
    const report = server.logs().find((l) => l.msg === "invalid manifest" && String(l.problem).includes("mixed.yaml"));
    expect(String(report?.problem)).toMatch(/mixed\.yaml doc 1: spec\.moduleConfig\.repoOwnr: unknown field/);
    const gadget = await get("/opendepot/providers/v1/default/gadget/versions");
    expect(gadget.status).toBe(200);
    expect(await gadget.json()).toEqual({ versions: [] });
    expect((await get("/opendepot/modules/v1/default/broken/aws/versions")).status).toBe(404);
  });

  test("an altered or unsigned download URL → 403", async () => {
    const meta = await (await get("/opendepot/providers/v1/default/widget/2.1.0/download/linux/amd64")).json();
    const url = new URL(meta.download_url, server.url);
    const sig = url.searchParams.get("signature")!;
    url.searchParams.set("signature", (sig[0] === "A" ? "B" : "A") + sig.slice(1));
    expect((await get(url.pathname + url.search)).status).toBe(403);
    expect((await get(new URL(meta.download_url, server.url).pathname)).status).toBe(403);
  });

  test("hostile paths and methods → 4xx, never 5xx", async () => {
    for (const path of ["/opendepot/modules/v1/default/..%2f..%2fetc/aws/versions", "/opendepot/modules/v1/default/../../../etc/passwd", "/opendepot/providers/v1/default/widget/2.1.0/download/linux/amd64/..%2f..%2f..%2fstore.db", `/${"x/".repeat(3000)}`]) {
      const status = await rawRequest(server.port, "GET", path);
      expect({ path: path.slice(0, 80), ok: status >= 400 && status < 500 }).toEqual({ path: path.slice(0, 80), ok: true });
    }
    for (const method of ["POST", "PUT", "DELETE", "PATCH"]) expect((await get("/opendepot/modules/v1/default/network/aws/versions", { method })).status).toBe(405);
  });

  test("a tampered stored artifact is never served, and is served again once restored", async () => {
    const build = fixture.builds.find((b) => b.spec.operatingSystem === "linux") as VersionObject;
    const path = join(fixture.dataDir, "artifacts", locateArtifact(build, fixture.storageFor).key);
    const original = await readFile(path);
    const metaPath = "/opendepot/providers/v1/default/widget/2.1.0/download/linux/amd64";
    try {
      await writeFile(path, Buffer.concat([original, Buffer.from("tampered")]));
      const r = await get((await (await get(metaPath)).json()).download_url);
      expect(r.status).toBe(503);
      expect(JSON.stringify(await r.json())).toContain("integrity");
      const ws = await TerraformWorkspace.create(server.url, { "main.tf": sampleProviderConfig() });
      expect((await ws.run("init")).exitCode).not.toBe(0);
    } finally {
      await writeFile(path, original);
    }
    const r = await get((await (await get(metaPath)).json()).download_url);
    expect(r.status).toBe(200);
    expect(new Uint8Array(await r.arrayBuffer())).toEqual(new Uint8Array(original));
  }, 120_000);

  test("state survives a restart of the Deno process", async () => {
    expect(await server.stop()).toBe(0);
    server = await start();
    await installSampleModules(server.url);
    const ws = await installSampleProvider(server.url);
    const binary = join(ws.dir, ".terraform/providers/registry.local/default/widget/2.1.0/linux_amd64/terraform-provider-widget_v2.1.0");
    expect(await readFile(binary, "utf8")).toBe(PROVIDER_BINARIES.linux_amd64);
  }, 120_000);
});
