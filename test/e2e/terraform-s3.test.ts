// Acceptance: the real Terraform CLI installs a module and a provider whose artifacts live in the S3 backend (a real
// SigV4-verifying OpenStack Swift s3api on loopback), once proxied through the registry and once through a 307 to a
// pre-signed bucket URL. Namespace `proxied` has presign off, namespace `presigned` has it on; one registry serves both.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ModuleObject, ProviderObject, VersionObject } from "../../src/api/kinds.ts";
import { API_VERSION } from "../../src/api/meta.ts";
import type { StorageConfig } from "../../src/api/types.ts";
import { EmbeddedStore } from "../../src/store/embedded.ts";
import { storageFactory } from "../../src/storage/factory.ts";
import { locateArtifact, type StorageFor } from "../../src/storage/locate.ts";
import { startSwift, type SwiftPeer } from "../peers/swift.ts";
import { waitFor, type JsonResponse } from "../support/ports.ts";
import { installSampleModules, installSampleProvider, publishSampleRegistry, SAMPLE } from "../support/sample-registry.ts";
import { startStandalone, type StandaloneProcess } from "../support/standalone-process.ts";
import { TERRAFORM } from "../support/terraform.ts";

let swift: SwiftPeer;
let server: StandaloneProcess;
let root: string;
let storageFor: StorageFor;
const published: Record<string, Awaited<ReturnType<typeof publishSampleRegistry>>> = {};

function declare(namespace: string, storageConfig: StorageConfig): [ModuleObject, ProviderObject] {
  return [
    {
      apiVersion: API_VERSION,
      kind: "Module",
      metadata: { name: SAMPLE.module, namespace },
      spec: { moduleConfig: { provider: "aws", repoOwner: "acme", fileFormat: "zip", storageConfig }, versions: [{ version: SAMPLE.moduleVersion }] },
    },
    {
      apiVersion: API_VERSION,
      kind: "Provider",
      metadata: { name: SAMPLE.provider, namespace },
      spec: {
        providerConfig: { namespace: "acme", operatingSystems: ["linux", "darwin"], architectures: ["amd64", "arm64"], storageConfig },
        versions: [{ version: SAMPLE.providerVersion }],
      },
    },
  ];
}

beforeAll(async () => {
  if (!existsSync(TERRAFORM)) throw new Error(`Terraform CLI not found at ${TERRAFORM}: the acceptance tests need it`);
  swift = await startSwift({ bucket: "opendepot-e2e" });
  root = await mkdtemp(join(tmpdir(), "opendepot-e2e-s3-"));
  const dataDir = join(root, "data");
  await mkdir(dataDir, { recursive: true });
  // The registry reads its S3 credentials from the environment (the first source of the AWS chain).
  const env = { AWS_ACCESS_KEY_ID: swift.accessKeyId, AWS_SECRET_ACCESS_KEY: swift.secretAccessKey };
  const s3 = { bucket: swift.bucket, region: "us-east-1", endpoint: swift.endpoint, forcePathStyle: true };
  const store = EmbeddedStore.open(join(dataDir, "store.db"), { namespaces: ["proxied", "presigned"] });
  storageFor = storageFactory({ env });
  for (const [namespace, storageConfig] of [
    ["proxied", { s3 }],
    ["presigned", { s3, presign: { enabled: true } }],
  ] as const) {
    for (const o of declare(namespace, storageConfig)) await store.create(o);
    published[namespace] = await publishSampleRegistry(store, storageFor, { namespace, storageConfig });
  }
  await store.close();
  // Swift on loopback is a custom endpoint: the operator lists it in the storage policy.
  server = await startStandalone({ dataDir, extra: ["--controllers", "", "--storage-allowed-endpoints", swift.endpoint], env });
}, 120_000);

afterAll(async () => {
  await server?.stop();
  await swift?.stop();
  if (root) await rm(root, { recursive: true, force: true });
}, 30_000);

const get = (url: string, init?: RequestInit) => fetch(new URL(url, server.url), { redirect: "manual", ...init }) as Promise<JsonResponse>;
const sha256 = (bytes: ArrayBuffer) => new Bun.CryptoHasher("sha256").update(new Uint8Array(bytes)).digest("base64");

/**
 * Runs `install`, then returns what the registry answered to the artifact downloads (module archives and provider
 * zips) of `namespace` meanwhile, as `<kind> <method> <status>`. Log lines arrive asynchronously from the child
 * process: wait until both a module archive and the provider zip were fetched.
 */
async function artifactRequestsDuring(namespace: string, install: () => Promise<unknown>): Promise<string[]> {
  const before = server.logs().length;
  await install();
  const kindOf = (path: string) =>
    path.startsWith(`/opendepot/modules/v1/${namespace}/`) && path.includes("/archive/")
      ? "module"
      : path.startsWith(`/opendepot/providers/v1/${namespace}/widget/2.1.0/download/linux/amd64/`)
        ? "provider"
        : undefined;
  const requests = () =>
    server
      .logs()
      .slice(before)
      .filter((l) => l.msg === "request" && typeof l.path === "string" && kindOf(l.path))
      .map((l) => `${kindOf(l.path as string)} ${l.method} ${l.status}`);
  return waitFor(() => {
    const r = requests();
    return r.some((x) => x.startsWith("module GET")) && r.some((x) => x.startsWith("provider GET")) && r;
  }, 5_000, `artifact downloads of ${namespace} in the registry log`);
}

async function providerDownloadUrl(namespace: string): Promise<string> {
  const meta = await (await get(`/opendepot/providers/v1/${namespace}/widget/2.1.0/download/linux/amd64`)).json();
  return meta.download_url;
}

test("the artifacts live in the bucket, not on the registry's disk", async () => {
  for (const ns of ["proxied", "presigned"]) {
    for (const v of [published[ns]!.module, ...published[ns]!.builds] as VersionObject[]) {
      const { storage, key } = locateArtifact(v, storageFor);
      expect(storage.description).toContain(swift.bucket);
      expect((await storage.head(key))?.size).toBe(v.status!.archiveSizeBytes!);
    }
  }
  expect(existsSync(join(root, "data", "artifacts"))).toBe(false);
});

describe("presign disabled: bytes are streamed through the registry", () => {
  test("terraform init installs the module (+ //modules/sub, validate) and the provider", async () => {
    const requests = await artifactRequestsDuring("proxied", async () => {
      await installSampleModules(server.url, { namespace: "proxied" });
      await installSampleProvider(server.url, { namespace: "proxied" });
    });
    expect(requests.filter((s) => !s.endsWith(" 200"))).toEqual([]);
  }, 60_000);
});

describe("presign enabled: Terraform follows a 307 to a pre-signed Swift URL", () => {
  test("the signed download URL redirects to a SigV4 query-signed bucket URL that serves the verified bytes", async () => {
    const build = published.presigned!.builds.find((b) => b.spec.operatingSystem === "linux")!;
    const r = await get(await providerDownloadUrl("presigned"));
    expect(r.status).toBe(307);
    expect(r.headers.get("cache-control")).toBe("no-store");
    const location = new URL(r.headers.get("location")!);
    expect(location.origin + location.pathname).toBe(`${swift.endpoint}/${swift.bucket}/${locateArtifact(build, storageFor).key}`);
    expect(location.searchParams.get("X-Amz-Algorithm")).toBe("AWS4-HMAC-SHA256");
    // 15m by default, and never beyond the registry URL's own lifetime (also 15m in standalone by default).
    expect(Number(location.searchParams.get("X-Amz-Expires"))).toBeLessThanOrEqual(900);
    const bucket = await fetch(location);
    expect(bucket.status).toBe(200);
    expect(sha256(await bucket.arrayBuffer())).toBe(build.status!.checksum!);

    // Swift verifies the signature: an altered signature, or the same signature on another object, is refused.
    const forged = new URL(location);
    const sig = forged.searchParams.get("X-Amz-Signature")!;
    forged.searchParams.set("X-Amz-Signature", (sig[0] === "a" ? "b" : "a") + sig.slice(1));
    expect((await fetch(forged)).status).toBe(403);
    const other = new URL(location);
    const darwin = published.presigned!.builds.find((b) => b.spec.operatingSystem === "darwin")!;
    other.pathname = `/${swift.bucket}/${locateArtifact(darwin, storageFor).key}`;
    expect((await fetch(other)).status).toBe(403);
  });

  test("terraform init installs the module (+ //modules/sub, validate) and the provider through the redirect", async () => {
    const requests = await artifactRequestsDuring("presigned", async () => {
      await installSampleModules(server.url, { namespace: "presigned" });
      await installSampleProvider(server.url, { namespace: "presigned" });
    });
    // Every artifact GET Terraform made was answered with a redirect: the bytes came from Swift. HEADs (go-getter
    // sizes downloads with one) are answered by the registry, since bucket signatures cover GET only.
    expect(requests.filter((s) => !s.endsWith(" 307") && !s.includes(" HEAD 200"))).toEqual([]);
    expect(requests.filter((s) => s.endsWith(" 307")).length).toBeGreaterThan(0);

  }, 60_000);
});
