// When a download counts: bytes served by GET (a ranged GET only when it starts at byte 0) or a pre-signed
// redirect issued; never the 204 download step, HEAD, a refused URL or an unsatisfiable range.
import { beforeEach, expect, test } from "bun:test";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ModuleObject, ProviderObject, VersionObject } from "../api/kinds.ts";
import { API_VERSION } from "../api/meta.ts";
import type { StorageConfig } from "../api/types.ts";
import { silentLogger } from "../log.ts";
import { FilesystemStorage } from "../storage/filesystem.ts";
import type { DownloadEvent } from "../stats/types.ts";
import { publishModule, publishProvider } from "../../test/support/publish.ts";
import { feedStore, StaticFeed } from "../../test/support/static-feed.ts";
import type { JsonResponse } from "../../test/support/ports.ts";
import { createApp } from "./app.ts";
import { ArtifactDelivery } from "./artifact-delivery.ts";
import { RegistryIndex } from "./registry-index.ts";
import { UrlSigner } from "./url-signer.ts";

/** Filesystem storage that can also pre-sign (a fake bucket URL), to exercise the redirect path. */
class PresigningFilesystem extends FilesystemStorage {
  override async presign(key: string, ttl: number): Promise<string> {
    return `https://bucket.example/${key}?ttl=${ttl}`;
  }
}

let events: DownloadEvent[];
let ctx: Awaited<ReturnType<typeof setup>>;

async function setup() {
  const storage = new PresigningFilesystem(await mkdtemp(join(tmpdir(), "opendepot-count-")));
  const storageFor = () => storage;
  const modules = new StaticFeed<ModuleObject>([{ apiVersion: API_VERSION, kind: "Module", metadata: { name: "vpc", namespace: "team" }, spec: { moduleConfig: { provider: "aws" }, versions: [] } }]);
  const providers = new StaticFeed<ProviderObject>([{ apiVersion: API_VERSION, kind: "Provider", metadata: { name: "widget", namespace: "team" }, spec: { providerConfig: {}, versions: [] } }]);
  const versions = new StaticFeed<VersionObject>();
  const store = feedStore(versions);
  const onDownload = (v: VersionObject) => events.push({ namespace: v.metadata.namespace!, kind: v.spec.type === "Module" ? "module" : "provider", name: v.spec.moduleConfigRef?.name ?? v.spec.providerConfigRef?.name ?? "", version: v.spec.version, at: 0 });
  const app = createApp({
    index: new RegistryIndex({ modules, providers, versions }),
    delivery: new ArtifactDelivery(storageFor, silentLogger, { onDownload }),
    urls: new UrlSigner(new Uint8Array(32).fill(3), 600),
    signer: { keyId: "0", publicKeyArmored: "", sign: async () => new Uint8Array([0x88]) },
    gatekeeper: { authorize: async () => undefined },
    log: silentLogger,
    ready: () => true,
  });
  const get = (path: string, init?: RequestInit) => app.handle(new Request(`http://localhost${path}`, init)) as Promise<JsonResponse>;
  return { store, storageFor, get, versions };
}

beforeEach(async () => {
  events = [];
  ctx = await setup();
});

async function moduleLocation(storageConfig?: StorageConfig) {
  await publishModule(ctx.store, ctx.storageFor, { namespace: "team", module: "vpc", version: "1.0.0", files: { "main.tf": "# a module of some length\n".repeat(20) }, storageConfig });
  const r = await ctx.get("/opendepot/modules/v1/team/vpc/aws/1.0.0/download");
  expect(r.status).toBe(204);
  return r.headers.get("x-terraform-get")!;
}

test("module: the 204 step and HEAD do not count; a GET does, once", async () => {
  const location = await moduleLocation();
  expect(events).toHaveLength(0);
  expect((await ctx.get(location, { method: "HEAD" })).status).toBe(200);
  expect(events).toHaveLength(0);
  const got = await ctx.get(location);
  expect(got.status).toBe(200);
  await got.arrayBuffer();
  expect(events).toEqual([{ namespace: "team", kind: "module", name: "vpc", version: "1.0.0", at: 0 }]);
});

test("ranges: only the part starting at byte 0 counts; an unsatisfiable range or a refused URL never does", async () => {
  const location = await moduleLocation();
  expect((await ctx.get(location, { headers: { range: "bytes=0-99" } })).status).toBe(206);
  expect((await ctx.get(location, { headers: { range: "bytes=100-" } })).status).toBe(206);
  expect((await ctx.get(location, { headers: { range: "bytes=-10" } })).status).toBe(206);
  expect((await ctx.get(location, { headers: { range: "bytes=999999-" } })).status).toBe(416);
  expect((await ctx.get(location.replace(/signature=[^&]+/, "signature=forged"))).status).toBe(403);
  expect(events).toHaveLength(1);
});

test("pre-signed redirects count (not for HEAD, not for a resumed range); provider zips count per download", async () => {
  const location = await moduleLocation({ s3: { bucket: "b", region: "r" }, presign: { enabled: true } });
  expect((await ctx.get(location)).status).toBe(307);
  expect((await ctx.get(location, { headers: { range: "bytes=50-" } })).status).toBe(307);
  expect((await ctx.get(location, { method: "HEAD" })).status).toBe(200);
  expect(events).toHaveLength(1);

  await publishProvider(ctx.store, ctx.storageFor, { namespace: "team", provider: "widget", version: "2.0.0", os: "linux", arch: "amd64", binary: "bin" });
  const meta = await (await ctx.get("/opendepot/providers/v1/team/widget/2.0.0/download/linux/amd64")).json();
  await (await ctx.get(meta.shasums_url)).text();
  await (await ctx.get(meta.shasums_signature_url)).arrayBuffer();
  expect(events).toHaveLength(1); // metadata, SHA256SUMS and its signature are not downloads
  await (await ctx.get(meta.download_url)).arrayBuffer();
  expect(events.at(-1)).toEqual({ namespace: "team", kind: "provider", name: "widget", version: "2.0.0", at: 0 });
});
