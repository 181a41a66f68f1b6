// Acceptance for the Depot (issue 6): one Depot with two module entries and one provider entry, against the fake
// GitHub and OpenTofu registry, all the way to artifacts the real Terraform CLI installs — then new upstream
// releases, hand-added versions, outages, rate limits, an invalid entry and the Depot's deletion.
// In-process: embedded store, Depot + Module + Provider + Version controllers, the registry server. A Depot
// "minute" lasts 500 ms here, so `pollingIntervalMinutes: 1` polls twice a second.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sampleModuleFiles, startSampleUpstreams, type SampleUpstreams } from "../../fixtures/upstream-fakes.ts";
import { Depot, Module, Provider, Version, type DepotObject, type ModuleObject, type ProviderObject, type VersionObject } from "../../src/api/kinds.ts";
import { API_VERSION, DEPOT_VERSIONS_ANNOTATION, LABELS, type KubeObject } from "../../src/api/meta.ts";
import type { DepotEntryStatus } from "../../src/api/types.ts";
import { SigningKey } from "../../src/artifacts/signing.ts";
import { DepotController } from "../../src/controllers/depot-controller.ts";
import { ControllerManager } from "../../src/controllers/manager.ts";
import { ModuleController } from "../../src/controllers/module-controller.ts";
import { ProviderController } from "../../src/controllers/provider-controller.ts";
import { Upstreams } from "../../src/controllers/upstreams.ts";
import { VersionController } from "../../src/controllers/version-controller.ts";
import { silentLogger } from "../../src/log.ts";
import { startRegistryServer } from "../../src/roles/registry-server.ts";
import { storageFactory } from "../../src/storage/factory.ts";
import { EmbeddedStore } from "../../src/store/embedded.ts";
import { waitFor, type JsonResponse } from "../support/ports.ts";
import { TERRAFORM, TerraformWorkspace } from "../support/terraform.ts";

const NS = "default";
const VPC = "terraform-aws-vpc";
const S3 = "terraform-aws-s3";
const NULL = "null";

let upstreams: SampleUpstreams;
let store: EmbeddedStore;
let manager: ControllerManager;
let server: { stop(): void };
let http: { url: URL; stop(force?: boolean): Promise<void> | void };
let url: string;

beforeAll(async () => {
  if (!existsSync(TERRAFORM)) throw new Error(`Terraform CLI not found at ${TERRAFORM}: the acceptance tests need it`);
  upstreams = await startSampleUpstreams();
  upstreams.github.addRelease("acme", VPC, "v1.3.0", sampleModuleFiles("v1.3.0"));
  upstreams.opentofu.addProvider("hashicorp", NULL, { versions: ["2.0.0", "2.1.0", "2.1.2", "3.0.0"] });
  const root = await mkdtemp(join(tmpdir(), "opendepot-depot-e2e-"));
  store = EmbeddedStore.open(join(root, "store.db"));
  const storageFor = storageFactory({ defaultRoot: join(root, "artifacts") });
  const clients = new Upstreams(store, { githubApiUrl: upstreams.github.url, opentofuRegistryUrl: upstreams.opentofu.url });
  manager = new ControllerManager(store, { log: silentLogger, resyncMs: 0, backoff: { baseMs: 100, maxMs: 2000 } });
  manager.add(new DepotController(store, manager, { upstreams: clients, minuteMs: 500, backoffBaseMs: 200 }));
  manager.add(new ModuleController(store, manager));
  manager.add(new ProviderController(store, manager));
  manager.add(new VersionController(store, manager, { storageFor, upstreams: clients, tmpDir: root, concurrency: 4 }));
  await manager.start();
  const signer = await SigningKey.generate({ name: "Depot Test Registry", email: "depot@example.com", rsaBits: 2048 });
  const registry = await startRegistryServer({ store, storageFor, signer, urlKey: new Uint8Array(32).fill(7), urlTtlSeconds: 900, log: silentLogger });
  server = registry;
  http = registry.listen("127.0.0.1", 0);
  url = http.url.toString().replace(/\/$/, "");
});

afterAll(async () => {
  await http?.stop(true);
  server?.stop();
  await manager?.stop();
  await store?.close();
  await upstreams?.stop();
});

const get = <T extends KubeObject>(kind: typeof Module | typeof Provider | typeof Depot | typeof Version, name: string) => store.get<T>(kind, NS, name);
const until = <T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 20_000) => waitFor(fn, timeoutMs, what);
type Listed = { spec: { versions: { version?: string }[]; depotVersions?: { version?: string }[] } } | undefined;
/** What a Module/Provider wants served: the person's list and the Depot's (docs/ownership.md). */
const versionsOf = (o: Listed) => [...new Set([...(o?.spec.versions ?? []), ...(o?.spec.depotVersions ?? [])].map((v) => v.version!))].sort();
const entry = async (kind: string, name: string): Promise<DepotEntryStatus | undefined> =>
  (await get<DepotObject>(Depot, "mirror"))?.status?.entries?.find((e) => e.kind === kind && e.name === name);
const ready = async (kind: typeof Module | typeof Provider, name: string, versions: string[]) => {
  const o = await get<ModuleObject | ProviderObject>(kind, name);
  return o && o.status?.synced === true && o.metadata.generation === o.status.observedGeneration && versions.every((v) => versionsOf(o).includes(v)) ? o : undefined;
};
const served = async (path: string) => {
  const r = (await fetch(`${url}${path}`)) as JsonResponse;
  return r.status === 200 ? ((await r.json()) as { modules?: { versions: { version: string }[] }[]; versions?: { version: string }[] }) : undefined;
};
const servedModuleVersions = async (name: string) => (await served(`/opendepot/modules/v1/${NS}/${name}/aws/versions`))?.modules?.[0]?.versions.map((v) => v.version).sort() ?? [];
const servedProviderVersions = async (name: string) => (await served(`/opendepot/providers/v1/${NS}/${name}/versions`))?.versions?.map((v) => v.version).sort() ?? [];
/** Waits for the entry's next poll after now. */
async function nextPoll(kind: string, name: string) {
  const since = Date.now();
  return until(`a poll of ${kind} ${name}`, async () => {
    const e = await entry(kind, name);
    return e?.lastPollTime && Date.parse(e.lastPollTime) >= Math.floor(since / 1000) * 1000 + 1000 ? e : undefined;
  });
}

async function terraformInit(pins: { vpc: string; s3: string; null: string }) {
  const ws = await TerraformWorkspace.create(url, {
    "main.tf": `
module "vpc" {
  source  = "registry.local/${NS}/${VPC}/aws"
  version = "${pins.vpc}"
}

module "s3" {
  source  = "registry.local/${NS}/${S3}/aws"
  version = "${pins.s3}"
}

terraform {
  required_providers {
    null = {
      source  = "registry.local/${NS}/${NULL}"
      version = "${pins.null}"
    }
  }
}
`,
  });
  const init = await ws.run("init");
  expect(init.stderr).toBe("");
  expect(init.exitCode).toBe(0);
  expect(init.stdout).toContain(`Installed registry.local/${NS}/${NULL} v${pins.null}`);
  expect(await readFile(join(ws.dir, ".terraform/modules/vpc/main.tf"), "utf8")).toBe(sampleModuleFiles("x")["main.tf"] as string);
  expect(existsSync(join(ws.dir, `.terraform/providers/registry.local/${NS}/${NULL}/${pins.null}/linux_amd64/terraform-provider-${NULL}_v${pins.null}`))).toBe(true);
}

describe("Depot: from upstream discovery to terraform init", () => {
  test("two module entries and a provider entry create the right Modules, Providers and Versions; Terraform installs them", async () => {
    await store.create<DepotObject>({
      apiVersion: API_VERSION,
      kind: "Depot",
      metadata: { name: "mirror", namespace: NS },
      spec: {
        global: { storageConfig: { fileSystem: {} }, moduleConfig: { fileFormat: "zip", immutable: true } },
        moduleConfigs: [
          { name: VPC, provider: "aws", repoOwner: "acme", versionConstraints: ">= 1.0.0, != 1.3.0" },
          { name: S3, provider: "aws", repoOwner: "acme", versionConstraints: "~> 2.1" },
        ],
        providerConfigs: [{ name: NULL, operatingSystems: ["linux"], architectures: ["amd64", "arm64"], versionConstraints: "~> 2.1" }],
        pollingIntervalMinutes: 1,
      },
    });
    const vpc = (await until("vpc synced", () => ready(Module, VPC, ["1.2.0", "2.0.0"]))) as ModuleObject;
    expect(versionsOf(vpc)).toEqual(["1.2.0", "2.0.0"]); // not 1.3.0 (excluded), not 2.1.0-rc.1 (prerelease)
    expect(vpc.spec.moduleConfig).toMatchObject({ fileFormat: "zip", immutable: true, repoUrl: `https://github.com/acme/${VPC}` });
    expect(vpc.metadata.labels?.[LABELS.depot]).toBe("mirror");
    expect(vpc.metadata.ownerReferences ?? []).toEqual([]);
    const s3 = (await until("s3 synced", () => ready(Module, S3, ["2.1.0", "2.2.0"])))!;
    expect(versionsOf(s3)).toEqual(["2.1.0", "2.2.0"]);
    const nul = (await until("null synced", () => ready(Provider, NULL, ["2.1.0", "2.1.2"])))!;
    expect(versionsOf(nul)).toEqual(["2.1.0", "2.1.2"]);
    const versions = (await store.list<VersionObject>(Version, { namespace: NS })).items.map((v) => v.metadata.name).sort();
    expect(versions).toEqual([
      `${S3}-2-1-0`, `${S3}-2-2-0`, `${VPC}-1-2-0`, `${VPC}-2-0-0`,
      "null-2-1-0-linux-amd64", "null-2-1-0-linux-arm64", "null-2-1-2-linux-amd64", "null-2-1-2-linux-arm64",
    ].sort());
    const depot = (await until("depot ready", async () => {
      const d = await get<DepotObject>(Depot, "mirror");
      return d?.status?.conditions?.find((c) => c.type === "Ready")?.status === "True" ? d : undefined;
    }))!;
    expect(depot.status).toMatchObject({ modules: [VPC, S3], providers: [NULL], observedGeneration: 1 });
    expect(depot.status?.entries?.map((e) => [e.kind, e.name, e.ready, e.versionsFound, e.versionsMatched])).toEqual([
      ["Module", VPC, true, 4, 2],
      ["Module", S3, true, 4, 2],
      ["Provider", NULL, true, 4, 2],
    ]);
    await terraformInit({ vpc: "2.0.0", s3: "2.2.0", null: "2.1.2" });
  }, 60_000);

  test("new upstream releases are picked up on the next poll without a Depot edit", async () => {
    upstreams.github.addRelease("acme", S3, "v2.3.0", sampleModuleFiles("v2.3.0"));
    upstreams.opentofu.addVersion("hashicorp", NULL, "2.1.5");
    await until("s3 2.3.0 served", async () => (await servedModuleVersions(S3)).includes("2.3.0"));
    await until("null 2.1.5 served", async () => (await servedProviderVersions(NULL)).includes("2.1.5"));
    expect((await get<DepotObject>(Depot, "mirror"))!.metadata.generation).toBe(1);
  }, 30_000);

  test("a hand-added version survives the poll (and is synced and served)", async () => {
    await store.patch(Module, NS, S3, { type: "json", patch: [{ op: "add", path: "/spec/versions/-", value: { version: "1.3.0" } }] });
    await nextPoll("Module", S3);
    await nextPoll("Module", S3);
    const s3 = (await get<ModuleObject>(Module, S3))!;
    expect(versionsOf(s3)).toEqual(["1.3.0", "2.1.0", "2.2.0", "2.3.0"]);
    expect(s3.spec.versions.map((v) => v.version)).toEqual(["1.3.0"]);
    expect(s3.spec.depotVersions?.map((v) => v.version)).toEqual(["2.2.0", "2.1.0", "2.3.0"]);
    expect(s3.metadata.annotations?.[DEPOT_VERSIONS_ANNOTATION]).toBeUndefined();
    await until("hand-added 1.3.0 served", async () => (await servedModuleVersions(S3)).includes("1.3.0"));
  }, 30_000);

  test("an upstream outage (5xx) leaves existing versions untouched and reports a condition; recovery clears it", async () => {
    upstreams.github.failNext(503, 1_000_000, new RegExp(`/repos/acme/${VPC}/`));
    upstreams.opentofu.failNext(503, 1_000_000, new RegExp(`/${NULL}/`));
    const e = (await until("vpc entry fails", async () => {
      const x = await entry("Module", VPC);
      return x && !x.ready ? x : undefined;
    }))!;
    expect(e.reason).toBe("UpstreamUnavailable");
    expect(e.error).toContain("503");
    await until("null entry fails", async () => (await entry("Provider", NULL))?.ready === false);
    const depot = (await get<DepotObject>(Depot, "mirror"))!;
    expect(depot.status?.conditions?.find((c) => c.type === "Ready")).toMatchObject({ status: "False", reason: "UpstreamUnavailable" });
    expect(depot.status?.conditions?.find((c) => c.type === "Ready")?.message).toContain(VPC);
    expect(versionsOf(await get<ModuleObject>(Module, VPC))).toEqual(["1.2.0", "2.0.0"]);
    expect(versionsOf(await get<ProviderObject>(Provider, NULL))).toEqual(["2.1.0", "2.1.2", "2.1.5"]);
    expect(await servedModuleVersions(VPC)).toEqual(["1.2.0", "2.0.0"]);
    expect(await entry("Module", S3)).toMatchObject({ ready: true }); // other entries still poll
    upstreams.github.clearFaults();
    upstreams.opentofu.clearFaults();
    await until("recovered", async () => (await get<DepotObject>(Depot, "mirror"))?.status?.conditions?.find((c) => c.type === "Ready")?.status === "True");
  }, 30_000);

  test("a GitHub rate limit defers the module entries until the reset and leaves their versions untouched", async () => {
    upstreams.github.setRateLimit({ remaining: 0, resetInSeconds: 3 });
    upstreams.github.addRelease("acme", VPC, "v2.2.0", sampleModuleFiles("v2.2.0"));
    const e = (await until("rate limited", async () => {
      const x = await entry("Module", VPC);
      return x?.reason === "RateLimited" ? x : undefined;
    }))!;
    expect(Date.parse(e.nextPollTime!)).toBeGreaterThan(Date.now());
    expect(e.error).toMatch(/rate limit/i);
    expect(versionsOf(await get<ModuleObject>(Module, VPC))).toEqual(["1.2.0", "2.0.0"]);
    expect((await get<DepotObject>(Depot, "mirror"))?.status?.conditions?.find((c) => c.type === "Ready")?.reason).toBe("RateLimited");
    upstreams.github.clearFaults();
    await until("vpc 2.2.0 after the reset", async () => (await servedModuleVersions(VPC)).includes("2.2.0"));
  }, 30_000);

  test("an invalid constraint on one entry is reported on that entry; the others still sync", async () => {
    upstreams.github.addRepo("acme", "terraform-aws-iam", { releases: ["v1.0.0"], files: sampleModuleFiles });
    const d = (await get<DepotObject>(Depot, "mirror"))!;
    d.spec.moduleConfigs!.push({ name: "terraform-aws-iam", provider: "aws", repoOwner: "acme", versionConstraints: ">= banana" });
    await store.update(d);
    const bad = (await until("invalid entry reported", async () => {
      const x = await entry("Module", "terraform-aws-iam");
      return x && !x.ready ? x : undefined;
    }))!;
    expect(bad.reason).toBe("InvalidConstraint");
    expect(bad.error).toContain(">= banana");
    expect(await get<ModuleObject>(Module, "terraform-aws-iam")).toBeUndefined();
    upstreams.github.addRelease("acme", S3, "v2.4.0", sampleModuleFiles("v2.4.0"));
    await until("s3 2.4.0 served despite the bad entry", async () => (await servedModuleVersions(S3)).includes("2.4.0"));
    const depot = (await get<DepotObject>(Depot, "mirror"))!;
    expect(depot.status?.conditions?.find((c) => c.type === "Ready")).toMatchObject({ status: "False", reason: "InvalidConstraint" });
    expect(depot.status?.entries?.filter((e) => e.ready).map((e) => e.name)).toEqual([VPC, S3, NULL]);
  }, 30_000);

  test("deleting the Depot leaves the Modules and Providers serving", async () => {
    await store.delete(Depot, NS, "mirror");
    await until("depot gone", async () => (await get<DepotObject>(Depot, "mirror")) === undefined);
    upstreams.github.addRelease("acme", S3, "v2.5.0", sampleModuleFiles("v2.5.0"));
    await Bun.sleep(1500); // three former polling intervals
    expect(versionsOf(await get<ModuleObject>(Module, S3))).not.toContain("2.5.0");
    expect(await get<ModuleObject>(Module, VPC)).toBeDefined();
    expect(await get<ProviderObject>(Provider, NULL)).toBeDefined();
    expect((await store.list<VersionObject>(Version, { namespace: NS })).items.length).toBeGreaterThanOrEqual(12);
    await terraformInit({ vpc: "~> 2.2", s3: "1.3.0", null: "2.1.5" });
  }, 60_000);
});
