// Acceptance for the controllers: from Module and Provider objects alone, against the fake GitHub and OpenTofu
// registry, to artifacts that the real Terraform CLI installs — and the repair, immutability, verification,
// rate-limit, GC, history-limit and forceSync behaviour around it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Module, Provider, Version, type ModuleObject, type ProviderObject, type VersionObject } from "../../src/api/kinds.ts";
import { API_VERSION, FINALIZER } from "../../src/api/meta.ts";
import { locateArtifact } from "../../src/storage/locate.ts";
import { sampleModuleFiles, startSampleUpstreams, type SampleUpstreams } from "../../fixtures/upstream-fakes.ts";
import { startHarness, type Harness } from "../support/registry-harness.ts";
import { waitFor, type JsonResponse } from "../support/ports.ts";
import { TerraformWorkspace } from "../support/terraform.ts";

let upstreams: SampleUpstreams;
let h: Harness;

const moduleObject = (name: string, versions: string[], config: Record<string, unknown> = {}): ModuleObject => ({
  apiVersion: API_VERSION,
  kind: "Module",
  metadata: { name, namespace: "default" },
  spec: { moduleConfig: { repoOwner: "acme", provider: "aws", fileFormat: "zip", ...config }, versions: versions.map((version) => ({ version })) },
});

const providerObject = (name: string, versions: string[], config: Record<string, unknown> = {}): ProviderObject => ({
  apiVersion: API_VERSION,
  kind: "Provider",
  metadata: { name, namespace: "default" },
  spec: { providerConfig: { operatingSystems: ["linux", "darwin"], architectures: ["amd64", "arm64"], ...config }, versions: versions.map((version) => ({ version })) },
});

const synced = (o: { status?: { synced?: boolean } }) => o.status?.synced === true;
const condition = (o: VersionObject | ModuleObject | ProviderObject, type: string) => o.status?.conditions?.find((c) => c.type === type);
const get = (path: string) => fetch(new URL(path, h.url), { redirect: "manual" }) as Promise<JsonResponse>;
const sha256 = (bytes: Uint8Array) => new Bun.CryptoHasher("sha256").update(bytes).digest("base64");

async function download(moduleName: string, version: string): Promise<{ status: number; bytes?: Uint8Array }> {
  const r = await get(`/opendepot/modules/v1/default/${moduleName}/aws/${version}/download`);
  if (r.status !== 204) return { status: r.status };
  const file = await get(r.headers.get("x-terraform-get")!);
  return { status: file.status, bytes: file.status === 200 ? new Uint8Array(await file.arrayBuffer()) : undefined };
}

beforeAll(async () => {
  upstreams = await startSampleUpstreams();
  h = await startHarness({ env: upstreams.env });
});

afterAll(async () => {
  await h?.stop();
  await upstreams?.stop();
});

describe("from manifests to terraform init", () => {
  test("a Module (tags v1.2.0 and 2.0.0) and a Provider (2 versions × 2 OS × 2 arch) sync, and Terraform installs them", async () => {
    await h.store.create(moduleObject("terraform-aws-vpc", ["v1.2.0", "2.0.0"]));
    await h.store.create(providerObject("aws", ["5.80.0", "5.81.0"]));
    const module = await h.until<ModuleObject>(Module, "terraform-aws-vpc", synced);
    expect(module.status?.latestVersion).toBe("v2.0.0"); // v0.9's form
    expect(module.status?.latestServedVersion).toBe("2.0.0"); // the registry's form, kubectl's LATESTVERSION
    expect(Object.keys(module.status?.moduleVersionRefs ?? {}).sort()).toEqual(["2.0.0", "v1.2.0"]);
    expect(condition(module, "Ready")?.status).toBe("True");
    const provider = await h.until<ProviderObject>(Provider, "aws", synced, 60_000);
    expect(Object.keys(provider.status?.providerVersionRefs ?? {})).toHaveLength(8);
    const build = (await h.get<VersionObject>(Version, "aws-5-81-0-linux-amd64"))!;
    expect(build.metadata.finalizers).toContain(FINALIZER);
    expect(build.status?.h1).toMatch(/^h1:/);
    expect(condition(build, "Synced")?.status).toBe("True");

    const ws = await TerraformWorkspace.create(h.url, {
      "main.tf": `
terraform {
  required_providers {
    aws = { source = "registry.local/default/aws", version = "5.81.0" }
  }
}
module "vpc" {
  source  = "registry.local/default/terraform-aws-vpc/aws"
  version = "1.2.0"
}
module "sub" {
  source  = "registry.local/default/terraform-aws-vpc/aws//modules/sub"
  version = "2.0.0"
  name    = "x"
}
`,
    });
    const init = await ws.run("init");
    expect(init.stdout + init.stderr).toContain("Terraform has been successfully initialized");
    expect(init.exitCode).toBe(0);
    // Repackaged with the module at the root: the archive's files, not GitHub's wrapper directory.
    expect(await readFile(join(ws.dir, ".terraform/modules/vpc/main.tf"), "utf8")).toBe(sampleModuleFiles("v1.2.0")["main.tf"] as string);
    expect(await readFile(join(ws.dir, ".terraform/modules/vpc/README.md"), "utf8")).toContain("(v1.2.0)");
    const binary = await readFile(join(ws.dir, ".terraform/providers/registry.local/default/aws/5.81.0/linux_amd64/terraform-provider-aws_v5.81.0"), "utf8");
    expect(binary).toContain("linux");
    expect(binary).toContain("amd64");
    const lock = await readFile(join(ws.dir, ".terraform.lock.hcl"), "utf8");
    expect(lock).toContain(build.status!.h1!);
  }, 120_000);

  test("the README is kept in a ConfigMap owned by the Version (v0.9 layout)", async () => {
    const v = (await h.get<VersionObject>(Version, "terraform-aws-vpc-1-2-0"))!;
    expect(v.status?.readmeConfigMapRef).toEqual({ name: "terraform-aws-vpc-1-2-0-readme", key: "README.md" });
    const cm = (await h.store.get<{ data: Record<string, string> } & VersionObject>({ group: "", version: "v1", kind: "ConfigMap", plural: "configmaps", namespaced: true }, "default", "terraform-aws-vpc-1-2-0-readme"))!;
    expect(Buffer.from(cm.data["README.md"]!, "base64").toString()).toContain("terraform-aws-vpc (v1.2.0)");
    expect(cm.metadata.ownerReferences?.[0]?.uid).toBe(v.metadata.uid);
  });

  test("repackaging is deterministic: a second sync of the same tag gives the same checksum", async () => {
    const before = (await h.get<VersionObject>(Version, "terraform-aws-vpc-2-0-0"))!;
    const downloadsBefore = upstreams.github.stats.archivesServed;
    await h.store.patch(Version, "default", before.metadata.name, { type: "merge", patch: { spec: { forceSync: true } } });
    const after = await h.until<VersionObject>(Version, before.metadata.name, (v) => v.spec.forceSync !== true && upstreams.github.stats.archivesServed > downloadsBefore);
    expect(after.status?.checksum).toBe(before.status!.checksum!);
    expect(after.spec.fileName).toBe(before.spec.fileName!);
  });
});

describe("keeping artifacts intact", () => {
  test("a deleted stored object is restored", async () => {
    const v = (await h.get<VersionObject>(Version, "terraform-aws-vpc-1-2-0"))!;
    const { storage, key } = locateArtifact(v, h.storageFor);
    await storage.delete(key);
    await waitFor(async () => (await download("terraform-aws-vpc", "1.2.0")).status === 200, 30_000, "restored module");
    const restored = (await h.get<VersionObject>(Version, v.metadata.name))!;
    const { bytes } = await download("terraform-aws-vpc", "1.2.0");
    expect(sha256(bytes!)).toBe(restored.status!.checksum!);
    expect(restored.status?.checksum).toBe(v.status!.checksum!);
  });

  test("an overwritten object is never served, then restored", async () => {
    const v = (await h.get<VersionObject>(Version, "terraform-aws-vpc-2-0-0"))!;
    const { storage, key } = locateArtifact(v, h.storageFor);
    await storage.put(key, new Blob(["not the module"]).stream());
    const first = await download("terraform-aws-vpc", "2.0.0");
    if (first.status === 200) expect(sha256(first.bytes!)).toBe(v.status!.checksum!); // already restored: still right bytes
    else expect(first.status).toBe(503);
    await waitFor(async () => (await download("terraform-aws-vpc", "2.0.0")).status === 200, 30_000, "restored module");
    const { bytes } = await download("terraform-aws-vpc", "2.0.0");
    expect(sha256(bytes!)).toBe(v.status!.checksum!);
  });

  test("an immutable module whose upstream changes keeps serving the published artifact, with a condition", async () => {
    await h.store.create(moduleObject("terraform-aws-s3", ["v1.0.0"], { immutable: true }));
    const v = await h.until<VersionObject>(Version, "terraform-aws-s3-1-0-0", synced);
    upstreams.github.setTagContent("acme", "terraform-aws-s3", "v1.0.0", { "main.tf": "# force-pushed\n" });
    await h.store.patch(Version, "default", v.metadata.name, { type: "merge", patch: { spec: { forceSync: true } } });
    const refused = await h.until<VersionObject>(Version, v.metadata.name, (x) => condition(x, "Synced")?.reason === "ImmutableChecksumMismatch");
    expect(refused.status?.syncStatus).toContain("version is marked immutable");
    expect(refused.status?.checksum).toBe(v.status!.checksum!);
    const served = await download("terraform-aws-s3", "1.0.0");
    expect(served.status).toBe(200);
    expect(sha256(served.bytes!)).toBe(v.status!.checksum!);
  });

  test("an upstream signature that does not verify leaves the provider build unsynced, with the reason", async () => {
    upstreams.opentofu.addProvider("hashicorp", "random", { versions: ["3.7.0"], platforms: [{ os: "linux", arch: "amd64" }] });
    upstreams.opentofu.signatureMode = "unlisted-key";
    try {
      await h.store.create(providerObject("random", ["3.7.0"], { operatingSystems: ["linux"], architectures: ["amd64"] }));
      const v = await h.until<VersionObject>(Version, "random-3-7-0-linux-amd64", (x) => condition(x, "Synced")?.reason === "UpstreamVerificationFailed");
      expect(v.status?.synced).toBe(false);
      expect(v.status?.syncStatus).toContain("did not verify");
      expect((await get("/opendepot/providers/v1/default/random/3.7.0/download/linux/amd64")).status).toBe(404);
    } finally {
      upstreams.opentofu.signatureMode = "valid";
    }
    await h.until<VersionObject>(Version, "random-3-7-0-linux-amd64", synced, 60_000);
  }, 90_000);
});

describe("upstream trouble", () => {
  test("a GitHub rate limit is waited out, not hammered, and then the version syncs", async () => {
    upstreams.github.setRateLimit({ remaining: 0, resetInSeconds: 3 });
    const before = upstreams.github.stats.apiRequests;
    await h.store.create(moduleObject("terraform-aws-s3-limited", ["v1.3.0"], { name: "terraform-aws-s3" }));
    const limited = await h.until<VersionObject>(Version, "terraform-aws-s3-limited-1-3-0", (x) => condition(x, "Synced")?.reason === "RateLimited");
    expect(limited.status?.synced).toBe(false);
    await h.until<VersionObject>(Version, "terraform-aws-s3-limited-1-3-0", synced, 30_000);
    // One refused attempt, then one after the reset; not a retry loop.
    expect(upstreams.github.stats.apiRequests - before).toBeLessThanOrEqual(6);
  }, 60_000);
});

describe("GitHub App authentication", () => {
  test("a private repository syncs with the App credentials from the namespace Secret; without them it reports why", async () => {
    upstreams.github.addRepo("acme", "terraform-private-net", { releases: ["v0.1.0"], files: sampleModuleFiles, private: true });
    await h.store.create(moduleObject("terraform-private-net", ["v0.1.0"], { githubClientConfig: { useAuthenticatedClient: true } }));
    const missing = await h.until<VersionObject>(Version, "terraform-private-net-0-1-0", (x) => x.status?.syncStatus?.includes("does not exist") === true);
    expect(missing.status?.synced).toBe(false);
    const pem = await readFile(join(import.meta.dir, "../../fixtures/keys/github-app.private.pem"), "utf8");
    const b64 = (text: string) => Buffer.from(text).toString("base64");
    // v0.9's layout: githubPrivateKey holds base64 of the PEM, so the Secret's data is double-base64.
    await h.store.create({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "opendepot-github-application-secret", namespace: "default" },
      data: { githubAppID: b64("12345"), githubInstallID: b64("678"), githubPrivateKey: b64(b64(pem)) },
    });
    const tokensBefore = upstreams.github.stats.tokensIssued;
    await h.until<VersionObject>(Version, "terraform-private-net-0-1-0", synced, 60_000);
    expect(upstreams.github.stats.tokensIssued - tokensBefore).toBe(1);
  }, 90_000);
});

describe("lifecycle", () => {
  test("removing a version deletes its Version and stored object", async () => {
    const m = (await h.get<ModuleObject>(Module, "terraform-aws-vpc"))!;
    const gone = (await h.get<VersionObject>(Version, "terraform-aws-vpc-1-2-0"))!;
    const { storage, key } = locateArtifact(gone, h.storageFor);
    expect(await storage.head(key)).toBeDefined();
    await h.store.patch(Module, "default", m.metadata.name, { type: "merge", patch: { spec: { versions: [{ version: "2.0.0" }] } } });
    await waitFor(async () => !(await h.get(Version, "terraform-aws-vpc-1-2-0")), 30_000, "Version deleted");
    expect(await storage.head(key)).toBeUndefined();
    expect((await get("/opendepot/modules/v1/default/terraform-aws-vpc/aws/1.2.0/download")).status).toBe(404);
  });

  test("versionHistoryLimit keeps the highest versions and reports the others", async () => {
    await h.store.create(moduleObject("terraform-aws-s3-history", ["v1.0.0", "v1.3.0", "v2.1.0", "v2.2.0"], { name: "terraform-aws-s3", versionHistoryLimit: 2 }));
    const m = await h.until<ModuleObject>(Module, "terraform-aws-s3-history", synced, 60_000);
    expect(Object.keys(m.status?.moduleVersionRefs ?? {}).sort()).toEqual(["v2.1.0", "v2.2.0"]);
    expect(condition(m, "Ready")?.message).toContain("not kept by versionHistoryLimit: v1.3.0, v1.0.0");
    expect(await h.get(Version, "terraform-aws-s3-history-1-0-0")).toBeUndefined();
    expect(m.spec.versions).toHaveLength(4); // the user's list is never rewritten
  }, 90_000);

  test("forceSync on a Module re-downloads every version, then resets itself", async () => {
    const before = upstreams.github.stats.archivesServed;
    await h.store.patch(Module, "default", "terraform-aws-s3-history", { type: "merge", patch: { spec: { forceSync: true } } });
    await h.until<ModuleObject>(Module, "terraform-aws-s3-history", (m) => m.spec.forceSync === false);
    await waitFor(async () => {
      const vs = await Promise.all(["2-1-0", "2-2-0"].map((s) => h.get<VersionObject>(Version, `terraform-aws-s3-history-${s}`)));
      return vs.every((v) => v && v.spec.forceSync !== true) && upstreams.github.stats.archivesServed >= before + 2;
    }, 30_000, "versions force-synced");
  });

  test("a malformed field becomes a condition, not a crash", async () => {
    // What the schema can say is refused before apply, naming the field (the controllers' InvalidSpec condition
    // remains for objects stored before the schema said so; see versions-plan.test.ts).
    const refused = await h.store.create(moduleObject("terraform-aws-bad", ["not-a-version", "v1.2.0"], { name: "terraform-aws-vpc" })).catch((e: Error) => e);
    expect(String(refused)).toContain('spec.versions[0].version: "not-a-version" is not a semantic version');
    expect(await h.get(Module, "terraform-aws-bad")).toBeUndefined();
    await h.store.create(providerObject("broken", ["1.0.0"], { operatingSystems: [] }));
    const p = await h.until<ProviderObject>(Provider, "broken", (x) => condition(x, "Ready")?.reason === "InvalidSpec");
    expect(condition(p, "Ready")?.message).toContain("operatingSystems field cannot be empty");
    await h.store.create({ apiVersion: API_VERSION, kind: "Version", metadata: { name: "orphan-1-0-0", namespace: "default" }, spec: { type: "Module", version: "1.0.0" } } as VersionObject);
    const orphan = await h.until<VersionObject>(Version, "orphan-1-0-0", (x) => condition(x, "Ready")?.reason === "InvalidSpec");
    expect(orphan.status?.syncStatus).toBe("moduleConfigRef is required for module version 'orphan-1-0-0'");
  });

  test("a second full reconcile downloads nothing", async () => {
    const gh = upstreams.github.stats.bytesServed;
    const tofu = upstreams.opentofu.stats.downloadBytes;
    for (const v of (await h.store.list<VersionObject>(Version)).items) h.manager.enqueue("version", { namespace: "default", name: v.metadata.name });
    await Bun.sleep(1500);
    await waitFor(() => h.manager.idle(), 30_000, "controllers idle");
    expect(upstreams.github.stats.bytesServed).toBe(gh);
    expect(upstreams.opentofu.stats.downloadBytes).toBe(tofu);
  });
});

