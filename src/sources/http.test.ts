import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { redactUrl } from "../kits/http.ts";
import { rateLimitResetFrom, UpstreamError, UpstreamHttp } from "./http.ts";
import { sleep } from "../kits/sleep.ts";
import { runtime, type Served } from "../runtime/index.ts";

let hits = new Map<string, number>();
const seenAuth: Record<string, string | null> = {};
let a: Served;
let b: Served;
const count = (k: string) => {
  const n = (hits.get(k) ?? 0) + 1;
  hits.set(k, n);
  return n;
};

beforeAll(() => {
  b = runtime.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      seenAuth[new URL(req.url).pathname] = req.headers.get("authorization");
      return new Response("other-origin");
    },
  });
  a = runtime.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const p = new URL(req.url).pathname;
      seenAuth[p] = req.headers.get("authorization");
      const n = count(p);
      switch (p) {
        case "/flaky":
          return n < 3 ? new Response("oops", { status: 502 }) : Response.json({ ok: true });
        case "/down":
          return new Response("down", { status: 503 });
        case "/post":
          return new Response("down", { status: 500 });
        case "/gh-limit":
          return Response.json({ message: "API rate limit exceeded" }, { status: 403, headers: { "x-ratelimit-remaining": "0", "x-ratelimit-reset": "2000000000" } });
        case "/retry-after":
          return Response.json({ message: "slow down" }, { status: 429, headers: { "retry-after": "7" } });
        case "/secondary":
          return Response.json({ message: "You have exceeded a secondary rate limit" }, { status: 403 });
        case "/forbidden":
          return Response.json({ message: "Resource not accessible by integration" }, { status: 403 });
        case "/missing":
          return Response.json({ message: "Not Found", documentation_url: "https://docs.github.com/rest" }, { status: 404 });
        case "/bad":
          return Response.json({ message: "Validation Failed" }, { status: 422 });
        case "/big":
          return new Response("x".repeat(2048));
        case "/slow":
          await sleep(500);
          return new Response("late");
        case "/stall":
          return new Response(new ReadableStream({ async pull(c) { c.enqueue(new Uint8Array(10)); await sleep(1000); } }));
        case "/same":
          return new Response(null, { status: 302, headers: { location: "/landing" } });
        case "/cross":
          return new Response(null, { status: 302, headers: { location: `http://127.0.0.1:${b.port}/landing?token=s3cret` } });
        case "/loop":
          return new Response(null, { status: 302, headers: { location: "/loop" } });
        case "/landing":
          return new Response("landed");
        case "/notjson":
          return new Response("<html>");
      }
      return new Response("?", { status: 404 });
    },
  });
});
afterAll(() => {
  a.stop(true);
  b.stop(true);
});

const client = (o: Partial<ConstructorParameters<typeof UpstreamHttp>[0]> = {}) =>
  new UpstreamHttp({ service: "Test", baseDelayMs: 1, maxDelayMs: 5, timeoutMs: 2000, ...o });
const url = (p: string) => `http://127.0.0.1:${a.port}${p}`;
async function failure(p: Promise<unknown>): Promise<UpstreamError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(UpstreamError);
    return e as UpstreamError;
  }
  throw new Error("expected a failure");
}

describe("UpstreamHttp", () => {
  test("retries 5xx on GET with backoff, then succeeds", async () => {
    hits = new Map();
    const delays: number[] = [];
    const { value } = await client({ sleep: async (ms) => void delays.push(ms) }).json<{ ok: boolean }>(url("/flaky"));
    expect(value.ok).toBe(true);
    expect(hits.get("/flaky")).toBe(3);
    expect(delays.length).toBe(2);
    expect(delays.every((d) => d >= 0 && d <= 5)).toBe(true);
  });

  test("bounded retries end in a Transient error with the status", async () => {
    hits = new Map();
    const e = await failure(client({ retries: 2 }).json(url("/down")));
    expect([e.kind, e.status, hits.get("/down")]).toEqual(["Transient", 503, 3]);
    expect(e.message).toContain("Test: GET");
  });

  test("non-idempotent requests are not retried", async () => {
    hits = new Map();
    const e = await failure(client().json(url("/post"), { method: "POST", body: "{}" }));
    expect([e.kind, hits.get("/post")]).toEqual(["Transient", 1]);
  });

  test("GitHub primary rate limit → RateLimited at x-ratelimit-reset, not retried", async () => {
    hits = new Map();
    const e = await failure(client().json(url("/gh-limit")));
    expect([e.kind, e.status, e.retryAt?.getTime(), hits.get("/gh-limit")]).toEqual(["RateLimited", 403, 2_000_000_000_000, 1]);
  });

  test("429 retry-after and secondary limits", async () => {
    const now = 1_700_000_000_000;
    const e = await failure(client({ now: () => now }).json(url("/retry-after")));
    expect([e.kind, e.retryAt?.getTime()]).toEqual(["RateLimited", now + 7000]);
    const s = await failure(client({ now: () => now }).json(url("/secondary")));
    expect([s.kind, s.retryAt?.getTime()]).toEqual(["RateLimited", now + 60_000]);
  });

  test("status mapping: 403 without limit headers, 404, 422", async () => {
    expect((await failure(client().json(url("/forbidden")))).kind).toBe("Unauthorized");
    const nf = await failure(client().json(url("/missing")));
    expect([nf.kind, nf.status]).toEqual(["NotFound", 404]);
    expect(nf.message).toContain("Not Found");
    expect((await failure(client().json(url("/bad")))).kind).toBe("Invalid");
    expect((await failure(client().json(url("/notjson")))).message).toContain("invalid JSON");
  });

  test("body reads are capped", async () => {
    const e = await failure(client().bytes(url("/big"), {}, 1000));
    expect(e.kind).toBe("Invalid");
    expect(e.message).toContain("exceeds 1000 bytes");
  });

  test("timeouts are Transient and retried", async () => {
    hits = new Map();
    const e = await failure(client({ timeoutMs: 50, retries: 1 }).bytes(url("/slow")));
    expect(e.kind).toBe("Transient");
    expect(e.message).toContain("timed out");
    expect(hits.get("/slow")).toBe(2);
  });

  test("a stalled stream errors after the idle timeout", async () => {
    const res = await client({ idleTimeoutMs: 100 }).stream(url("/stall"));
    const err = await new Response(res.body).arrayBuffer().then(() => undefined, (e) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect(String(err.message)).toContain("stalled");
  });

  test("redirects: same origin keeps Authorization, another origin never sees it", async () => {
    const h = { authorization: "Bearer secret-token" };
    expect(await (await client().stream(url("/same"), { headers: h })).text()).toBe("landed");
    expect(seenAuth["/landing"]).toBe("Bearer secret-token");
    delete seenAuth["/landing"];
    expect(await (await client().stream(url("/cross"), { headers: h })).text()).toBe("other-origin");
    expect(seenAuth["/landing"]).toBeNull();
    const loop = await failure(client().bytes(url("/loop")));
    expect(loop.message).toContain("too many redirects");
  });

  test("network errors are Transient; errors never carry credentials", async () => {
    const e = await failure(client({ retries: 0 }).bytes("http://user:pw@127.0.0.1:1/x?access_token=abc&page=2"));
    expect(e.kind).toBe("Transient");
    expect(e.url).toBe("http://127.0.0.1:1/x?access_token=REDACTED&page=2");
    expect(e.message).not.toContain("abc");
    expect(e.message).not.toContain("pw");
  });
});

describe("helpers", () => {
  test("redactUrl", () => {
    expect(redactUrl("https://codeload.example/o/r/legacy.zip?token=AAA")).toBe("https://codeload.example/o/r/legacy.zip?token=REDACTED");
    expect(redactUrl("https://s3.example/b/k?X-Amz-Signature=sig&X-Amz-Date=1")).toContain("X-Amz-Signature=REDACTED");
    expect(redactUrl("not a url")).toBe("<invalid url>");
  });
  test("rateLimitResetFrom", () => {
    const at = (h: Record<string, string>) => rateLimitResetFrom(new Response(null, { headers: h }), 1000)?.getTime();
    expect(at({ "retry-after": "3" })).toBe(4000);
    expect(at({ "retry-after": "Wed, 21 Oct 2015 07:28:00 GMT" })).toBe(Date.parse("Wed, 21 Oct 2015 07:28:00 GMT"));
    expect(at({ "x-ratelimit-remaining": "0", "x-ratelimit-reset": "5" })).toBe(5000);
    expect(at({ "x-ratelimit-remaining": "10", "x-ratelimit-reset": "5" })).toBeUndefined();
  });
});
