// Acceptance with the real Terraform CLI and the controllers against the fake OpenTofu registry: deprecating and
// yanking provider versions through the Provider's spec.versions entries. A deprecated version's message reaches
// `terraform init`; `~>` never picks a yanked version; a lock file naming a yanked version still installs within
// the grace period (measured from status.yankedAt, which the Version controller records) while a newer release of
// its MAJOR.MINOR shields it (src/server/lifecycle.ts says why that condition is needed), and not after it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { Module, Provider, Version, type ModuleObject, type ProviderObject, type VersionObject } from "../../src/api/kinds.ts";
import { API_VERSION } from "../../src/api/meta.ts";
import { startSampleUpstreams, type SampleUpstreams } from "../../fixtures/upstream-fakes.ts";
import { startHarness, type Harness } from "../support/registry-harness.ts";
import { TERRAFORM, TerraformWorkspace } from "../support/terraform.ts";

let upstreams: SampleUpstreams;
let h: Harness;
const DAY = 86_400_000;

const config = (constraint: string) => `terraform {\n  required_providers {\n    random = {\n      source  = "registry.local/default/random"\n      version = "${constraint}"\n    }\n  }\n}\n`;
const provider = (versions: ProviderObject["spec"]["versions"]): ProviderObject => ({
  apiVersion: API_VERSION,
  kind: "Provider",
  metadata: { name: "random", namespace: "default" },
  spec: { providerConfig: { operatingSystems: ["linux"], architectures: ["amd64"] }, versions },
});

beforeAll(async () => {
  if (!existsSync(TERRAFORM)) throw new Error(`Terraform CLI not found at ${TERRAFORM}: the acceptance tests need it`);
  upstreams = await startSampleUpstreams();
  h = await startHarness({ env: upstreams.env });
}, 60_000);

afterAll(async () => {
  await h?.stop();
  await upstreams?.stop();
});

async function init(ws: TerraformWorkspace) {
  await rm(join(ws.dir, ".terraform"), { recursive: true, force: true });
  const r = await ws.run("init");
  return { ...r, output: (r.stdout + r.stderr).replace(/\s+/g, " ") };
}
const lockedVersion = async (ws: TerraformWorkspace) => /version\s+=\s+"([^"]+)"/.exec(await readFile(join(ws.dir, ".terraform.lock.hcl"), "utf8"))?.[1];

describe("deprecate and yank provider versions", () => {
  let locked: TerraformWorkspace;
  const setVersions = async (versions: ProviderObject["spec"]["versions"]) => {
    const p = (await h.get<ProviderObject>(Provider, "random"))!;
    await h.store.update<ProviderObject>({ ...p, spec: { ...p.spec, versions } });
  };
  const DEPRECATED = { version: "3.6.0", deprecated: { message: "3.6.0 leaks seeds, move to 3.7", link: "https://example.com/random-3.7" } };
  const YANKED = { reason: "broken checksum upstream" };

  test("three versions sync; a workspace locks 3.6.1, then relaxes its constraint to ~> 3.6 (the lock still decides)", async () => {
    upstreams.opentofu.addVersion("hashicorp", "random", "3.6.1");
    await h.store.create(provider([{ version: "3.6.0" }, { version: "3.6.1" }, { version: "3.6.3" }]));
    await h.until<ProviderObject>(Provider, "random", (p) => p.status?.synced === true, 60_000);
    locked = await TerraformWorkspace.create(h.url, { "main.tf": config("3.6.1") });
    const r = await init(locked);
    expect({ exitCode: r.exitCode, stderr: r.stderr }).toEqual({ exitCode: 0, stderr: "" });
    await locked.write("main.tf", config("~> 3.6"));
    expect((await init(locked)).exitCode).toBe(0);
    expect(await lockedVersion(locked)).toBe("3.6.1");
  }, 90_000);

  test("yank 3.6.1 and deprecate 3.6.0 in spec.versions: the Versions follow, yankedAt is recorded", async () => {
    const before = Date.now();
    await setVersions([DEPRECATED, { version: "3.6.1", yanked: YANKED }, { version: "3.6.3" }]);
    const yanked = await h.until<VersionObject>(Version, "random-3-6-1-linux-amd64", (v) => !!v.status?.yankedAt);
    expect(yanked.spec.yanked).toEqual(YANKED);
    // Recorded when the yank was first observed: during this step (RFC 3339 seconds), not copied from elsewhere.
    const yankedAt = Date.parse(yanked.status!.yankedAt!);
    expect(yankedAt).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(yankedAt).toBeLessThanOrEqual(Date.now());
    const deprecated = await h.until<VersionObject>(Version, "random-3-6-0-linux-amd64", (v) => !!v.spec.deprecated);
    expect(deprecated.spec.deprecated?.message).toBe("3.6.0 leaks seeds, move to 3.7");
  }, 30_000);

  test("the lock file naming the yanked 3.6.1 still installs within the grace period, with the yank shown", async () => {
    const r = await init(locked);
    expect({ exitCode: r.exitCode, output: r.output }).toEqual({ exitCode: 0, output: expect.stringContaining("Installed registry.local/default/random v3.6.1") });
    expect(r.output).toContain("version 3.6.1 is yanked: broken checksum upstream; lock files naming it keep installing until");
    expect(await lockedVersion(locked)).toBe("3.6.1");
  }, 60_000);

  test("a fresh ~> 3.6.1 never picks the yanked 3.6.1", async () => {
    const fresh = await TerraformWorkspace.create(h.url, { "main.tf": config("~> 3.6.1") });
    expect((await init(fresh)).exitCode).toBe(0);
    expect(await lockedVersion(fresh)).toBe("3.6.3");
  }, 60_000);

  test("yanking the newest (3.6.3) too: ~> 3.6 gets 3.6.0 and terraform init prints its deprecation", async () => {
    await setVersions([DEPRECATED, { version: "3.6.1", yanked: YANKED }, { version: "3.6.3", yanked: YANKED }]);
    await h.until<VersionObject>(Version, "random-3-6-3-linux-amd64", (v) => !!v.status?.yankedAt);
    const fresh = await TerraformWorkspace.create(h.url, { "main.tf": config("~> 3.6") });
    const r = await init(fresh);
    expect(r.exitCode).toBe(0);
    expect(await lockedVersion(fresh)).toBe("3.6.0");
    expect(r.output).toContain("Additional provider information from registry");
    expect(r.output).toContain("version 3.6.0 is deprecated: 3.6.0 leaks seeds, move to 3.7 (https://example.com/random-3.7)");
    // Nothing newer of 3.6.x shields 3.6.1 now, so it left the list: the CLI refuses the lock (documented trade-off).
    const lockedRun = await init(locked);
    expect(lockedRun.exitCode).not.toBe(0);
    expect(lockedRun.output).toContain("the previously-selected version 3.6.1 is no longer available");
  }, 60_000);

  test("after the grace period the locked install fails even when shielded, and the registry says why", async () => {
    await setVersions([DEPRECATED, { version: "3.6.1", yanked: YANKED }, { version: "3.6.3" }]);
    await h.until<VersionObject>(Version, "random-3-6-3-linux-amd64", (v) => !v.status?.yankedAt);
    expect((await init(locked)).exitCode).toBe(0);
    const v = (await h.get<VersionObject>(Version, "random-3-6-1-linux-amd64"))!;
    await h.store.updateStatus<VersionObject>({ ...v, status: { ...v.status, yankedAt: new Date(Date.now() - 31 * DAY).toISOString().replace(/\.\d{3}Z$/, "Z") } });
    const meta = await fetch(`${h.url}/opendepot/providers/v1/default/random/3.6.1/download/linux/amd64`);
    expect(meta.status).toBe(404);
    expect(((await meta.json()) as { errors: string[] }).errors).toEqual(["provider default/random version 3.6.1 was yanked: broken checksum upstream"]);
    const r = await init(locked);
    expect(r.exitCode).not.toBe(0);
    expect(r.output).toContain("3.6.1");
    // The artifact is kept until the version entry is removed.
    expect(await h.get<VersionObject>(Version, "random-3-6-1-linux-amd64")).toBeDefined();
  }, 60_000);

  test("un-yanking clears yankedAt and lists the version again", async () => {
    await setVersions([{ version: "3.6.0" }, { version: "3.6.1" }, { version: "3.6.3" }]);
    const v = await h.until<VersionObject>(Version, "random-3-6-1-linux-amd64", (x) => !x.spec.yanked && !x.status?.yankedAt);
    expect(v.spec.deprecated).toBeUndefined();
    const body = (await (await fetch(`${h.url}/opendepot/providers/v1/default/random/versions`)).json()) as { versions: { version: string }[]; warnings?: string[] };
    expect(body.versions.map((x) => x.version)).toEqual(["3.6.3", "3.6.1", "3.6.0"]);
    expect(body.warnings).toBeUndefined();
    expect((await init(locked)).exitCode).toBe(0);
  }, 60_000);
});

describe("yank a module version", () => {
  test("a yanked module version leaves the versions list, its exact download still answers within grace", async () => {
    const m: ModuleObject = {
      apiVersion: API_VERSION,
      kind: "Module",
      metadata: { name: "terraform-aws-vpc", namespace: "default" },
      spec: { moduleConfig: { repoOwner: "acme", provider: "aws", fileFormat: "zip" }, versions: [{ version: "v1.2.0" }, { version: "2.0.0", yanked: { reason: "bad release" } }] },
    };
    await h.store.create(m);
    await h.until<ModuleObject>(Module, "terraform-aws-vpc", (x) => x.status?.synced === true, 60_000);
    expect(await (await fetch(`${h.url}/opendepot/modules/v1/default/terraform-aws-vpc/aws/versions`)).json()).toEqual({ modules: [{ versions: [{ version: "1.2.0" }] }] });
    expect((await fetch(`${h.url}/opendepot/modules/v1/default/terraform-aws-vpc/aws/2.0.0/download`)).status).toBe(204);
    const ws = await TerraformWorkspace.create(h.url, { "main.tf": 'module "vpc" {\n  source  = "registry.local/default/terraform-aws-vpc/aws"\n  version = ">= 1.0"\n}\n' });
    const r = await ws.run("init");
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("terraform-aws-vpc/aws 1.2.0");
  }, 90_000);
});
