// GCS backend against the JSON-API fake (fixtures/gcs-fake.ts): the conformance suite with a service-account key
// (JWT bearer grant → token → JSON API; V4 URLs verified by the fake), workload identity via the metadata server
// and IAM signBlob, resumable chunking and resume after a transient failure.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { generateKeyPairSync } from "node:crypto";
import { startGcsFake, type GcsFake } from "../../fixtures/gcs-fake.ts";
import { storageConformance, streamOf, testBytes } from "./conformance.ts";
import { metadataServerCredentials, serviceAccountCredentials, type GcpCredentials } from "./credentials/gcp.ts";
import { GcsStorage } from "./gcs.ts";
import { StorageError } from "./types.ts";

const MiB = 1024 * 1024;
const EMAIL = "registry@opendepot-test.iam.gserviceaccount.com";
const WORKLOAD = "workload@opendepot-test.iam.gserviceaccount.com";
const keys = generateKeyPairSync("rsa", { modulusLength: 2048 });
const privatePem = keys.privateKey.export({ type: "pkcs8", format: "pem" }).toString();

let fake: GcsFake | undefined;
let starting: Promise<GcsFake> | undefined;
const peer = () =>
  (starting ??= startGcsFake({
    buckets: ["opendepot-test"],
    serviceAccounts: [
      { email: EMAIL, publicKey: keys.publicKey },
      { email: WORKLOAD, publicKey: keys.publicKey, privateKeyPem: privatePem },
    ],
    workloadIdentity: WORKLOAD,
  }).then((f) => (fake = f)));
afterAll(async () => {
  await fake?.stop();
});

const keyCredentials = (f: GcsFake) => serviceAccountCredentials({ type: "service_account", client_email: EMAIL, private_key: privatePem, token_uri: f.tokenUri });

function fakeStorage(f: GcsFake, extra: Partial<ConstructorParameters<typeof GcsStorage>[0]> = {}): GcsStorage {
  return new GcsStorage({ bucket: "opendepot-test", endpoint: f.url, credentials: keyCredentials(f), resumableThreshold: 1 * MiB, chunkSize: 1 * MiB, retryBaseMs: 10, ...extra });
}

const wrongToken: GcpCredentials = {
  source: "test: a token the server never issued",
  token: async () => ({ token: "ya29.not-a-real-token", expiresAt: new Date(Date.now() + 3600_000) }),
  signer: async () => Promise.reject(new StorageError("Credentials", "no signer")),
};

storageConformance("gcs on the JSON-API fake", async () => {
  const f = await peer();
  return {
    storage: fakeStorage(f),
    cleanup: async () => {},
    checksPresignSignatures: true,
    largeSize: 6 * MiB + 999,
    denied: () => fakeStorage(f, { credentials: wrongToken }),
    pendingUploads: async () => f.openSessions(),
  };
});

describe("gcs client behaviour (fake)", () => {
  let f: GcsFake;
  beforeAll(async () => {
    f = await peer();
  });

  test("large objects stream as 256 KiB-aligned resumable chunks and the SHA-256 is recorded", async () => {
    const ranges: string[] = [];
    f.intercept = (req) => {
      if (req.method === "PUT") ranges.push(req.headers.get("content-range") ?? "");
      return undefined;
    };
    try {
      const storage = fakeStorage(f, { chunkSize: 1 * MiB + 1 }); // rounded up to 1.25 MiB
      const data = testBytes(3 * MiB, 31);
      const put = await storage.put("r/team/providers/x/a.zip", streamOf(data));
      const c = 1.25 * MiB;
      expect(ranges).toEqual([`bytes 0-${c - 1}/*`, `bytes ${c}-${2 * c - 1}/*`, `bytes ${2 * c}-${3 * MiB - 1}/${3 * MiB}`]);
      expect((await storage.head("r/team/providers/x/a.zip"))?.sha256).toBe(put.sha256);
      expect((await storage.head("r/team/providers/x/a.zip"))?.pin).toBe(put.pin);
    } finally {
      f.intercept = undefined;
    }
  });

  test("a chunk that fails with 503 is resumed from the persisted offset", async () => {
    let failed = 0;
    f.intercept = (req) => {
      if (req.method === "PUT" && /^bytes 1310720-/.test(req.headers.get("content-range") ?? "") && failed++ === 0) {
        return Response.json({ error: { code: 503, message: "Backend Error", errors: [{ reason: "backendError" }] } }, { status: 503 });
      }
      return undefined;
    };
    try {
      const storage = fakeStorage(f, { chunkSize: 1.25 * MiB });
      const data = testBytes(4 * MiB, 32);
      const put = await storage.put("resume/team/modules/x/a.zip", streamOf(data));
      expect(failed).toBeGreaterThan(0);
      const got = new Uint8Array(await new Response((await storage.get("resume/team/modules/x/a.zip")).body).arrayBuffer());
      expect(got).toEqual(data);
      expect(put.size).toBe(data.byteLength);
    } finally {
      f.intercept = undefined;
    }
  });

  test("workload identity: metadata-server token, URLs signed through IAM signBlob", async () => {
    const credentials = metadataServerCredentials({ env: { GCE_METADATA_HOST: new URL(f.url).host }, iamEndpoint: f.url });
    const storage = fakeStorage(f, { credentials });
    const data = testBytes(1000, 33);
    await storage.put("wi/team/modules/x/a.zip", streamOf(data));
    const url = await storage.presign("wi/team/modules/x/a.zip", 60);
    expect(url).toContain(encodeURIComponent(WORKLOAD));
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(data);
  });

  test("an expected SHA-256 that does not match fails as Invalid, commits nothing and cancels the session", async () => {
    const storage = fakeStorage(f);
    const wrong = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
    for (const size of [100, 3 * MiB]) {
      const key = `sum/team/modules/x/${size}.zip`;
      const err = await storage.put(key, streamOf(testBytes(size, 34)), { sha256: wrong }).then(() => undefined, (e: StorageError) => e);
      expect(err?.kind).toBe("Invalid");
      expect(await storage.head(key)).toBeUndefined();
    }
    expect(f.openSessions()).toBe(0);
  });

  test("a missing bucket is an error, not an absent object", async () => {
    const storage = fakeStorage(f, { bucket: "no-such-bucket" });
    expect(await storage.head("x/team/modules/x/a.zip").then(() => "absent", (e: StorageError) => e.kind)).toBe("NotFound");
  });
});
