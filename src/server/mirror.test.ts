import { beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ModuleObject, ProviderObject, VersionObject } from "../api/kinds.ts";
import { API_VERSION } from "../api/meta.ts";
import { hashProviderZip } from "../artifacts/h1.ts";
import { SigningKey } from "../artifacts/signing.ts";
import { silentLogger } from "../log.ts";
import { FilesystemStorage } from "../storage/filesystem.ts";
import { publishProvider } from "../../test/support/publish.ts";
import { feedStore, StaticFeed } from "../../test/support/static-feed.ts";
import type { JsonResponse } from "../../test/support/ports.ts";
import { createApp } from "./app.ts";
import { ArtifactDelivery } from "./artifact-delivery.ts";
import { PinnedFileResponse } from "./pinned-file-response.ts";
import type { Gatekeeper, RegistryTarget } from "./context.ts";
import { RegistryIndex } from "./registry-index.ts";
import { mirrorConfig } from "./routes-mirror.ts";
import { withRequestPolicy } from "./serve.ts";
import { UrlSigner } from "./url-signer.ts";

const MIRROR_NS = "opendepot-system";
const M = "/opendepot/mirror/v1";

let signer: SigningKey;
beforeAll(async () => {
  signer = await SigningKey.generate({ name: "Test", email: "test@example.com", rsaBits: 2048 });
});


const providerObject = (name: string, namespace: string, config: { namespace?: string; name?: string } = {}): ProviderObject => ({
  apiVersion: API_VERSION,
  kind: "Provider",
  metadata: { name, namespace },
  spec: { providerConfig: { ...config, operatingSystems: ["linux"], architectures: ["amd64"] }, versions: [] },
});

let ctx: Awaited<ReturnType<typeof setup>>;

async function setup(options: { publicUrl?: string; mirror?: boolean; gatekeeper?: Gatekeeper } = {}) {
  const storage = new FilesystemStorage(await mkdtemp(join(tmpdir(), "opendepot-mirror-")));
  const storageFor = () => storage;
  const providers = new StaticFeed<ProviderObject>([
    providerObject("aws", MIRROR_NS, { namespace: "hashicorp" }),
    providerObject("widget", MIRROR_NS), // upstream namespace defaults to hashicorp
    providerObject("dd", MIRROR_NS, { namespace: "DataDog", name: "datadog" }),
    providerObject("aws", "team", { namespace: "hashicorp" }), // another Kubernetes namespace: not mirrored
  ]);
  const versions = new StaticFeed<VersionObject>();
  const store = feedStore(versions);
  const index = new RegistryIndex({ modules: new StaticFeed<ModuleObject>(), providers, versions });
  const authorized: RegistryTarget[] = [];
  const app = createApp({
    index,
    delivery: new ArtifactDelivery(storageFor, silentLogger),
    urls: new UrlSigner(new Uint8Array(32).fill(7), 600),
    signer,
    gatekeeper: options.gatekeeper ?? {
      authorize: async (_r, target) => {
        authorized.push(target);
        return undefined;
      },
    },
    log: silentLogger,
    publicUrl: options.publicUrl,
    mirror: options.mirror === false ? undefined : mirrorConfig(MIRROR_NS, undefined),
    ready: () => true,
  });
  const handle = withRequestPolicy((r) => app.handle(r), silentLogger);
  const get = (path: string, init?: RequestInit) => handle(new Request(`http://localhost${path}`, init)) as Promise<JsonResponse>;
  const publish = (namespace: string, provider: string, version: string, os = "linux", arch = "amd64") =>
    publishProvider(store, storageFor, { namespace, provider, version, os, arch, binary: `${provider} ${version} ${os} ${arch}` });
  return { storage, providers, versions, index, get, publish, authorized };
}

beforeEach(async () => {
  ctx = await setup();
});

describe("provider network mirror", () => {
  test("index.json lists versions with h1-hashed builds, newest first, and follows changes", async () => {
    expect(await (await ctx.get(`${M}/registry.terraform.io/hashicorp/aws/index.json`)).json()).toEqual({ versions: {} });
    await ctx.publish(MIRROR_NS, "aws", "5.9.0");
    await ctx.publish(MIRROR_NS, "aws", "5.81.0");
    await ctx.publish(MIRROR_NS, "aws", "5.81.0", "darwin", "arm64");
    const r = await ctx.get(`${M}/registry.terraform.io/hashicorp/aws/index.json`);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toContain("application/json");
    expect(await r.text()).toBe('{"versions":{"5.81.0":{},"5.9.0":{}}}');
    // A build that is not synced, or carries no h1, is not mirrored.
    const pending = await ctx.publish(MIRROR_NS, "aws", "6.0.0");
    ctx.versions.put({ ...pending, status: { ...pending.status, synced: false } });
    const noH1 = await ctx.publish(MIRROR_NS, "aws", "6.1.0");
    ctx.versions.put({ ...noH1, status: { ...noH1.status, h1: undefined } });
    expect(Object.keys((await (await ctx.get(`${M}/registry.opentofu.org/hashicorp/aws/index.json`)).json()).versions)).toEqual(["5.81.0", "5.9.0"]);
    expect((await ctx.get(`${M}/registry.terraform.io/hashicorp/aws/6.1.0.json`)).status).toBe(404);
    ctx.versions.put(pending);
    expect(Object.keys((await (await ctx.get(`${M}/registry.terraform.io/hashicorp/aws/index.json`)).json()).versions)[0]).toBe("6.0.0");
  });

  test("<version>.json gives signed archive URLs with the h1 hash, and the URL serves the zip", async () => {
    const linux = await ctx.publish(MIRROR_NS, "aws", "5.81.0");
    await ctx.publish(MIRROR_NS, "aws", "5.81.0", "darwin", "arm64");
    const r = await ctx.get(`${M}/registry.terraform.io/hashicorp/aws/5.81.0.json`);
    expect(r.status).toBe(200);
    const body = await r.json();
    expect(Object.keys(body.archives)).toEqual(["darwin_arm64", "linux_amd64"]);
    const archive = body.archives.linux_amd64;
    expect(archive.hashes).toEqual([linux.status!.h1]);
    expect(archive.hashes[0]).toMatch(/^h1:[A-Za-z0-9+/]+=*$/);
    expect(archive.url).toStartWith(`/opendepot/providers/v1/${MIRROR_NS}/aws/5.81.0/download/linux/amd64/${linux.spec.fileName}?expires=`);
    const zip = await ctx.get(archive.url);
    expect(zip.status).toBe(200);
    // The mirror's archives are the registry's own provider downloads: the kernel-copy body of the pinned inode (see
    // downloads.test.ts for what the listener makes of it), with the artifact's Content-Length.
    expect(zip).toBeInstanceOf(PinnedFileResponse);
    expect(zip.headers.get("content-length")).toBe(String(linux.status!.archiveSizeBytes));
    const bytes = new Uint8Array(await zip.arrayBuffer());
    expect(bytes.length).toBe(linux.status!.archiveSizeBytes!);
    expect((await hashProviderZip(new Blob([bytes]).stream())).h1).toBe(archive.hashes[0]);
    // Tampering with the URL is refused like any other signed URL.
    expect((await ctx.get(archive.url.replace("expires=", "expires=1"))).status).toBe(403);
    // Memoised per expiry window, identical on a second request.
    expect(await (await ctx.get(`${M}/registry.terraform.io/hashicorp/aws/5.81.0.json`)).json()).toEqual(body);
  });

  test("absolute archive URLs with --public-url", async () => {
    ctx = await setup({ publicUrl: "https://registry.example.com/" });
    await ctx.publish(MIRROR_NS, "aws", "1.0.0");
    const body = await (await ctx.get(`${M}/registry.terraform.io/hashicorp/aws/1.0.0.json`)).json();
    expect(body.archives.linux_amd64.url).toStartWith(`https://registry.example.com/opendepot/providers/v1/${MIRROR_NS}/aws/1.0.0/download/linux/amd64/`);
  });

  test("upstream address: providerConfig.namespace (default hashicorp) and providerConfig.name (default resource name)", async () => {
    await ctx.publish(MIRROR_NS, "widget", "0.1.0");
    await ctx.publish(MIRROR_NS, "dd", "3.0.0");
    expect(await (await ctx.get(`${M}/registry.terraform.io/hashicorp/widget/index.json`)).json()).toEqual({ versions: { "0.1.0": {} } });
    expect(await (await ctx.get(`${M}/registry.terraform.io/datadog/datadog/index.json`)).json()).toEqual({ versions: { "3.0.0": {} } });
    const dd = await (await ctx.get(`${M}/registry.terraform.io/datadog/datadog/3.0.0.json`)).json();
    expect(dd.archives.linux_amd64.url).toContain(`/opendepot/providers/v1/${MIRROR_NS}/dd/3.0.0/`);
    // The resource name is not the address: dd is only reachable as datadog/datadog.
    expect((await ctx.get(`${M}/registry.terraform.io/hashicorp/dd/index.json`)).status).toBe(404);
    expect((await ctx.get(`${M}/registry.terraform.io/datadog/dd/index.json`)).status).toBe(404);
    // The gatekeeper is asked about the Provider resource in the mirror namespace.
    expect(ctx.authorized).toContainEqual({ kind: "provider", namespace: MIRROR_NS, name: "dd" });
  });

  test("only the mirror namespace is served; several Providers for one address: the one named <type>, else first by name", async () => {
    await ctx.publish("team", "aws", "9.9.9");
    expect(await (await ctx.get(`${M}/registry.terraform.io/hashicorp/aws/index.json`)).json()).toEqual({ versions: {} });
    ctx.providers.put(providerObject("zz-null", MIRROR_NS, { name: "null" }));
    ctx.providers.put(providerObject("aa-null", MIRROR_NS, { name: "null" }));
    await ctx.publish(MIRROR_NS, "zz-null", "1.0.0");
    await ctx.publish(MIRROR_NS, "aa-null", "2.0.0");
    expect(await (await ctx.get(`${M}/registry.terraform.io/hashicorp/null/index.json`)).json()).toEqual({ versions: { "2.0.0": {} } });
    ctx.providers.put(providerObject("null", MIRROR_NS));
    await ctx.publish(MIRROR_NS, "null", "3.0.0");
    expect(await (await ctx.get(`${M}/registry.terraform.io/hashicorp/null/index.json`)).json()).toEqual({ versions: { "3.0.0": {} } });
    ctx.providers.remove(providerObject("null", MIRROR_NS));
    expect(await (await ctx.get(`${M}/registry.terraform.io/hashicorp/null/index.json`)).json()).toEqual({ versions: { "2.0.0": {} } });
    // Re-pointing a Provider at another upstream moves it.
    ctx.providers.put(providerObject("aa-null", MIRROR_NS, { name: "other" }));
    expect(await (await ctx.get(`${M}/registry.terraform.io/hashicorp/null/index.json`)).json()).toEqual({ versions: { "1.0.0": {} } });
    expect(await (await ctx.get(`${M}/registry.terraform.io/hashicorp/other/index.json`)).json()).toEqual({ versions: { "2.0.0": {} } });
  });

  test("unknown hostname, provider, version or document → 404 with errors; bad segments → 400", async () => {
    await ctx.publish(MIRROR_NS, "aws", "1.0.0");
    for (const path of [
      `${M}/example.com/hashicorp/aws/index.json`,
      `${M}/registry.terraform.io/hashicorp/nope/index.json`,
      `${M}/registry.terraform.io/acme/aws/index.json`,
      `${M}/registry.terraform.io/hashicorp/aws/2.0.0.json`,
      `${M}/registry.terraform.io/hashicorp/aws/index.html`,
      `${M}/registry.terraform.io/hashicorp/aws/1.0.0`,
    ]) {
      const r = await ctx.get(path);
      expect({ path, status: r.status }).toEqual({ path, status: 404 });
      expect((await r.json()).errors).toBeArray();
    }
    for (const path of [
      `${M}/Registry.Terraform.io/hashicorp/aws/index.json`,
      `${M}/registry..io/hashicorp/aws/index.json`,
      `${M}/${"a".repeat(64)}.io/hashicorp/aws/index.json`,
      `${M}/registry.terraform.io/HashiCorp/aws/index.json`,
      `${M}/registry.terraform.io/hashicorp/a.b/index.json`,
      `${M}/registry.terraform.io/hashicorp/aws/1.0.json`,
      `${M}/registry.terraform.io/hashicorp/aws/..%2F..%2Fx.json`,
    ]) {
      const r = await ctx.get(path);
      expect({ path, status: r.status }).toEqual({ path, status: 400 });
    }
  });

  test("HEAD answers like GET without a body; other methods are refused", async () => {
    await ctx.publish(MIRROR_NS, "aws", "1.0.0");
    const head = await ctx.get(`${M}/registry.terraform.io/hashicorp/aws/index.json`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
    expect((await ctx.get(`${M}/registry.terraform.io/hashicorp/aws/index.json`, { method: "POST" })).status).toBe(405);
  });

  test("the gatekeeper decides, before existence is revealed", async () => {
    ctx = await setup({ gatekeeper: { authorize: async () => new Response(null, { status: 401 }) } });
    await ctx.publish(MIRROR_NS, "aws", "1.0.0");
    expect((await ctx.get(`${M}/registry.terraform.io/hashicorp/aws/index.json`)).status).toBe(401);
    expect((await ctx.get(`${M}/registry.terraform.io/hashicorp/aws/1.0.0.json`)).status).toBe(401);
    expect((await ctx.get(`${M}/registry.terraform.io/hashicorp/nope/index.json`)).status).toBe(401);
  });

  test("no mirror config → no mirror routes", async () => {
    ctx = await setup({ mirror: false });
    await ctx.publish(MIRROR_NS, "aws", "1.0.0");
    expect((await ctx.get(`${M}/registry.terraform.io/hashicorp/aws/index.json`)).status).toBe(404);
  });

  test("mirrorConfig: defaults, allow-list, off, validation", () => {
    expect(mirrorConfig("off", undefined)).toBeUndefined();
    expect([...mirrorConfig("ns", undefined)!.hostnames]).toEqual(["registry.opentofu.org", "registry.terraform.io"]);
    expect([...mirrorConfig("ns", " Example.com:8443 ,")!.hostnames]).toEqual(["example.com:8443"]);
    expect(() => mirrorConfig("Bad_NS", undefined)).toThrow();
    expect(() => mirrorConfig("ns", "bad host")).toThrow();
  });
});
