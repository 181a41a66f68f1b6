// Azure Blob backend: the conformance suite against Azurite (checks SharedKey and SAS signatures like Azure),
// plus block uploads and credential selection.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { AZURITE_KEY, startAzurite, type AzuritePeer } from "../../test/peers/azurite.ts";
import { AzureBlobStorage } from "./azure.ts";
import { storageConformance, streamOf, testBytes } from "./conformance.ts";
import { azureCredentialFromEnv } from "./credentials/azure.ts";
import { StorageError } from "./types.ts";

const MiB = 1024 * 1024;
let azurite: AzuritePeer | undefined;
let starting: Promise<AzuritePeer> | undefined;
const peer = () => (starting ??= startAzurite().then((p) => (azurite = p)));
afterAll(async () => {
  await azurite?.stop();
}, 30_000);

function azuriteStorage(p: AzuritePeer, extra: Partial<ConstructorParameters<typeof AzureBlobStorage>[0]> = {}): AzureBlobStorage {
  return new AzureBlobStorage({
    accountUrl: p.accountUrl,
    accountName: p.accountName,
    container: "opendepot-test",
    credential: { kind: "sharedKey", key: { accountName: p.accountName, accountKey: p.accountKey }, source: "test key" },
    singlePutThreshold: 1 * MiB,
    blockSize: 1 * MiB,
    retryBaseMs: 20,
    ...extra,
  });
}

storageConformance("azure blob on Azurite", async () => {
  const p = await peer();
  return {
    storage: azuriteStorage(p),
    cleanup: async () => {},
    checksPresignSignatures: true,
    largeSize: 6 * MiB + 4321,
    denied: () =>
      azuriteStorage(p, {
        credential: { kind: "sharedKey", key: { accountName: p.accountName, accountKey: Buffer.from("wrong key wrong key wrong key!!!").toString("base64") }, source: "wrong test key" },
      }),
  };
});

describe("azure blob on Azurite: client behaviour", () => {
  let p: AzuritePeer;
  beforeAll(async () => {
    p = await peer();
  }, 60_000);

  test("large objects are uploaded as blocks and committed with one block list", async () => {
    const seen: string[] = [];
    const storage = azuriteStorage(p, {
      container: "blocks-test",
      fetch: (input, init) => {
        const req = input instanceof Request ? new Request(input, init) : new Request(input.toString(), init);
        seen.push(`${req.method} ${new URL(req.url).searchParams.get("comp") ?? new URL(req.url).searchParams.get("restype") ?? ""}`);
        return fetch(req);
      },
    });
    const data = testBytes(2 * MiB + 5, 21);
    const put = await storage.put("b/team/modules/x/a.zip", streamOf(data));
    expect(seen).toEqual(["PUT container", "PUT block", "PUT block", "PUT block", "PUT blocklist"]);
    const head = await storage.head("b/team/modules/x/a.zip");
    expect(head).toMatchObject({ size: data.byteLength, pin: put.pin, sha256: put.sha256, contentType: "application/zip" });
  });

  test("the container is created on first write and an existing one is fine", async () => {
    const a = azuriteStorage(p, { container: "fresh-container" });
    const b = azuriteStorage(p, { container: "fresh-container" });
    await a.put("c/team/modules/x/a.zip", streamOf(testBytes(10, 1)));
    await b.put("c/team/modules/x/b.zip", streamOf(testBytes(10, 2)));
    expect((await b.head("c/team/modules/x/a.zip"))?.size).toBe(10);
  });

  test("an expected SHA-256 that does not match fails as Invalid and commits nothing", async () => {
    const storage = azuriteStorage(p);
    const wrong = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
    for (const size of [100, 3 * MiB]) {
      const key = `sum/team/modules/x/${size}.zip`;
      const err = await storage.put(key, streamOf(testBytes(size, 3)), { sha256: wrong }).then(() => undefined, (e: StorageError) => e);
      expect(err?.kind).toBe("Invalid");
      expect(await storage.head(key)).toBeUndefined();
    }
  });

  test("reading from a container that does not exist is NotFound", async () => {
    const storage = azuriteStorage(p, { container: "never-created" });
    expect(await storage.head("x/team/modules/x/a.zip")).toBeUndefined();
    expect(await storage.get("x/team/modules/x/a.zip").then(() => "found", (e: StorageError) => e.kind)).toBe("NotFound");
    await storage.delete("x/team/modules/x/a.zip");
  });
});

describe("azure credentials from the environment", () => {
  test("AZURE_STORAGE_KEY, then a connection string, then workload identity; errors list what was tried", async () => {
    const key = azureCredentialFromEnv("acct", { env: { AZURE_STORAGE_KEY: AZURITE_KEY } });
    expect(key.kind).toBe("sharedKey");
    const cs = azureCredentialFromEnv("acct", { env: { AZURE_STORAGE_CONNECTION_STRING: `DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=${AZURITE_KEY};EndpointSuffix=core.windows.net` } });
    expect(cs.kind === "sharedKey" && cs.key.accountKey).toBe(AZURITE_KEY);
    const wi = azureCredentialFromEnv("acct", { env: { AZURE_FEDERATED_TOKEN_FILE: "/x", AZURE_CLIENT_ID: "c", AZURE_TENANT_ID: "t" } });
    expect(wi.kind === "token" && wi.provider.source).toContain("workload identity");
    const none = azureCredentialFromEnv("acct", { env: {} });
    const err = none.kind === "token" ? await none.provider.get().then(() => undefined, (e: StorageError) => e) : undefined;
    expect(err?.kind).toBe("Credentials");
    expect(err?.message).toContain("AZURE_STORAGE_KEY (unset)");
    expect(err?.message).toContain("workload identity");
  });
});
