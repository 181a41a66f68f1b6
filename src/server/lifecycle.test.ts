// Deprecated and yanked versions on the wire, OpenTofu's `packages` map and direct module install, in process.
import { beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ModuleObject, ProviderObject, VersionObject } from "../api/kinds.ts";
import { API_VERSION } from "../api/meta.ts";
import { base64ToHex } from "../artifacts/hash.ts";
import { SigningKey } from "../artifacts/signing.ts";
import { silentLogger } from "../log.ts";
import { FilesystemStorage } from "../storage/filesystem.ts";
import { publishModule, publishProvider } from "../../test/support/publish.ts";
import { feedStore, StaticFeed } from "../../test/support/static-feed.ts";
import type { JsonResponse } from "../../test/support/ports.ts";
import { createApp } from "./app.ts";
import { ArtifactDelivery } from "./artifact-delivery.ts";
import { lifecycleOf, yankRefusal } from "./lifecycle.ts";
import { RegistryIndex } from "./registry-index.ts";
import { UrlSigner } from "./url-signer.ts";

const NS = "opendepot-system";
const DAY = 86_400_000;
let signer: SigningKey;
beforeAll(async () => {
  signer = await SigningKey.generate({ name: "Test", email: "test@example.com", rsaBits: 2048 });
});

let now = Date.now();
let ctx: Awaited<ReturnType<typeof setup>>;

async function setup() {
  const storage = new FilesystemStorage(await mkdtemp(join(tmpdir(), "opendepot-lifecycle-")));
  const storageFor = () => storage;
  const modules = new StaticFeed<ModuleObject>([{ apiVersion: API_VERSION, kind: "Module", metadata: { name: "vpc", namespace: NS }, spec: { moduleConfig: { provider: "aws" }, versions: [] } }]);
  const providers = new StaticFeed<ProviderObject>([{ apiVersion: API_VERSION, kind: "Provider", metadata: { name: "widget", namespace: NS }, spec: { providerConfig: {}, versions: [] } }]);
  const versions = new StaticFeed<VersionObject>();
  const store = feedStore(versions);
  const policy = { yankGraceMs: 30 * DAY, now: () => now };
  const index = new RegistryIndex({ modules, providers, versions }, policy);
  const app = createApp({
    index,
    delivery: new ArtifactDelivery(storageFor, silentLogger),
    urls: new UrlSigner(new Uint8Array(32).fill(7), 600, () => now),
    signer,
    gatekeeper: { authorize: async () => undefined },
    log: silentLogger,
    mirror: { namespace: NS, hostnames: new Set(["registry.terraform.io"]) },
    lifecycle: policy,
    ready: () => true,
  });
  const get = (path: string, headers: Record<string, string> = {}) => app.handle(new Request(`http://localhost${path}`, { headers })) as Promise<JsonResponse>;
  const provider = (version: string, os = "linux", arch = "amd64") => publishProvider(store, storageFor, { namespace: NS, provider: "widget", version, os, arch, binary: `${version} ${os}` });
  const module = (version: string) => publishModule(store, storageFor, { namespace: NS, module: "vpc", version, files: { "main.tf": `# ${version}\n` } });
  return { versions, get, provider, module };
}

beforeEach(async () => {
  now = Date.now();
  ctx = await setup();
});

const P = `/opendepot/providers/v1/${NS}/widget`;
const M = `/opendepot/modules/v1/${NS}/vpc/aws`;
const MIRROR = "/opendepot/mirror/v1/registry.terraform.io/hashicorp/widget";
const yank = (v: VersionObject, yankedAt?: string): VersionObject => ({ ...v, spec: { ...v.spec, yanked: { reason: "CVE-2026-0001" } }, status: { ...v.status, ...(yankedAt ? { yankedAt } : {}) } });
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

describe("deprecated versions", () => {
  test("stay listed and downloadable; the provider versions list carries one warning per deprecated version", async () => {
    await ctx.provider("1.0.0");
    const old = await ctx.provider("0.9.0");
    ctx.versions.put({ ...old, spec: { ...old.spec, deprecated: { message: "upgrade to 1.x", link: "https://example.com/upgrade" } } });
    const body = await (await ctx.get(`${P}/versions`)).json();
    expect(body.versions.map((v: { version: string }) => v.version)).toEqual(["1.0.0", "0.9.0"]);
    expect(body.warnings).toEqual(["version 0.9.0 is deprecated: upgrade to 1.x (https://example.com/upgrade)"]);
    expect((await ctx.get(`${P}/0.9.0/download/linux/amd64`)).status).toBe(200);
    expect(await (await ctx.get(`${MIRROR}/index.json`)).json()).toEqual({ versions: { "1.0.0": {}, "0.9.0": {} } });
  });

  test("control characters in a message never reach the CLI's terminal", async () => {
    const v = await ctx.provider("1.0.0");
    ctx.versions.put({ ...v, spec: { ...v.spec, deprecated: { message: "old\u001b[2J\r\nversion 9 is fine" } } });
    expect((await (await ctx.get(`${P}/versions`)).json()).warnings).toEqual(["version 1.0.0 is deprecated: old [2J version 9 is fine"]);
  });

  test("no deprecated version → no warnings key at all", async () => {
    await ctx.provider("1.0.0");
    expect(Object.keys(await (await ctx.get(`${P}/versions`)).json())).toEqual(["versions"]);
  });
});

describe("yanked versions", () => {
  test("the newest of its MAJOR.MINOR line: absent from the module, provider and mirror lists at once", async () => {
    await ctx.provider("1.0.0");
    const p = await ctx.provider("1.1.0");
    await ctx.module("1.0.0");
    const m = await ctx.module("1.1.0");
    ctx.versions.put(yank(p));
    ctx.versions.put(yank(m));
    expect((await (await ctx.get(`${P}/versions`)).json()).versions.map((v: { version: string }) => v.version)).toEqual(["1.0.0"]);
    expect(await (await ctx.get(`${M}/versions`)).json()).toEqual({ modules: [{ versions: [{ version: "1.0.0" }] }] });
    expect(await (await ctx.get(`${MIRROR}/index.json`)).json()).toEqual({ versions: { "1.0.0": {} } });
  });

  test("shielded by a newer non-yanked release of the same MAJOR.MINOR: listed (with a warning) until the grace ends", async () => {
    const old = await ctx.provider("1.0.0");
    await ctx.provider("1.0.5");
    await ctx.provider("1.1.0-rc.1"); // prereleases shield nothing
    const oldModule = await ctx.module("1.0.0");
    await ctx.module("1.0.5");
    ctx.versions.put(yank(old, iso(now - DAY)));
    ctx.versions.put(yank(oldModule, iso(now - DAY)));
    const body = await (await ctx.get(`${P}/versions`)).json();
    expect(body.versions.map((v: { version: string }) => v.version)).toEqual(["1.1.0-rc.1", "1.0.5", "1.0.0"]);
    expect(body.warnings).toEqual([`version 1.0.0 is yanked: CVE-2026-0001; lock files naming it keep installing until ${iso(now + 29 * DAY).slice(0, 10)}`]);
    expect(await (await ctx.get(`${MIRROR}/index.json`)).json()).toEqual({ versions: { "1.1.0-rc.1": {}, "1.0.5": {}, "1.0.0": {} } });
    expect(await (await ctx.get(`${M}/versions`)).json()).toEqual({ modules: [{ versions: [{ version: "1.0.5" }, { version: "1.0.0" }] }] });
    // Time alone ends the grace: the memoised lists are rebuilt without it.
    now += 30 * DAY;
    expect((await (await ctx.get(`${P}/versions`)).json()).versions.map((v: { version: string }) => v.version)).toEqual(["1.1.0-rc.1", "1.0.5"]);
    expect(await (await ctx.get(`${MIRROR}/index.json`)).json()).toEqual({ versions: { "1.1.0-rc.1": {}, "1.0.5": {} } });
    expect(await (await ctx.get(`${M}/versions`)).json()).toEqual({ modules: [{ versions: [{ version: "1.0.5" }] }] });
  });

  test("a newer minor does not shield: ~> X.Y.Z would still pick the yanked version", async () => {
    const old = await ctx.provider("1.0.0");
    await ctx.provider("1.1.0");
    ctx.versions.put(yank(old));
    expect((await (await ctx.get(`${P}/versions`)).json()).versions.map((v: { version: string }) => v.version)).toEqual(["1.1.0"]);
  });

  test("exact downloads work within the grace period (also before the controller recorded yankedAt), then 404 with the reason", async () => {
    const p = await ctx.provider("1.1.0");
    const m = await ctx.module("1.1.0");
    ctx.versions.put(yank(p));
    ctx.versions.put(yank(m));
    expect((await ctx.get(`${P}/1.1.0/download/linux/amd64`)).status).toBe(200);
    ctx.versions.put(yank(p, iso(now - 29 * DAY)));
    ctx.versions.put(yank(m, iso(now - 29 * DAY)));
    const meta = await ctx.get(`${P}/1.1.0/download/linux/amd64`);
    expect(meta.status).toBe(200);
    expect((await ctx.get((await meta.json()).download_url)).status).toBe(200);
    expect((await ctx.get(`${M}/1.1.0/download`)).status).toBe(204);
    expect((await ctx.get(`${MIRROR}/1.1.0.json`)).status).toBe(200);

    now += 2 * DAY; // 31 days after the yank
    for (const path of [`${P}/1.1.0/download/linux/amd64`, `${M}/1.1.0/download`, `${MIRROR}/1.1.0.json`]) {
      const r = await ctx.get(path);
      expect({ path, status: r.status }).toEqual({ path, status: 404 });
      expect((await r.json()).errors[0]).toContain("version 1.1.0 was yanked: CVE-2026-0001");
    }
  });

  test("lifecycleOf gives the browse API what to show", async () => {
    const p = await ctx.provider("1.1.0");
    const yankedAt = iso(now - DAY);
    const policy = { yankGraceMs: 30 * DAY, now: () => now };
    expect(lifecycleOf(yank(p, yankedAt), policy)).toEqual({
      deprecated: undefined,
      yanked: { reason: "CVE-2026-0001", yankedAt, graceEndsAt: new Date(Date.parse(yankedAt) + 30 * DAY).toISOString(), downloadable: true },
    });
    expect(yankRefusal(yank(p, yankedAt), { ...policy, yankGraceMs: DAY / 2 })).toBe("version 1.1.0 was yanked: CVE-2026-0001");
    expect(lifecycleOf(p, policy)).toEqual({ deprecated: undefined, yanked: undefined });
  });
});

describe("OpenTofu extensions", () => {
  test("provider package metadata carries `packages` for every platform of the version: h1 + zh hashes and size", async () => {
    const linux = await ctx.provider("2.0.0", "linux", "amd64");
    const darwin = await ctx.provider("2.0.0", "darwin", "arm64");
    await ctx.provider("3.0.0", "windows", "amd64"); // another version: not included
    const body = await (await ctx.get(`${P}/2.0.0/download/linux/amd64`)).json();
    expect(body.packages).toEqual({
      darwin_arm64: { hashes: [darwin.status!.h1!, `zh:${base64ToHex(darwin.status!.checksum!)}`], package_size: darwin.status!.archiveSizeBytes },
      linux_amd64: { hashes: [linux.status!.h1!, `zh:${base64ToHex(linux.status!.checksum!)}`], package_size: linux.status!.archiveSizeBytes },
    });
    expect(body.shasum).toBe(base64ToHex(linux.status!.checksum!));
  });

  test("module download: OpenTofu gets 200 JSON {location, use_registry_credentials:false} and the header; Terraform keeps 204", async () => {
    await ctx.module("1.0.0");
    const tf = await ctx.get(`${M}/1.0.0/download`, { "user-agent": "Terraform/1.11.4 (+https://www.terraform.io)" });
    expect(tf.status).toBe(204);
    expect(await tf.text()).toBe("");
    const location = tf.headers.get("x-terraform-get")!;
    expect(location).toStartWith(`${M}/1.0.0/archive/`);
    const plain = await ctx.get(`${M}/1.0.0/download`);
    expect(plain.status).toBe(204);

    const tofu = await ctx.get(`${M}/1.0.0/download`, { "user-agent": "OpenTofu/1.10.0 (+https://www.opentofu.org)" });
    expect(tofu.status).toBe(200);
    expect(tofu.headers.get("content-type")).toBe("application/json");
    expect(tofu.headers.get("x-terraform-get")).toBe(location);
    // The exact bytes of peers.md §4.2 (direct install): a strict JSON boolean, http(s)-or-relative location, no fragment.
    expect(await tofu.text()).toBe(`{"location":${JSON.stringify(location)},"use_registry_credentials":false}`);
    const archive = await ctx.get(location);
    expect(archive.status).toBe(200);
    expect(archive.headers.get("content-type")).toBe("application/zip");
  });
});
