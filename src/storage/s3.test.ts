// S3 backend: the conformance suite against a real SigV4-verifying server (OpenStack Swift s3api on loopback),
// plus SigV4 known-answer cases from the AWS documentation and the client's own failure handling.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startSwift, type SwiftPeer } from "../../test/peers/swift.ts";
import { storageConformance, streamOf, testBytes } from "./conformance.ts";
import { staticAwsCredentials } from "./credentials/aws.ts";
import { abortMultipart } from "./s3-multipart.ts";
import { S3Transport } from "./s3-request.ts";
import { S3Storage } from "./s3.ts";
import { StorageError } from "./types.ts";
import { sleep } from "../kits/sleep.ts";
import { runtime } from "../runtime/index.ts";
import { createServer, type AddressInfo, type Socket } from "node:net";

const MiB = 1024 * 1024;
let swift: SwiftPeer | undefined;
let swiftStarting: Promise<SwiftPeer> | undefined;
const peer = () => (swiftStarting ??= startSwift().then((p) => (swift = p)));
afterAll(async () => {
  await swift?.stop();
}, 30_000);

function swiftStorage(p: SwiftPeer, extra: Partial<ConstructorParameters<typeof S3Storage>[0]> = {}): S3Storage {
  return new S3Storage({
    bucket: p.bucket,
    region: p.region,
    endpoint: p.endpoint,
    forcePathStyle: true,
    credentials: staticAwsCredentials({ accessKeyId: p.accessKeyId, secretAccessKey: p.secretAccessKey }),
    multipartThreshold: 5 * MiB,
    retryBaseMs: 20,
    ...extra,
  });
}

storageConformance("s3 on OpenStack Swift s3api", async () => {
  const p = await peer();
  const storage = swiftStorage(p);
  return {
    storage,
    cleanup: async () => {},
    checksPresignSignatures: true,
    largeSize: 12 * MiB + 12_345,
    denied: () => swiftStorage(p, { credentials: staticAwsCredentials({ accessKeyId: p.accessKeyId, secretAccessKey: "wrong-secret" }) }),
    pendingUploads: async (key) => (await storage.listMultipartUploads(key)).length,
  };
});

describe("s3 on Swift: client behaviour", () => {
  let p: SwiftPeer;
  beforeAll(async () => {
    p = await peer();
  }, 120_000);

  test("objects above the threshold go up as streamed parts, at most one part buffered", async () => {
    const requests: string[] = [];
    const storage = swiftStorage(p, {
      fetch: async (input, init) => {
        const req = input instanceof Request ? new Request(input, init) : new Request(input.toString(), init);
        requests.push(`${req.method} ${new URL(req.url).search.replace(/uploadId=[^&]+/, "uploadId=*")}`);
        return fetch(req);
      },
    });
    const data = testBytes(11 * MiB, 11);
    const put = await storage.put("mp/team/modules/x/a.zip", streamOf(data));
    expect(put.size).toBe(data.byteLength);
    expect(requests).toEqual(["POST ?uploads=", "PUT ?partNumber=1&uploadId=*", "PUT ?partNumber=2&uploadId=*", "PUT ?partNumber=3&uploadId=*", "POST ?uploadId=*"]);
    expect(put.pin).toMatch(/-3$/);
  });

  test("in-progress multipart uploads are listed (so the no-orphans checks are not vacuous)", async () => {
    const storage = swiftStorage(p);
    const key = "orphan/team/modules/x/a.zip";
    const res = await storage.transport.send("create", { method: "POST", key, query: { uploads: "" }, idempotent: false });
    const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(await res.text())?.[1];
    expect(uploadId).toBeTruthy();
    expect(await storage.listMultipartUploads(key)).toEqual([{ key, uploadId: uploadId! }]);
    await abortMultipart(storage.transport, key, uploadId!);
    expect(await storage.listMultipartUploads(key)).toEqual([]);
  });

  test("a small object is one signed PUT that records the SHA-256 as metadata", async () => {
    const storage = swiftStorage(p);
    const data = testBytes(1000, 12);
    const put = await storage.put("meta/team/modules/x/a.zip", streamOf(data));
    expect((await storage.head("meta/team/modules/x/a.zip"))?.sha256).toBe(put.sha256);
    expect((await storage.head("meta/team/modules/x/a.zip"))?.contentType).toBe("application/zip");
  });

  test("an expected SHA-256 that does not match fails as Invalid and stores nothing", async () => {
    const storage = swiftStorage(p);
    const wrong = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
    for (const [key, size] of [["sum/team/modules/x/small.zip", 1000], ["sum/team/modules/x/large.zip", 6 * MiB]] as const) {
      const err = await storage.put(key, streamOf(testBytes(size, 13)), { sha256: wrong }).catch((e) => e);
      expect(err).toBeInstanceOf(StorageError);
      expect((err as StorageError).kind).toBe("Invalid");
      expect(await storage.head(key)).toBeUndefined();
      expect(await storage.listMultipartUploads(key)).toEqual([]);
    }
  });

  test("a missing bucket is NotFound on get and surfaces on delete", async () => {
    const storage = swiftStorage(p, { bucket: "no-such-bucket-here" });
    expect(await storage.get("x/team/modules/x/a.zip").then(() => "found", (e: StorageError) => e.kind)).toBe("NotFound");
    expect(await storage.delete("x/team/modules/x/a.zip").then(() => "deleted", (e: StorageError) => e.message)).toContain("NoSuchBucket");
  });
});

describe("s3 client failure handling (local fake)", () => {
  test("5xx is retried with backoff, then succeeds", async () => {
    let calls = 0;
    const server = runtime.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: () => (++calls < 3 ? new Response("<Error><Code>SlowDown</Code></Error>", { status: 503 }) : new Response(null, { status: 200, headers: { etag: '"abc"', "content-length": "0" } })),
    });
    try {
      const storage = new S3Storage({ bucket: "b-ucket", region: "us-east-1", endpoint: server.url.origin, forcePathStyle: true, credentials: staticAwsCredentials({ accessKeyId: "a", secretAccessKey: "b" }), retryBaseMs: 5 });
      expect((await storage.head("k/x"))?.pin).toBe("abc");
      expect(calls).toBe(3);
    } finally {
      server.stop(true);
    }
  });

  test("persistent 5xx and timeouts end as Transient", async () => {
    const server = runtime.serve({ hostname: "127.0.0.1", port: 0, fetch: async (req) => (new URL(req.url).pathname.includes("slow") ? sleep(2000).then(() => new Response("late")) : new Response("", { status: 500 })) });
    try {
      const storage = new S3Storage({ bucket: "b-ucket", region: "us-east-1", endpoint: server.url.origin, forcePathStyle: true, credentials: staticAwsCredentials({ accessKeyId: "a", secretAccessKey: "b" }), retryBaseMs: 5, retries: 1, timeoutMs: 200 });
      expect(await storage.head("k/x").catch((e) => (e as StorageError).kind)).toBe("Transient");
      const err = (await storage.get("slow/x").then(() => new StorageError("Invalid", "unexpected success"), (e: StorageError) => e));
      expect(err.kind).toBe("Transient");
      expect(err.message).toContain("timed out");
    } finally {
      server.stop(true);
    }
  });
});

describe("s3 download guard (local fake)", () => {
  test("a body that stalls mid-stream fails as Transient after the idle timeout instead of hanging", async () => {
    // A raw socket server: announces 100000 bytes, sends 1000, then goes silent.
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.once("data", () => socket.write('HTTP/1.1 200 OK\r\nETag: "e"\r\nContent-Length: 100000\r\n\r\n' + "x".repeat(1000)));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const storage = new S3Storage({ bucket: "b-ucket", region: "us-east-1", endpoint: `http://127.0.0.1:${port}`, forcePathStyle: true, credentials: staticAwsCredentials({ accessKeyId: "a", secretAccessKey: "b" }), idleTimeoutMs: 300 });
      const got = await storage.get("k/x");
      const err = await new Response(got.body).arrayBuffer().then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(StorageError);
      expect((err as StorageError).kind).toBe("Transient");
      // Ended by the idle guard (not by the socket closing or the test's own timeout), with the configured window.
      expect((err as StorageError).message).toContain("no data for 300 ms");
    } finally {
      server.close();
      for (const socket of sockets) socket.destroy();
    }
  });
});

describe("SigV4 known answers (AWS S3 documentation examples)", () => {
  const creds = { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" };
  const transport = new S3Transport({ bucket: "examplebucket", region: "us-east-1", endpoint: "https://s3.amazonaws.com", credentials: staticAwsCredentials(creds) });

  test("PUT object with a signed payload", async () => {
    const { headers } = await transport.sign(
      {
        method: "PUT",
        key: "test$file.text",
        headers: { date: "Fri, 24 May 2013 00:00:00 GMT", "x-amz-storage-class": "REDUCED_REDUNDANCY" },
        body: "Welcome to Amazon S3.",
        idempotent: true,
      },
      creds,
      "20130524T000000Z",
    );
    expect(headers.get("x-amz-content-sha256")).toBe("44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
    expect(headers.get("authorization")).toBe(
      "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class, Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
    );
  });

  test("GET bucket lifecycle (empty payload hash, subresource query)", async () => {
    const { headers } = await transport.sign(
      { method: "GET", query: { lifecycle: "" }, headers: { "x-amz-content-sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" }, idempotent: true },
      creds,
      "20130524T000000Z",
    );
    expect(headers.get("authorization")).toContain("Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
  });

  test("pre-signed GET URL", async () => {
    const url = new URL(await transport.presign("test.txt", 86400, "20130524T000000Z"));
    expect(url.origin).toBe("https://examplebucket.s3.amazonaws.com");
    expect(url.searchParams.get("X-Amz-Credential")).toBe("AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request");
    expect(url.searchParams.get("X-Amz-SignedHeaders")).toBe("host");
    expect(url.searchParams.get("X-Amz-Signature")).toBe("aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
  });

  test("pre-signed URL lifetime is bounded by S3's 7 days", async () => {
    expect(await transport.presign("k", 604_801).catch((e) => (e as StorageError).kind)).toBe("Invalid");
  });
});
