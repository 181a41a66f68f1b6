import { beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as openpgp from "openpgp";
import type { ModuleObject, ProviderObject, VersionObject } from "../api/kinds.ts";
import { API_VERSION } from "../api/meta.ts";
import { SigningKey } from "../artifacts/signing.ts";
import { createLogger, silentLogger } from "../log.ts";
import { FilesystemStorage } from "../storage/filesystem.ts";
import { locateArtifact } from "../storage/locate.ts";
import { publishModule, publishProvider } from "../../test/support/publish.ts";
import { feedStore, StaticFeed } from "../../test/support/static-feed.ts";
import type { JsonResponse } from "../../test/support/ports.ts";
import { createApp } from "./app.ts";
import { ArtifactDelivery } from "./artifact-delivery.ts";
import { RegistryIndex } from "./registry-index.ts";
import { withRequestPolicy } from "./serve.ts";
import { UrlSigner } from "./url-signer.ts";

let signer: SigningKey;
beforeAll(async () => {
  signer = await SigningKey.generate({ name: "Test", email: "test@example.com", rsaBits: 2048 });
});


const moduleObject = (name: string, provider?: string): ModuleObject => ({
  apiVersion: API_VERSION,
  kind: "Module",
  metadata: { name, namespace: "team" },
  spec: { moduleConfig: { provider }, versions: [] },
});

const providerObject = (name: string): ProviderObject => ({
  apiVersion: API_VERSION,
  kind: "Provider",
  metadata: { name, namespace: "team" },
  spec: { providerConfig: { operatingSystems: ["linux"], architectures: ["amd64"] }, versions: [] },
});

let now = Date.now();
let ctx: Awaited<ReturnType<typeof setup>>;

async function setup(publicUrl?: string) {
  const root = await mkdtemp(join(tmpdir(), "opendepot-app-"));
  const storage = new FilesystemStorage(root);
  const storageFor = () => storage;
  const modules = new StaticFeed<ModuleObject>([moduleObject("vpc", "aws"), moduleObject("any")]);
  const providers = new StaticFeed<ProviderObject>([providerObject("widget")]);
  const versions = new StaticFeed<VersionObject>();
  const store = feedStore(versions);
  const index = new RegistryIndex({ modules, providers, versions });
  const logs: string[] = [];
  const log = createLogger({ write: (l) => logs.push(l) });
  const app = createApp({
    index,
    delivery: new ArtifactDelivery(storageFor, silentLogger),
    urls: new UrlSigner(new Uint8Array(32).fill(7), 600, () => now),
    signer,
    gatekeeper: { authorize: async () => undefined },
    log: silentLogger,
    publicUrl,
    ready: () => true,
  });
  const handle = withRequestPolicy((r) => app.handle(r), log);
  const get = (path: string, init?: RequestInit) => handle(new Request(`http://localhost${path}`, init)) as Promise<JsonResponse>;
  return { root, storage, storageFor, modules, providers, versions, store, index, get, logs };
}

beforeEach(async () => {
  now = Date.now();
  ctx = await setup();
});

describe("discovery and health", () => {
  test("terraform.json names the module and provider services", async () => {
    const r = await ctx.get("/.well-known/terraform.json");
    expect(r.headers.get("content-type")).toContain("application/json");
    expect(await r.json()).toEqual({ "modules.v1": "/opendepot/modules/v1/", "providers.v1": "/opendepot/providers/v1/" });
  });
  test("healthz and readyz", async () => {
    expect((await ctx.get("/healthz")).status).toBe(200);
    expect((await ctx.get("/readyz")).status).toBe(200);
  });
});

describe("module protocol", () => {
  test("versions lists only synced versions, without a leading v, newest first, and follows changes live", async () => {
    expect(await (await ctx.get("/opendepot/modules/v1/team/vpc/aws/versions")).json()).toEqual({ modules: [{ versions: [] }] });
    await publishModule(ctx.store, ctx.storageFor, { namespace: "team", module: "vpc", version: "v1.0.0", files: { "main.tf": "" } });
    await publishModule(ctx.store, ctx.storageFor, { namespace: "team", module: "vpc", version: "1.10.0", files: { "main.tf": "" } });
    const pending = await publishModule(ctx.store, ctx.storageFor, { namespace: "team", module: "vpc", version: "2.0.0-rc.1", files: { "main.tf": "" } });
    ctx.versions.put({ ...pending, status: { ...pending.status, synced: false } });
    expect(await (await ctx.get("/opendepot/modules/v1/team/vpc/aws/versions")).json()).toEqual({ modules: [{ versions: [{ version: "1.10.0" }, { version: "1.0.0" }] }] });
    ctx.versions.put(pending);
    expect((await (await ctx.get("/opendepot/modules/v1/team/vpc/aws/versions")).json()).modules[0].versions[0]).toEqual({ version: "2.0.0-rc.1" });
  });

  test("unknown module, wrong system, unknown version → 404", async () => {
    expect((await ctx.get("/opendepot/modules/v1/team/nope/aws/versions")).status).toBe(404);
    expect((await ctx.get("/opendepot/modules/v1/team/vpc/azurerm/versions")).status).toBe(404);
    expect((await ctx.get("/opendepot/modules/v1/team/any/whatever/versions")).status).toBe(200);
    expect((await ctx.get("/opendepot/modules/v1/team/vpc/aws/1.0.0/download")).status).toBe(404);
  });

  test("download → 204 with a signed X-Terraform-Get that serves the archive (GET, HEAD, Range)", async () => {
    const v = await publishModule(ctx.store, ctx.storageFor, { namespace: "team", module: "vpc", version: "1.0.0", files: { "main.tf": "# hi\n" } });
    const r = await ctx.get("/opendepot/modules/v1/team/vpc/aws/1.0.0/download");
    expect(r.status).toBe(204);
    const location = r.headers.get("x-terraform-get")!;
    expect(location).toMatch(new RegExp(`^/opendepot/modules/v1/team/vpc/aws/1.0.0/archive/${v.spec.fileName!.replace(".", "\\.")}\\?expires=\\d+&signature=[A-Za-z0-9_-]+$`));
    const got = await ctx.get(location);
    expect(got.status).toBe(200);
    expect(got.headers.get("content-type")).toBe("application/zip");
    const bytes = new Uint8Array(await got.arrayBuffer());
    expect(Number(got.headers.get("content-length"))).toBe(bytes.length);
    expect(new Bun.CryptoHasher("sha256").update(bytes).digest("base64")).toBe(v.status!.checksum!);
    const head = await ctx.get(location, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe(String(bytes.length));
    const ranged = await ctx.get(location, { headers: { range: "bytes=2-9" } });
    expect(ranged.status).toBe(206);
    expect(new Uint8Array(await ranged.arrayBuffer())).toEqual(bytes.slice(2, 10));
    expect((await ctx.get(location, { headers: { range: `bytes=${bytes.length + 5}-` } })).status).toBe(416);
  });

  test("URLs expire, and stop working when the artifact they were minted for is replaced", async () => {
    const v = await publishModule(ctx.store, ctx.storageFor, { namespace: "team", module: "vpc", version: "1.0.0", files: { "main.tf": "" } });
    const location = (await ctx.get("/opendepot/modules/v1/team/vpc/aws/1.0.0/download")).headers.get("x-terraform-get")!;
    // Valid for the TTL (600 s) rounded up to the next 60 s window, never longer.
    now += 599_000;
    expect((await ctx.get(location)).status).toBe(200);
    now += 62_000;
    const expired = await ctx.get(location);
    expect(expired.status).toBe(403);
    expect((await expired.json()).errors[0]).toContain("expired");
    now -= 661_000;
    expect((await ctx.get(location)).status).toBe(200);
    ctx.versions.put({ ...v, status: { ...v.status, checksum: "A".repeat(43) + "=" } });
    expect((await ctx.get(location)).status).toBe(403);
  });

  test("with a public URL, links are absolute", async () => {
    ctx = await setup("https://registry.example.com/");
    await publishModule(ctx.store, ctx.storageFor, { namespace: "team", module: "vpc", version: "1.0.0", files: { "main.tf": "" } });
    const location = (await ctx.get("/opendepot/modules/v1/team/vpc/aws/1.0.0/download")).headers.get("x-terraform-get")!;
    expect(location.startsWith("https://registry.example.com/opendepot/modules/v1/team/vpc/aws/1.0.0/archive/")).toBe(true);
  });
});

describe("provider protocol (per OS/arch)", () => {
  async function publishWidget() {
    const linux = await publishProvider(ctx.store, ctx.storageFor, { namespace: "team", provider: "widget", version: "1.0.0", os: "linux", arch: "amd64", binary: "linux", protocols: ["6.0"] });
    const darwin = await publishProvider(ctx.store, ctx.storageFor, { namespace: "team", provider: "widget", version: "1.0.0", os: "darwin", arch: "arm64", binary: "darwin", protocols: ["6.0"] });
    return { linux, darwin };
  }

  test("versions carries protocols and platforms", async () => {
    await publishWidget();
    expect(await (await ctx.get("/opendepot/providers/v1/team/widget/versions")).json()).toEqual({
      versions: [{ version: "1.0.0", protocols: ["6.0"], platforms: [{ os: "darwin", arch: "arm64" }, { os: "linux", arch: "amd64" }] }],
    });
  });

  test("package metadata has every required field, and each platform gets its own build", async () => {
    const { linux, darwin } = await publishWidget();
    const meta = await (await ctx.get("/opendepot/providers/v1/team/widget/1.0.0/download/linux/amd64")).json();
    expect(meta).toMatchObject({
      protocols: ["6.0"],
      os: "linux",
      arch: "amd64",
      filename: linux.spec.fileName,
      shasum: Buffer.from(linux.status!.checksum!, "base64").toString("hex"),
      signing_keys: { gpg_public_keys: [{ key_id: signer.keyId, ascii_armor: signer.publicKeyArmored }] },
    });
    expect(meta.key_id).toBeUndefined();
    const zip = new Uint8Array(await (await ctx.get(meta.download_url)).arrayBuffer());
    expect(new Bun.CryptoHasher("sha256").update(zip).digest("hex")).toBe(meta.shasum);
    const darwinMeta = await (await ctx.get("/opendepot/providers/v1/team/widget/1.0.0/download/darwin/arm64")).json();
    expect(darwinMeta.filename).toBe(darwin.spec.fileName);
    expect(darwinMeta.shasum).not.toBe(meta.shasum);
  });

  test("SHA256SUMS lists the file and its .sig is a binary detached signature by the published key", async () => {
    await publishWidget();
    const meta = await (await ctx.get("/opendepot/providers/v1/team/widget/1.0.0/download/linux/amd64")).json();
    const sums = await (await ctx.get(meta.shasums_url)).text();
    expect(sums).toBe(`${meta.shasum}  ${meta.filename}\n`);
    const sig = new Uint8Array(await (await ctx.get(meta.shasums_signature_url)).arrayBuffer());
    expect(sig[0]! & 0x80).toBe(0x80); // a binary OpenPGP packet, not ASCII armor
    const verified = await openpgp.verify({
      message: await openpgp.createMessage({ text: sums }),
      signature: await openpgp.readSignature({ binarySignature: sig }),
      verificationKeys: await openpgp.readKey({ armoredKey: meta.signing_keys.gpg_public_keys[0].ascii_armor }),
      format: "binary",
    });
    await expect(verified.signatures[0]!.verified).resolves.toBe(true);
  });

  test("unknown platform or version → 404; unsigned artifact URLs → 403", async () => {
    await publishWidget();
    expect((await ctx.get("/opendepot/providers/v1/team/widget/1.0.0/download/windows/amd64")).status).toBe(404);
    expect((await ctx.get("/opendepot/providers/v1/team/widget/2.0.0/download/linux/amd64")).status).toBe(404);
    expect((await ctx.get("/opendepot/providers/v1/team/nope/versions")).status).toBe(404);
    expect((await ctx.get("/opendepot/providers/v1/team/widget/1.0.0/SHA256SUMS/linux/amd64")).status).toBe(403);
    expect((await ctx.get("/opendepot/providers/v1/team/widget/1.0.0/SHA256SUMS.sig/linux/amd64")).status).toBe(403);
  });

  test("a tampered object is refused, then served again once the right bytes are back", async () => {
    const { linux } = await publishWidget();
    const meta = await (await ctx.get("/opendepot/providers/v1/team/widget/1.0.0/download/linux/amd64")).json();
    const good = new Uint8Array(await (await ctx.get(meta.download_url)).arrayBuffer());
    const { key } = locateArtifact(linux, ctx.storageFor);
    await ctx.storage.put(key, new Blob([new Uint8Array(good.length).fill(1)]).stream());
    expect((await ctx.get(meta.download_url)).status).toBe(503);
    expect((await ctx.get(meta.download_url, { method: "HEAD" })).status).toBe(503);
    await ctx.storage.put(key, new Blob([good]).stream());
    expect((await ctx.get(meta.download_url)).status).toBe(200);
  });

  test("a missing object → 503 with Retry-After, not a crash", async () => {
    const { linux } = await publishWidget();
    const meta = await (await ctx.get("/opendepot/providers/v1/team/widget/1.0.0/download/linux/amd64")).json();
    await ctx.storage.delete(locateArtifact(linux, ctx.storageFor).key);
    const r = await ctx.get(meta.download_url);
    expect(r.status).toBe(503);
    expect(r.headers.get("retry-after")).toBe("30");
  });
});

describe("request policy", () => {
  test("every request is logged as one JSON line with a request id, echoed back", async () => {
    const r = await ctx.get("/opendepot/modules/v1/team/vpc/aws/versions", { headers: { "x-request-id": "abc-123" } });
    expect(r.headers.get("x-request-id")).toBe("abc-123");
    const line = JSON.parse(ctx.logs.at(-1)!);
    expect(line).toMatchObject({ msg: "request", method: "GET", path: "/opendepot/modules/v1/team/vpc/aws/versions", status: 200, requestId: "abc-123" });
    expect(typeof line.durationMs).toBe("number");
    const generated = await ctx.get("/healthz", { headers: { "x-request-id": "bad id\n" } });
    expect(generated.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  test("bad segments → 400 with a reason; odd methods → 405; long URLs → 414", async () => {
    const bad = await ctx.get("/opendepot/modules/v1/team/vpc/aws/latest/download");
    expect(bad.status).toBe(400);
    expect((await bad.json()).errors[0]).toContain("invalid version");
    expect((await ctx.get("/opendepot/modules/v1/Team/vpc/aws/versions")).status).toBe(400);
    expect((await ctx.get("/opendepot/modules/v1/team/v.p.c/aws/versions")).status).toBe(400);
    expect((await ctx.get("/opendepot/modules/v1/team/vpc/aws/versions", { method: "DELETE" })).status).toBe(405);
    expect((await ctx.get(`/opendepot/modules/v1/team/${"a".repeat(5000)}/aws/versions`)).status).toBe(414);
  });
});
