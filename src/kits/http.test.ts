// The outbound HTTP kit against a real HTTP server on a free loopback port: chunked bodies (no Content-Length) over
// the limit are cut off and the upstream's stream is torn down; a stalled upstream fails on the idle timer; and the
// clients built on the kit (OIDC discovery/JWKS, the Kubernetes client, credential endpoints) inherit both.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { DiscoveryError, fetchJson } from "../server/auth/oidc-discovery.ts";
import { credentialPolicy, credentialRequest } from "../storage/credentials/http.ts";
import { StorageError } from "../storage/types.ts";
import { StoreError } from "../store/errors.ts";
import { KubeClient } from "../store/kube/client.ts";
import { backoffDelay, BodyTooLarge, idleGuard, readBounded, readPrefix, redactUrl, withRetries } from "./http.ts";

const CHUNK = 16 * 1024;
let server: ReturnType<typeof Bun.serve>;
/** Resolves when the server's side of the named endless stream was cancelled (the client hung up). */
const cancelled = new Map<string, { sent: number; done: Promise<void> }>();

function endless(name: string, first?: string): ReadableStream<Uint8Array> {
  let resolve!: () => void;
  const entry = { sent: 0, done: new Promise<void>((r) => (resolve = r)) };
  cancelled.set(name, entry);
  const chunk = new Uint8Array(CHUNK).fill(0x20);
  let primed = false;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (!primed && first !== undefined) {
        primed = true;
        controller.enqueue(new TextEncoder().encode(first));
        return;
      }
      entry.sent++;
      controller.enqueue(chunk);
    },
    cancel() {
      resolve();
    },
  });
}

function stalled(name: string): ReadableStream<Uint8Array> {
  let resolve!: () => void;
  cancelled.set(name, { sent: 1, done: new Promise<void>((r) => (resolve = r)) });
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode("{"));
    },
    pull() {
      return new Promise(() => {}); // never another byte
    },
    cancel() {
      resolve();
    },
  });
}

beforeAll(() => {
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const path = new URL(req.url).pathname;
      if (path.startsWith("/endless")) return new Response(endless(path, path.includes("json") ? '{"keys":"' : undefined), { headers: { "content-type": "application/json" } });
      if (path.startsWith("/stall")) return new Response(stalled(path), { headers: { "content-type": "application/json" } });
      if (path === "/small") return new Response(new Uint8Array(1000).fill(0x61));
      return new Response("not found", { status: 404 });
    },
  });
});

afterAll(() => server?.stop(true));

const url = (path: string) => `http://127.0.0.1:${server.port}${path}`;

describe("bounded reads", () => {
  test("a chunked body over the limit is cut off, and the upstream's stream is cancelled", async () => {
    const res = await fetch(url("/endless-a"));
    expect(res.headers.get("content-length")).toBeNull();
    expect(res.headers.get("transfer-encoding")).toBe("chunked");
    await expect(readBounded(res, 4 * CHUNK)).rejects.toBeInstanceOf(BodyTooLarge);
    await cancelled.get("/endless-a")!.done;
  });

  test("under the limit the whole body arrives; the caller's error is thrown past it", async () => {
    expect((await readBounded(await fetch(url("/small")), 1000)).byteLength).toBe(1000);
    await expect(readBounded(await fetch(url("/small")), 999, () => new Error("mine"))).rejects.toThrow("mine");
    expect(await readPrefix(await fetch(url("/small")), 10)).toBe("aaaaaaaaaa");
    await readPrefix(await fetch(url("/endless-prefix")), 3 * CHUNK);
    await cancelled.get("/endless-prefix")!.done;
  });

  test("OIDC discovery and JWKS fetches stop at their cap on a chunked body", async () => {
    const err = await fetchJson(fetch, url("/endless-json-oidc"), 60_000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DiscoveryError);
    expect((err as Error).message).toContain("larger than");
    await cancelled.get("/endless-json-oidc")!.done;
  });

  test("the Kubernetes client stops at its cap on a chunked body", async () => {
    const client = new KubeClient({ server: url(""), tls: { rejectUnauthorized: true }, source: "test" });
    // 64 MiB of spaces is the cap; the server would send forever.
    const err = await client.request("GET", "/endless-kube").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).message).toContain("larger than");
    await cancelled.get("/endless-kube")!.done;
  });

  test("a credential endpoint's answer is read whole or refused, never cut to a prefix", async () => {
    const policy = credentialPolicy({ retries: 0 });
    const err = await credentialRequest(policy, "test source", () => new Request(url("/endless-cred")), 2 * CHUNK).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).kind).toBe("Credentials");
    expect((err as Error).message).toContain("larger than");
  });
});

describe("idle timeouts", () => {
  test("an upstream that stops sending fails the stream with the caller's error and is torn down", async () => {
    const abort = new AbortController();
    const res = await fetch(url("/stall-a"), { signal: abort.signal });
    const guarded = idleGuard(res.body!, { idleMs: 50, abort, onIdle: () => new Error("stalled upstream") });
    await expect(new Response(guarded).text()).rejects.toThrow("stalled upstream");
    expect(abort.signal.aborted).toBe(true);
    await cancelled.get("/stall-a")!.done;
  });

  test("a moving body is never cut off by the idle timer", async () => {
    const res = await fetch(url("/small"));
    let counted = 0;
    const guarded = idleGuard(res.body!, { idleMs: 10_000, onIdle: () => new Error("stalled"), onChunk: (n) => (counted += n) });
    expect((await new Response(guarded).arrayBuffer()).byteLength).toBe(1000);
    expect(counted).toBe(1000);
  });

  test("OIDC fetches time out on an idle upstream (the timeout covers the body)", async () => {
    const err = await fetchJson(fetch, url("/stall-oidc"), 100).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).name).toMatch(/TimeoutError|AbortError/);
  });
});

describe("retries and redaction", () => {
  test("full jitter: every delay lies below the doubling cap, the cap stops at the maximum", () => {
    expect(backoffDelay(0, 100, 5_000, () => 0.999)).toBeLessThan(100);
    expect(backoffDelay(3, 100, 5_000, () => 0.5)).toBe(400);
    expect(backoffDelay(10, 100, 5_000, () => 0.5)).toBe(2_500);
    expect(backoffDelay(2, 100, 5_000, () => 0)).toBe(0);
  });

  test("retries until success, stops on a non-retryable error, and gives up after the count", async () => {
    const slept: number[] = [];
    const sleep = async (ms: number) => void slept.push(ms);
    let calls = 0;
    expect(await withRetries({ retries: 3, retryable: () => true, baseMs: 10, sleep }, async () => (++calls < 3 ? Promise.reject(new Error("x")) : "ok"))).toBe("ok");
    expect([calls, slept.length]).toEqual([3, 2]);
    calls = 0;
    await expect(withRetries({ retries: 3, retryable: () => false, baseMs: 10, sleep }, async () => (++calls, Promise.reject(new Error("fatal"))))).rejects.toThrow("fatal");
    expect(calls).toBe(1);
    calls = 0;
    await expect(withRetries({ retries: 2, retryable: () => true, baseMs: 10, sleep }, async () => (++calls, Promise.reject(new Error("down"))))).rejects.toThrow("down");
    expect(calls).toBe(3);
  });

  test("URLs lose userinfo and secret-looking query values", () => {
    expect(redactUrl("https://user:pw@example.com/a?X-Amz-Signature=abc&page=2&access_token=t")).toBe("https://example.com/a?X-Amz-Signature=REDACTED&page=2&access_token=REDACTED");
    expect(redactUrl("not a url")).toBe("<invalid url>");
  });
});
