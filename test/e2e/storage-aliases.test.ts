// The blog's storage spellings through the controllers and the store: a Module written with
// `storageConfig.filesystem.path` syncs into that directory, is served, and its Versions carry a condition (and the
// controller a log line) recommending `fileSystem.directoryPath`; writing both spellings is refused naming both.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { mkdtemp, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Module, Version, type ModuleObject, type VersionObject } from "../../src/api/kinds.ts";
import { API_VERSION } from "../../src/api/meta.ts";
import { STORAGE_ALIAS_CONDITION } from "../../src/controllers/version-notices.ts";
import { startSampleUpstreams, type SampleUpstreams } from "../../fixtures/upstream-fakes.ts";
import { startHarness, type Harness } from "../support/registry-harness.ts";

let upstreams: SampleUpstreams;
let h: Harness;
beforeAll(async () => {
  upstreams = await startSampleUpstreams();
  h = await startHarness({ env: upstreams.env });
}, 60_000);
afterAll(async () => {
  await h?.stop();
  await upstreams?.stop();
});

const module = (storageConfig: Record<string, unknown>): ModuleObject => ({
  apiVersion: API_VERSION,
  kind: "Module",
  metadata: { name: "terraform-aws-s3", namespace: "default" },
  spec: { moduleConfig: { repoOwner: "acme", provider: "aws", fileFormat: "zip", storageConfig }, versions: [{ version: "v1.0.0" }] },
});

describe("storageConfig.filesystem.path", () => {
  test("both spellings at once are refused on write, naming both fields", async () => {
    await expect(h.store.create(module({ filesystem: { path: "/tmp/x" }, fileSystem: { directoryPath: "/tmp/y" } }))).rejects.toThrow(
      "spec.moduleConfig.storageConfig.filesystem.path and spec.moduleConfig.storageConfig.fileSystem.directoryPath are the same setting",
    );
  });

  test("the alias alone: the artifact lands under path, is served, and the Version recommends the canonical name", async () => {
    const dir = await mkdtemp(join(tmpdir(), "opendepot-alias-"));
    await h.store.create(module({ filesystem: { path: dir } }));
    await h.until<ModuleObject>(Module, "terraform-aws-s3", (m) => m.status?.synced === true, 60_000);
    const v = await h.until<VersionObject>(Version, "terraform-aws-s3-1-0-0", (x) => !!x.status?.conditions?.some((c) => c.type === STORAGE_ALIAS_CONDITION));
    expect(v.status!.conditions!.find((c) => c.type === STORAGE_ALIAS_CONDITION)).toMatchObject({
      status: "True",
      reason: "AliasUsed",
      message: "storageConfig.filesystem.path is an alias: write storageConfig.fileSystem.directoryPath instead",
    });
    expect(h.logs.some((l) => l.msg === "storageConfig uses an alias spelling")).toBe(true);
    const stored = await readdir(join(dir, "default", "modules", "terraform-aws-s3-1-0-0"));
    expect(stored).toEqual([v.spec.fileName!]);
    expect(existsSync(join(h.root, "artifacts", "default", "modules", "terraform-aws-s3-1-0-0"))).toBe(false);
    const r = await fetch(`${h.url}/opendepot/modules/v1/default/terraform-aws-s3/aws/1.0.0/download`);
    expect(r.status).toBe(204);
    expect((await fetch(new URL(r.headers.get("x-terraform-get")!, h.url))).status).toBe(200);
  }, 90_000);
});
