// Acceptance: the real Terraform CLI installs a module (with a submodule) and a multi-platform provider from
// `opendepot standalone`, across a restart and a manifest edit; tampering and hostile input are refused.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { VersionObject } from "../../src/api/kinds.ts";
import { locateArtifact } from "../../src/storage/locate.ts";
import { startStandalone, type StandaloneProcess } from "../support/standalone-process.ts";
import { rawRequest, waitFor, type JsonResponse } from "../support/ports.ts";
import { TERRAFORM, TerraformWorkspace } from "../support/terraform.ts";
import { installSampleModules, installSampleProvider, sampleProviderConfig } from "../support/sample-registry.ts";
import { createFixtureRegistry, MANIFESTS } from "./fixture-registry.ts";

let fixture: Awaited<ReturnType<typeof createFixtureRegistry>>;
let server: StandaloneProcess;

beforeAll(async () => {
  if (!existsSync(TERRAFORM)) throw new Error(`Terraform CLI not found at ${TERRAFORM}: the acceptance tests need it`);
  fixture = await createFixtureRegistry();
  server = await startStandalone({ dataDir: fixture.dataDir, manifests: fixture.manifests, extra: ["--controllers", ""] });
});

afterAll(async () => {
  await server?.stop();
});

const installModules = (system = "aws") => installSampleModules(server.url, { system });
const installProvider = () => installSampleProvider(server.url);

describe("terraform init against opendepot standalone", () => {
  test("installs the module at its root and its //modules/sub submodule; validate passes", async () => {
    await installModules();
  });

  test("installs the provider for linux_amd64, verified through the registry's signature", async () => {
    await installProvider();
  });

  test("the invalid manifest document is reported with file, document and field; the rest still load", async () => {
    const report = server.logs().find((l) => l.msg === "invalid manifest" && String(l.problem).includes("mixed.yaml"));
    expect(String(report?.problem)).toMatch(/mixed\.yaml doc 1: spec\.moduleConfig\.repoOwnr: unknown field/);
    const gadget = (await fetch(`${server.url}/opendepot/providers/v1/default/gadget/versions`)) as JsonResponse;
    expect(gadget.status).toBe(200);
    expect(await gadget.json()).toEqual({ versions: [] });
    expect((await fetch(`${server.url}/opendepot/modules/v1/default/broken/aws/versions`)).status).toBe(404);
  });

  test("state survives a restart of the process", async () => {
    expect(await server.stop()).toBe(0);
    server = await startStandalone({ dataDir: fixture.dataDir, manifests: fixture.manifests, extra: ["--controllers", ""] });
    await installModules();
    await installProvider();
  });

  test("an edited manifest is picked up while running", async () => {
    await writeFile(join(fixture.manifests, "module.yaml"), MANIFESTS["module.yaml"].replace("provider: aws", "provider: azurerm"));
    await waitFor(async () => (await fetch(`${server.url}/opendepot/modules/v1/default/network/azurerm/versions`)).status === 200, 15_000, "edited manifest");
    expect((await fetch(`${server.url}/opendepot/modules/v1/default/network/aws/versions`)).status).toBe(404);
    await installModules("azurerm");
    await writeFile(join(fixture.manifests, "module.yaml"), MANIFESTS["module.yaml"]);
    await waitFor(async () => (await fetch(`${server.url}/opendepot/modules/v1/default/network/aws/versions`)).status === 200, 15_000, "restored manifest");
  });
});

describe("refusals", () => {
  const get = (path: string, init?: RequestInit) => fetch(new URL(path, server.url), { redirect: "manual", ...init }) as Promise<JsonResponse>;

  test("unknown module, provider, version and platform → 404 with an errors body", async () => {
    for (const path of [
      "/opendepot/modules/v1/default/nope/aws/versions",
      "/opendepot/modules/v1/other/network/aws/versions",
      "/opendepot/modules/v1/default/network/aws/9.9.9/download",
      "/opendepot/providers/v1/default/nope/versions",
      "/opendepot/providers/v1/default/widget/9.9.9/download/linux/amd64",
      "/opendepot/providers/v1/default/widget/2.1.0/download/windows/amd64",
    ]) {
      const r = await get(path);
      expect({ path, status: r.status }).toEqual({ path, status: 404 });
      expect((await r.json()).errors).toHaveLength(1);
    }
  });

  test("an altered or unsigned download URL → 403", async () => {
    const meta = await (await get("/opendepot/providers/v1/default/widget/2.1.0/download/linux/amd64")).json();
    expect((await get(meta.download_url)).status).toBe(200);
    const url = new URL(meta.download_url, server.url);
    const sig = url.searchParams.get("signature")!;
    url.searchParams.set("signature", (sig[0] === "A" ? "B" : "A") + sig.slice(1));
    expect((await get(url.pathname + url.search)).status).toBe(403);
    url.searchParams.set("expires", String(Number(url.searchParams.get("expires")) + 3600));
    expect((await get(url.pathname + url.search)).status).toBe(403);
    expect((await get(url.pathname)).status).toBe(403);
    // A URL for the darwin build does not open the linux build.
    const darwin = await (await get("/opendepot/providers/v1/default/widget/2.1.0/download/darwin/arm64")).json();
    const swapped = darwin.download_url.replace("/darwin/arm64/", "/linux/amd64/");
    expect((await get(swapped)).status).toBe(403);
  });

  test("hostile paths and methods → 4xx, never 5xx", async () => {
    const paths = [
      "/opendepot/modules/v1/default/..%2f..%2fetc/aws/versions",
      "/opendepot/modules/v1/%2e%2e/network/aws/versions",
      "/opendepot/modules/v1/default/network%2Faws/aws/versions",
      "/opendepot/modules/v1/default/network/aws/..%2F..%2F1.2.0/download",
      "/opendepot/modules/v1/default/network/aws/1.2.0%00/download",
      `/opendepot/modules/v1/default/${"a".repeat(300)}/aws/versions`,
      `/opendepot/modules/v1/default/network/aws/1.2.0-${"x".repeat(200)}/download`,
      "/opendepot/providers/v1/default/widget/2.1.0/download/linux%2F..%2F/amd64",
      "/opendepot/providers/v1/default/widget/2.1.0/download/LINUX/amd64",
      "/opendepot/providers/v1/default/widget/not-a-version/download/linux/amd64",
      "/opendepot/modules/v1/default/network/aws/1.2.0/archive/..%2F..%2Fstore.db",
      "/opendepot/providers/v1/default/widget/2.1.0/download/linux/amd64/..%2f..%2f..%2fstore.db",
      `/${"x/".repeat(3000)}`,
      "/etc/passwd",
    ];
    for (const path of [...paths, "/opendepot/modules/v1/default/../../../etc/passwd", "/opendepot/modules/v1/default/network/aws/1.2.0/archive/../../../../store.db"]) {
      // Raw request lines: fetch would normalise the dot segments away before they reach the server.
      const status = await rawRequest(server.port, "GET", path);
      expect({ path: path.slice(0, 80), ok: status >= 400 && status < 500 }).toEqual({ path: path.slice(0, 80), ok: true });
    }
    for (const method of ["POST", "PUT", "DELETE", "PATCH", "TRACE"]) {
      const r = await get("/opendepot/modules/v1/default/network/aws/versions", { method });
      expect(r.status).toBe(405);
    }
  });

  test("a tampered stored artifact is never served, and is served again once restored", async () => {
    const build = fixture.builds.find((b) => b.spec.operatingSystem === "linux") as VersionObject;
    const { key } = locateArtifact(build, fixture.storageFor);
    const path = join(fixture.dataDir, "artifacts", key);
    const original = await readFile(path);
    const metaPath = "/opendepot/providers/v1/default/widget/2.1.0/download/linux/amd64";
    try {
      await writeFile(path, Buffer.concat([original, Buffer.from("tampered")]));
      const meta = await (await get(metaPath)).json();
      const r = await get(meta.download_url);
      expect(r.status).toBe(503);
      expect(JSON.stringify(await r.json())).toContain("integrity");
      const ws = await TerraformWorkspace.create(server.url, { "main.tf": sampleProviderConfig() });
      expect((await ws.run("init")).exitCode).not.toBe(0);
      // Logged in batches through a pipe: wait for the line (bounded) rather than read the moment init exits.
      await waitFor(() => server.logs().some((l) => l.msg === "artifact failed integrity verification; refusing to serve it"), 10_000, "the integrity refusal's log line");
    } finally {
      await writeFile(path, original);
    }
    const meta = await (await get(metaPath)).json();
    const r = await get(meta.download_url);
    expect(r.status).toBe(200);
    expect(new Uint8Array(await r.arrayBuffer())).toEqual(new Uint8Array(original));
  });
});
