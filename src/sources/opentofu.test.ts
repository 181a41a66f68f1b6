import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { unzipSync } from "fflate";
import { OpenTofuRegistryFake } from "../../fixtures/opentofu-registry-fake.ts";
import { UpstreamError } from "./http.ts";
import { IntegrityError, OpenTofuRegistryClient, shasumFor, SIGNATURE_NOT_VERIFIED, verifyingStream } from "./opentofu.ts";
import { createHash } from "node:crypto";
import { runtime } from "../runtime/index.ts";

const fake = new OpenTofuRegistryFake();
const relFake = new OpenTofuRegistryFake({ relativeUrls: true });
let client: OpenTofuRegistryClient;
const sha256 = (b: ArrayBuffer | Uint8Array) => createHash("sha256").update(new Uint8Array(b)).digest("hex");

beforeAll(async () => {
  await fake.start();
  await relFake.start();
  for (const f of [fake, relFake]) f.addProvider("hashicorp", "aws", { versions: ["5.80.0", { version: "5.81.0", protocols: ["5.0", "6.0"] }] });
  fake.addProvider("acme", "big", { versions: ["1.0.0"], platforms: [{ os: "linux", arch: "amd64" }], binarySize: 256 * 1024 * 1024 });
});
afterAll(async () => {
  await fake.stop();
  await relFake.stop();
});
beforeEach(() => {
  fake.clearFaults();
  fake.resetStats();
  client = new OpenTofuRegistryClient({ baseUrl: fake.url, baseDelayMs: 1, maxDelayMs: 2 });
});

async function rejection(p: Promise<unknown>): Promise<Error> {
  const e = await p.then(() => undefined, (err) => err);
  expect(e).toBeInstanceOf(Error);
  return e as Error;
}

describe("metadata", () => {
  test("versions with protocols and platforms (namespace and name lowercased)", async () => {
    const versions = await client.listVersions("HashiCorp", "AWS");
    expect(versions.map((v) => v.version)).toEqual(["5.80.0", "5.81.0"]);
    expect(versions[1]!.protocols).toEqual(["5.0", "6.0"]);
    expect(versions[0]!.platforms).toContainEqual({ os: "linux", arch: "amd64" });
    expect(fake.log[0]!.path).toBe("/v1/providers/hashicorp/aws/versions");
  });

  test("unknown providers and platforms are NotFound", async () => {
    expect(((await rejection(client.listVersions("hashicorp", "nope"))) as UpstreamError).kind).toBe("NotFound");
    expect(((await rejection(client.downloadInfo("hashicorp", "aws", "5.80.0", "plan9", "mips"))) as UpstreamError).kind).toBe("NotFound");
  });

  test("download document keeps the protocol's field names; a leading v is dropped", async () => {
    const info = await client.downloadInfo("hashicorp", "aws", "v5.80.0", "linux", "amd64");
    expect(info.filename).toBe("terraform-provider-aws_5.80.0_linux_amd64.zip");
    expect(info.shasum).toBe(await fake.sha256Of("hashicorp", "aws", "5.80.0", "linux", "amd64"));
    expect(info.signing_keys.gpg_public_keys[0]!.ascii_armor).toContain("BEGIN PGP PUBLIC KEY BLOCK");
    expect(info.download_url.startsWith(fake.url)).toBe(true);
  });

  test("relative URLs resolve against the registry", async () => {
    const rel = new OpenTofuRegistryClient({ baseUrl: relFake.url });
    const info = await rel.downloadInfo("hashicorp", "aws", "5.81.0", "darwin", "arm64");
    expect(info.shasums_url).toBe(`${relFake.url}/artifacts/hashicorp/aws/5.81.0/terraform-provider-aws_5.81.0_SHA256SUMS`);
    const pkg = await rel.fetchVerifiedPackage(info);
    expect(pkg.protocols).toEqual(["5.0", "6.0"]);
    expect(sha256(await new Response(pkg.stream).arrayBuffer())).toBe(info.shasum);
  });
});

describe("verified packages", () => {
  test("signature, SHA256SUMS and bytes all check out; the zip holds the executable", async () => {
    const info = await client.downloadInfo("hashicorp", "aws", "5.80.0", "linux", "amd64");
    const pkg = await client.fetchVerifiedPackage(info);
    expect(pkg.signedBy).toBe(info.signing_keys.gpg_public_keys[0]!.key_id);
    const zip = new Uint8Array(await new Response(pkg.stream).arrayBuffer());
    expect(sha256(zip)).toBe(pkg.sha256Hex);
    expect(Object.keys(unzipSync(zip))).toEqual(["terraform-provider-aws_v5.80.0"]);
  });

  test("armored signatures are accepted too", async () => {
    fake.signatureMode = "armored";
    const info = await client.downloadInfo("hashicorp", "aws", "5.81.0", "linux", "arm64");
    await (await client.fetchVerifiedPackage(info)).stream.cancel();
  });

  for (const mode of ["unlisted-key", "corrupt"] as const) {
    test(`signature ${mode} → refused before any download`, async () => {
      fake.signatureMode = mode;
      const info = await client.downloadInfo("hashicorp", "aws", "5.80.0", "linux", "amd64");
      const e = await rejection(client.fetchVerifiedPackage(info));
      expect(e).toBeInstanceOf(IntegrityError);
      expect(e.message).toStartWith(SIGNATURE_NOT_VERIFIED);
      expect(fake.stats.downloads).toBe(0);
    });
  }

  test("no signing keys at all → refused", async () => {
    const info = await client.downloadInfo("hashicorp", "aws", "5.80.0", "linux", "amd64");
    const e = await rejection(client.fetchVerifiedPackage({ ...info, signing_keys: { gpg_public_keys: [] } }));
    expect(e.message).toStartWith(SIGNATURE_NOT_VERIFIED);
  });

  test("metadata shasum not in the signed SHA256SUMS → refused", async () => {
    fake.shasumMode = "metadata-mismatch";
    const e = await rejection(client.fetchVerifiedPackage(await client.downloadInfo("hashicorp", "aws", "5.80.0", "linux", "amd64")));
    expect(e.message).toContain("differs from the signed SHA256SUMS");
    fake.shasumMode = "missing-line"; // drops the first platform's line (linux_amd64)
    const info = await client.downloadInfo("hashicorp", "aws", "5.80.0", "linux", "amd64");
    const m = await rejection(client.fetchVerifiedPackage(info));
    expect(m.message).toContain("has no entry for terraform-provider-aws_5.80.0_linux_amd64.zip");
  });

  test("tampered zip bytes → the stream errors at its end", async () => {
    fake.shasumMode = "tampered-zip";
    const pkg = await client.fetchVerifiedPackage(await client.downloadInfo("hashicorp", "aws", "5.80.0", "linux", "amd64"));
    const e = await rejection(new Response(pkg.stream).arrayBuffer());
    expect(e).toBeInstanceOf(IntegrityError);
    expect(e.message).toContain("checksum mismatch for terraform-provider-aws_5.80.0_linux_amd64.zip");
  });

  test("5xx are retried, 429 is RateLimited with retryAt", async () => {
    fake.failNext(502, 2, /download/);
    expect((await client.downloadInfo("hashicorp", "aws", "5.80.0", "linux", "amd64")).os).toBe("linux");
    fake.failNext(429, 1, /versions/, 30);
    const e = (await rejection(client.listVersions("hashicorp", "aws"))) as UpstreamError;
    expect(e.kind).toBe("RateLimited");
    expect(e.retryAt!.getTime()).toBeGreaterThan(Date.now() + 25_000);
  });

  test("a 256 MiB provider streams through with flat memory", async () => {
    const info = await client.downloadInfo("acme", "big", "1.0.0", "linux", "amd64");
    runtime.gc();
    const before = process.memoryUsage().rss;
    let peak = before;
    const pkg = await client.fetchVerifiedPackage(info);
    const hasher = createHash("sha256");
    let size = 0;
    for await (const chunk of pkg.stream) {
      hasher.update(chunk);
      size += chunk.byteLength;
      peak = Math.max(peak, process.memoryUsage().rss);
    }
    expect(hasher.digest("hex")).toBe(info.shasum);
    expect(size).toBe(fake.stats.downloadBytes); // Bun.serve streams big bodies chunked, so pkg.size may be absent
    expect(size).toBeGreaterThan(256 * 1024 * 1024);
    // The fake generates the zip in this same process, and RSS in a shared test process is noisy (~65 MiB seen):
    // the bound leaves room for that while staying at half the payload, which any buffering would blow through.
    expect(peak - before).toBeLessThan(128 * 1024 * 1024);
  });
});

describe("helpers", () => {
  test("shasumFor reads both text and binary-mode lines", () => {
    const a = "a".repeat(64);
    const b = "B".repeat(64);
    expect(shasumFor(`${a}  x.zip\n${b} *y.zip\n`, "y.zip")).toBe("b".repeat(64));
    expect(shasumFor(`${a}  x.zip.bak\n`, "x.zip")).toBeUndefined();
  });
  test("verifyingStream passes matching bytes and errors on a mismatch", async () => {
    const data = new TextEncoder().encode("hello");
    const ok = verifyingStream(new Response(data).body!, sha256(data));
    expect(await new Response(ok).text()).toBe("hello");
    const bad = verifyingStream(new Response(data).body!, "0".repeat(64), "hello.zip");
    expect((await rejection(new Response(bad).text())).message).toContain("checksum mismatch for hello.zip");
  });
});
