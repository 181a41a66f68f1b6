// Finding (High): a tenant's storageConfig endpoint received the platform's cloud credentials. Replayed for every
// backend and every credential source, against a capturing server on loopback: first without a policy (the leak is
// real: the tenant's server receives an Authorization header), then with the Kubernetes default policy (the
// tenant's server receives no request at all and no credential source is even asked), then at the HTTP layer alone
// (a client built without the factory's check still refuses), and with redirects from a listed endpoint.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { generateKeyPairSync } from "node:crypto";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startGcsFake } from "../../fixtures/gcs-fake.ts";
import type { StorageConfig } from "../../src/api/types.ts";
import { modeDefaults } from "../../src/roles/storage-policy.ts";
import { AzureBlobStorage } from "../../src/storage/azure.ts";
import { streamOf } from "../../src/storage/conformance.ts";
import { StorageNotAllowedError } from "../../src/storage/endpoint-guard.ts";
import { storageFactory } from "../../src/storage/factory.ts";
import { GcsStorage } from "../../src/storage/gcs.ts";
import { StoragePolicy } from "../../src/storage/policy.ts";
import { S3Storage } from "../../src/storage/s3.ts";
import type { ArtifactStorage } from "../../src/storage/types.ts";
import { SecurityTally, credentialSources, startCapture, startCredentialServer, type CaptureServer, type CredentialSource } from "./capture.ts";

const KEY = "team-a/modules/vpc/0190a0b0-0000-7000-8000-000000000000.zip";
const tally = new SecurityTally("storage credentials (tenant-chosen endpoints)");
let tenant: CaptureServer;
let cred: CaptureServer;
let sources: CredentialSource[];

beforeAll(() => {
  tenant = startCapture();
  cred = startCredentialServer();
  sources = credentialSources(cred);
});
afterAll(() => {
  tally.print({ credentialRequests: cred.requests.length, sources: sources.length });
  tenant.stop();
  cred.stop();
});

function tenantConfig(backend: CredentialSource["backend"], endpoint: string): StorageConfig {
  if (backend === "s3") return { s3: { bucket: "whatever", region: "us-east-1", endpoint, forcePathStyle: true } };
  if (backend === "gcs") return { gcs: { bucket: "whatever", endpoint } };
  return { azureStorage: { accountName: "platformacct", accountUrl: endpoint, subscriptionID: "sub", resourceGroup: "rg" } };
}

const kubernetesDefault = () => new StoragePolicy(modeDefaults({ kind: "kubernetes", ownNamespace: "opendepot-system" }));

/** Every operation of ArtifactStorage; each must fail without a request. */
const operations: [string, (s: ArtifactStorage) => Promise<unknown>][] = [
  ["put", (s) => s.put(KEY, streamOf(new Uint8Array(1024)))],
  ["get", (s) => s.get(KEY)],
  ["head", (s) => s.head(KEY)],
  ["delete", (s) => s.delete(KEY)],
  ["presign", (s) => s.presign(KEY, 60)],
];

describe("tenant-chosen endpoint", () => {
  test("without a policy the finding reproduces: the tenant's server gets the platform's credentials", async () => {
    for (const source of sources) {
      tenant.reset();
      const storage = storageFactory({ env: source.env, http: { retries: 0 }, policy: StoragePolicy.permissive() })(tenantConfig(source.backend, tenant.url), "team-a");
      await storage.head(KEY).catch(() => undefined);
      expect(tenant.requests.length, source.name).toBeGreaterThan(0);
      expect(tenant.requests[0]!.authorization, source.name).toBeTruthy();
    }
    tenant.reset();
    cred.reset();
  });

  test("with the Kubernetes default policy: StorageNotAllowed naming the field, no request, no credential loaded", async () => {
    const factory = (env: Record<string, string>) => storageFactory({ env, http: { retries: 0 }, policy: kubernetesDefault() });
    const fields = { s3: "s3.endpoint", gcs: "gcs.endpoint", azureStorage: "azureStorage.accountUrl" };
    for (const source of sources) {
      for (const endpoint of [tenant.url, "http://169.254.169.254", "http://10.0.0.1:8080", "http://[::1]:6443"]) {
        tally.tried++;
        let error: unknown;
        try {
          factory(source.env)(tenantConfig(source.backend, endpoint), "team-a");
        } catch (e) {
          error = e;
        }
        expect(error, `${source.name} ${endpoint}`).toBeInstanceOf(StorageNotAllowedError);
        expect((error as StorageNotAllowedError).field).toBe(fields[source.backend]);
        tally.refused++;
      }
    }
    expect(tenant.requests).toHaveLength(0);
    expect(cred.requests).toHaveLength(0);
  });

  test("the server's own namespace stays trusted (v0.9): it may name a custom endpoint", () => {
    const storage = storageFactory({ env: {}, policy: kubernetesDefault() })(tenantConfig("gcs", tenant.url), "opendepot-system");
    expect(storage.description).toContain(tenant.url);
    expect(tenant.requests).toHaveLength(0);
  });

  test("at the HTTP layer alone (a client built past the factory's check): every operation refused before credentials", async () => {
    const policy = kubernetesDefault();
    for (const source of sources) {
      const config = tenantConfig(source.backend, tenant.url);
      const endpointGuard = policy.endpointGuard("team-a", config);
      const common = { env: source.env, retries: 0, endpointGuard };
      const storage: ArtifactStorage =
        source.backend === "s3"
          ? new S3Storage({ ...common, ...config.s3! })
          : source.backend === "gcs"
            ? new GcsStorage({ ...common, ...config.gcs! })
            : new AzureBlobStorage({ ...common, accountUrl: tenant.url, accountName: "platformacct" });
      for (const [name, op] of operations) {
        tally.tried++;
        const error = await op(storage).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error, `${source.name} ${name}`).toBeInstanceOf(StorageNotAllowedError);
        tally.refused++;
      }
    }
    expect(tenant.requests).toHaveLength(0);
    expect(cred.requests).toHaveLength(0);
  });

  test("a listed endpoint works, and its redirects are never followed with credentials", async () => {
    const elsewhere = startCapture();
    const listed = startCapture(() => new Response(null, { status: 307, headers: { location: `${elsewhere.url}/stolen` } }));
    try {
      for (const source of sources) {
        const policy = new StoragePolicy({ default: { endpoints: [listed.url], buckets: ["whatever"], azureAccounts: ["platformacct"] } });
        const storage = storageFactory({ env: source.env, http: { retries: 0 }, policy })(tenantConfig(source.backend, listed.url), "team-a");
        listed.reset();
        tally.tried++;
        await storage.head(KEY).catch(() => undefined);
        expect(listed.requests.length, source.name).toBeGreaterThan(0);
        expect(listed.requests[0]!.authorization, source.name).toBeTruthy();
        if (elsewhere.requests.length === 0) tally.refused++;
      }
      expect(elsewhere.requests).toHaveLength(0);
      tally.bytesLeaked += elsewhere.bytes();
    } finally {
      listed.stop();
      elsewhere.stop();
    }
  });
});

describe("a listed endpoint against a real peer", () => {
  test("GCS fake listed for team-a: put, head, get and delete work through the policed factory; team-b is refused", async () => {
    const keys = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const pem = keys.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const email = "registry@opendepot-test.iam.gserviceaccount.com";
    const fake = await startGcsFake({ buckets: ["team-a-artifacts"], serviceAccounts: [{ email, publicKey: keys.publicKey }] });
    try {
      const keyFile = join(tmpdir(), `opendepot-sec-sa-${crypto.randomUUID()}.json`);
      await Bun.write(keyFile, JSON.stringify({ type: "service_account", client_email: email, private_key: pem, token_uri: fake.tokenUri }));
      const policy = new StoragePolicy({ namespaces: { "team-a": { endpoints: [fake.url], buckets: ["team-a-*"] } } });
      const factory = storageFactory({ env: { GOOGLE_APPLICATION_CREDENTIALS: keyFile }, policy });
      const config: StorageConfig = { gcs: { bucket: "team-a-artifacts", endpoint: fake.url } };
      const storage = factory(config, "team-a");
      const bytes = new TextEncoder().encode("module archive bytes");
      const put = await storage.put(KEY, streamOf(bytes));
      expect((await storage.head(KEY))?.pin).toBe(put.pin);
      expect(new Uint8Array(await new Response((await storage.get(KEY)).body).arrayBuffer())).toEqual(bytes);
      await storage.delete(KEY);
      tally.tried += 2;
      expect(() => factory(config, "team-b")).toThrow(StorageNotAllowedError);
      expect(() => factory({ gcs: { bucket: "team-b-artifacts", endpoint: fake.url } }, "team-a")).toThrow("gcs.bucket");
      tally.refused += 2;
      await rm(keyFile, { force: true });
    } finally {
      await fake.stop();
    }
  }, 60_000);
});
