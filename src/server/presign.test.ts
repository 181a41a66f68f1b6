// Pre-signed redirects: a presign-enabled download answers 307 to the backend's URL, but only for an object whose
// bytes were verified; signing failures fall back to proxying or answer 502, as configured.
import { beforeEach, describe, expect, test } from "bun:test";
import type { ModuleObject, VersionObject } from "../api/kinds.ts";
import { API_VERSION } from "../api/meta.ts";
import { artifactFileName } from "../api/naming.ts";
import type { StorageConfig } from "../api/types.ts";
import { createLogger, silentLogger } from "../log.ts";
import { locateArtifact } from "../storage/locate.ts";
import { StorageError, type ArtifactStorage, type ByteRange, type GetResult, type ObjectInfo, type PutResult } from "../storage/types.ts";
import { publishModule } from "../../test/support/publish.ts";
import { StaticFeed } from "../../test/support/static-feed.ts";
import type { ResourceStore } from "../store/types.ts";
import { createApp } from "./app.ts";
import { ArtifactDelivery, MAX_PRESIGN_TTL_SECONDS, presignTtlSeconds } from "./artifact-delivery.ts";
import { RegistryIndex } from "./registry-index.ts";
import { withRequestPolicy } from "./serve.ts";
import { UrlSigner } from "./url-signer.ts";

/** In-memory storage whose presign succeeds (a fake bucket URL) or throws what the test sets. */
class FakeStorage implements ArtifactStorage {
  readonly description = "fake:bucket";
  readonly objects = new Map<string, { bytes: Uint8Array; pin: string }>();
  readonly presigned: { key: string; ttl: number }[] = [];
  presignError: Error | undefined;
  fullReads = 0;
  private revision = 0;

  async put(key: string, body: ReadableStream<Uint8Array>): Promise<PutResult> {
    const bytes = new Uint8Array(await new Response(body).arrayBuffer());
    const pin = `rev-${++this.revision}`;
    this.objects.set(key, { bytes, pin });
    return { size: bytes.length, pin, sha256: new Bun.CryptoHasher("sha256").update(bytes).digest("base64") };
  }
  async get(key: string, range?: ByteRange): Promise<GetResult> {
    const o = this.objects.get(key);
    if (!o) throw new StorageError("NotFound", `${key} not found`);
    if (!range) this.fullReads++;
    const end = range ? (range.end ?? o.bytes.length - 1) : o.bytes.length - 1;
    const slice = o.bytes.slice(range?.start ?? 0, end + 1);
    return { size: o.bytes.length, pin: o.pin, body: new Blob([slice]).stream(), ...(range ? { range: { start: range.start, end } } : {}) };
  }
  async head(key: string): Promise<ObjectInfo | undefined> {
    const o = this.objects.get(key);
    return o && { size: o.bytes.length, pin: o.pin };
  }
  async delete(key: string): Promise<void> {
    this.objects.delete(key);
  }
  async presign(key: string, ttlSeconds: number): Promise<string> {
    this.presigned.push({ key, ttl: ttlSeconds });
    if (this.presignError) throw this.presignError;
    return `https://bucket.example/${key}?X-Amz-Expires=${ttlSeconds}&X-Amz-Signature=abc`;
  }
  /** Rewrite the object in place (new pin), as an attacker with bucket access would. */
  tamper(key: string) {
    const o = this.objects.get(key)!;
    this.objects.set(key, { bytes: new Uint8Array([...o.bytes, 0x21]), pin: `rev-${++this.revision}` });
  }
}

const NOW = Date.UTC(2025, 0, 1, 12, 0, 0);
const CONTENT = new TextEncoder().encode("module archive bytes");

let storage: FakeStorage;
let logs: Record<string, unknown>[];
let delivery: ArtifactDelivery;

beforeEach(() => {
  storage = new FakeStorage();
  logs = [];
  delivery = new ArtifactDelivery(() => storage, createLogger({ write: (l) => logs.push(JSON.parse(l)) }), { now: () => NOW });
});

async function storedVersion(storageConfig: StorageConfig | undefined, bytes = CONTENT): Promise<VersionObject> {
  const v: VersionObject = {
    apiVersion: API_VERSION,
    kind: "Version",
    metadata: { name: "net-1-0-0", namespace: "team" },
    spec: { type: "Module", version: "1.0.0", fileName: artifactFileName(".zip"), moduleConfigRef: { name: "net", fileFormat: "zip", storageConfig } },
  };
  const { key } = locateArtifact(v, () => storage);
  const put = await storage.put(key, new Blob([bytes]).stream());
  return { ...v, status: { synced: true, checksum: put.sha256 } };
}

/** The signed registry URL as the route hands it over: `expires` seconds from NOW. */
const request = (expiresIn = 600, method = "GET") => new Request(`http://registry.local/archive?expires=${NOW / 1000 + expiresIn}&signature=x`, { method });
const presignOn = (presign: NonNullable<StorageConfig["presign"]> = {}): StorageConfig => ({ s3: { bucket: "b", region: "us-east-1" }, presign: { enabled: true, ...presign } });

describe("presign TTL", () => {
  test("15m by default, clamped to 1 min … 7 days, never beyond the registry URL's remaining life (floor 1 min)", () => {
    expect(presignTtlSeconds(undefined, undefined, NOW)).toBe(900);
    expect(presignTtlSeconds("1h30m", undefined, NOW)).toBe(5400);
    expect(presignTtlSeconds("5s", undefined, NOW)).toBe(60);
    expect(presignTtlSeconds("1000h", undefined, NOW)).toBe(MAX_PRESIGN_TTL_SECONDS);
    expect(presignTtlSeconds("15m", NOW / 1000 + 3600, NOW)).toBe(900);
    expect(presignTtlSeconds("15m", NOW / 1000 + 300, NOW)).toBe(300);
    expect(presignTtlSeconds("15m", NOW / 1000 + 5, NOW)).toBe(60);
    expect(presignTtlSeconds("not a duration", undefined, NOW)).toBe(900);
  });
});

describe("pre-signed redirects", () => {
  test("307 to the backend URL once the object is verified; later requests reuse the pin, no full read", async () => {
    const v = await storedVersion(presignOn({ ttl: "10m" }));
    const r = await delivery.respond(v, request(3600), "application/zip");
    expect(r.status).toBe(307);
    expect(r.headers.get("cache-control")).toBe("no-store");
    const { key } = locateArtifact(v, () => storage);
    expect(r.headers.get("location")).toBe(`https://bucket.example/${key}?X-Amz-Expires=600&X-Amz-Signature=abc`);
    expect(storage.fullReads).toBe(1);
    const again = await delivery.respond(v, request(120), "application/zip");
    expect(again.status).toBe(307);
    expect(storage.presigned.map((p) => p.ttl)).toEqual([600, 120]);
    expect(storage.fullReads).toBe(1);
  });

  test("HEAD is answered locally with the verified size (bucket signatures cover GET only)", async () => {
    const v = await storedVersion(presignOn());
    const r = await delivery.respond(v, request(600, "HEAD"), "application/zip");
    expect(r.status).toBe(200);
    expect(Number(r.headers.get("content-length"))).toBeGreaterThan(0);
    expect(r.body).toBeNull();
    expect(storage.presigned).toHaveLength(0);
  });

  test("a tampered object is never redirected to: 503, and nothing is signed", async () => {
    const v = await storedVersion(presignOn());
    expect((await delivery.respond(v, request(), "application/zip")).status).toBe(307);
    storage.tamper(locateArtifact(v, () => storage).key);
    storage.presigned.length = 0;
    const r = await delivery.respond(v, request(), "application/zip");
    expect(r.status).toBe(503);
    expect(JSON.stringify(await r.json())).toContain("integrity");
    expect(storage.presigned).toEqual([]);
  });

  test("an object that was never right is refused before any signing", async () => {
    const v = await storedVersion(presignOn());
    const bad = { ...v, status: { ...v.status, checksum: new Bun.CryptoHasher("sha256").update("other").digest("base64") } };
    expect((await delivery.respond(bad, request(), "application/zip")).status).toBe(503);
    expect(storage.presigned).toEqual([]);
  });

  test("signing fails → streamed through the server by default (fallbackToProxy), and the failure is logged", async () => {
    storage.presignError = new StorageError("Credentials", "aws credential chain: no AWS credentials; tried: environment");
    const v = await storedVersion(presignOn());
    const r = await delivery.respond(v, request(), "application/zip");
    expect(r.status).toBe(200);
    expect(new Uint8Array(await r.arrayBuffer())).toEqual(CONTENT);
    const logged = logs.find((l) => l.msg === "pre-signing failed; serving the artifact through the server");
    expect((logged?.error as { message: string }).message).toContain("no AWS credentials");
  });

  test("signing fails with fallbackToProxy: false → 502 with a reason that does not leak backend details", async () => {
    storage.presignError = new StorageError("Credentials", "aws credential chain: secret detail");
    const v = await storedVersion(presignOn({ fallbackToProxy: false }));
    const r = await delivery.respond(v, request(), "application/zip");
    expect(r.status).toBe(502);
    const body = await r.json();
    expect(body).toEqual({ errors: ["failed to generate pre-signed URL: storage credentials are unavailable or not permitted to sign"] });
    expect(logs.some((l) => l.msg === "pre-signing failed and fallbackToProxy is disabled")).toBe(true);
  });

  test("a backend that cannot pre-sign (filesystem) is asked once and logged once; fallback keeps serving", async () => {
    storage.presignError = new StorageError("Unsupported", "pre-signed URLs are not supported for filesystem storage");
    const v = await storedVersion({ fileSystem: { directoryPath: "/x" }, presign: { enabled: true } });
    for (let i = 0; i < 3; i++) expect((await delivery.respond(v, request(), "application/zip")).status).toBe(200);
    expect(storage.presigned).toHaveLength(1);
    expect(logs.filter((l) => String(l.msg).startsWith("pre-signing failed"))).toHaveLength(1);
    const strict = await storedVersion({ fileSystem: { directoryPath: "/x" }, presign: { enabled: true, fallbackToProxy: false } });
    const r = await delivery.respond(strict, request(), "application/zip");
    expect(r.status).toBe(502);
    expect(((await r.json()) as { errors: string[] }).errors[0]).toContain("does not support pre-signed URLs");
  });

  test("presign disabled (or absent) → proxied, nothing signed", async () => {
    for (const config of [undefined, { s3: { bucket: "b", region: "r" }, presign: { enabled: false } }]) {
      const v = await storedVersion(config);
      const r = await delivery.respond(v, request(), "application/zip");
      expect(r.status).toBe(200);
      expect(new Uint8Array(await r.arrayBuffer())).toEqual(CONTENT);
    }
    expect(storage.presigned).toEqual([]);
  });
});

describe("through the registry routes", () => {
  test("module download → signed archive URL → 307 for GET (HEAD answered locally); the bucket URL lives no longer than the registry URL", async () => {
    const versions = new StaticFeed<VersionObject>();
    const store = { create: async (o: VersionObject) => o, updateStatus: async (o: VersionObject) => (versions.put(o), o) } as unknown as ResourceStore;
    const modules = new StaticFeed<ModuleObject>([{ apiVersion: API_VERSION, kind: "Module", metadata: { name: "vpc", namespace: "team" }, spec: { moduleConfig: { provider: "aws" }, versions: [] } }]);
    const index = new RegistryIndex({ modules, providers: new StaticFeed(), versions });
    const app = createApp({
      index,
      delivery: new ArtifactDelivery(() => storage, silentLogger),
      urls: new UrlSigner(new Uint8Array(32).fill(7), 300),
      signer: { keyId: "0", publicKeyArmored: "", sign: async () => new Uint8Array() },
      gatekeeper: { authorize: async () => undefined },
      log: silentLogger,
      ready: () => true,
    });
    const handle = withRequestPolicy((r) => app.handle(r), silentLogger);
    const get = (path: string, init?: RequestInit) => handle(new Request(`http://localhost${path}`, init));
    await publishModule(store, () => storage, { namespace: "team", module: "vpc", version: "1.0.0", files: { "main.tf": "" }, storageConfig: presignOn() });
    const location = (await get("/opendepot/modules/v1/team/vpc/aws/1.0.0/download")).headers.get("x-terraform-get")!;
    const r = await get(location);
    expect(r.status).toBe(307);
    const ttl = Number(new URL(r.headers.get("location")!).searchParams.get("X-Amz-Expires"));
    expect(ttl).toBeGreaterThan(250);
    expect(ttl).toBeLessThanOrEqual(330);
    const head = await get(location, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("location")).toBeNull();
    // An altered registry URL is refused before the storage is consulted.
    const altered = location.replace(/signature=(.)/, (_, c: string) => `signature=${c === "A" ? "B" : "A"}`);
    expect((await get(altered)).status).toBe(403);
  });
});
