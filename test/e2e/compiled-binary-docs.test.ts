// The container image's binary documents modules too: built with the Containerfile's own `bun build --compile`
// line, run from a directory with no node_modules, it must find the HCL parser worker and its wasm inside itself.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ModuleDocs } from "../../src/api/module-docs.ts";
import { moduleDocsFixtureTree } from "../../fixtures/module-docs/index.ts";
import { startSampleUpstreams, type SampleUpstreams } from "../../fixtures/upstream-fakes.ts";
import { freePort, waitFor } from "../support/ports.ts";

const repoRoot = join(import.meta.dir, "..", "..");
let root: string;
let upstreams: SampleUpstreams;
let registry: ReturnType<typeof Bun.spawn> | undefined;

/** The Containerfile's build command, pointed at our output file. */
async function containerBuildCommand(outfile: string): Promise<string[]> {
  const line = (await readFile(join(repoRoot, "Containerfile"), "utf8")).split("\n").find((l) => /^RUN bun build --compile /.test(l));
  if (!line) throw new Error("Containerfile has no `RUN bun build --compile` line");
  const args = line.replace(/^RUN /, "").trim().split(/\s+/);
  const out = args.indexOf("--outfile");
  args[out + 1] = outfile;
  return args;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "opendepot-compiled-"));
  upstreams = await startSampleUpstreams();
  upstreams.github.addRepo("acme", "terraform-azurerm-network", { releases: ["v2.0.0"], files: () => moduleDocsFixtureTree("terraform-azurerm-network") });
});

afterAll(async () => {
  registry?.kill();
  await registry?.exited;
  await upstreams?.stop();
  await rm(root, { recursive: true, force: true });
});

test("the compiled binary extracts module docs (worker and wasm embedded)", async () => {
  const binary = join(root, "opendepot");
  const build = Bun.spawnSync(await containerBuildCommand(binary), { cwd: repoRoot, stdout: "pipe", stderr: "pipe" });
  expect(build.stderr.toString()).not.toContain("error");
  expect(build.exitCode).toBe(0);

  await mkdir(join(root, "manifests"));
  await writeFile(
    join(root, "manifests", "module.yaml"),
    "apiVersion: opendepot.defdev.io/v1alpha1\nkind: Module\nmetadata: { name: terraform-azurerm-network, namespace: default }\nspec:\n  moduleConfig: { repoOwner: acme, provider: azurerm, fileFormat: zip }\n  versions: [ { version: v2.0.0 } ]\n",
  );
  const cwd = join(root, "empty");
  await mkdir(cwd);
  registry = Bun.spawn([binary, "standalone", "--listen", `127.0.0.1:${freePort()}`, "--admin-listen", `127.0.0.1:${freePort()}`, "--data-dir", join(root, "data"), "--manifests", join(root, "manifests")], {
    cwd,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: root, ...upstreams.env },
    stdout: "ignore",
    stderr: "ignore",
  });
  const kubectl = (...args: string[]) => Bun.spawnSync(["kubectl", ...args], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: root, KUBECONFIG: join(root, "data", "kubeconfig") } });
  const json = await waitFor(() => {
    const r = kubectl("get", "configmap", "terraform-azurerm-network-2-0-0-docs", "-o", "jsonpath={.data.docs\\.json}");
    return r.exitCode === 0 && r.stdout.length > 0 ? r.stdout.toString() : undefined;
  }, 90_000, "docs ConfigMap from the compiled binary");
  const docs = JSON.parse(json) as ModuleDocs;
  // Parsed by HashiCorp's parser: the one broken file is reported with its diagnostic, the others are documented.
  expect(docs.errors.find((e) => e.file === "network_security.tf")?.message).toStartWith("network_security.tf:15,18-16,1: Invalid expression;");
  expect(docs.errors.some((e) => e.message.startsWith("not parsed"))).toBe(false);
  expect(docs.root.inputs.map((i) => i.name)).toContain("resource_group_name");
  const reason = kubectl("get", "version", "terraform-azurerm-network-2-0-0", "-o", "jsonpath={.status.conditions[?(@.type==\"DocsExtracted\")].reason}");
  expect(reason.stdout.toString()).toBe("ParseErrors");
}, 180_000);
