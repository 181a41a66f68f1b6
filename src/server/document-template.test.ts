// A document's 200 is a clone of one prebuilt Response (document.ts): every clone must carry the document's exact
// bytes and headers, however many are made one after another or in flight at once, the template must never take on
// a request's id, and the clones must share the bytes rather than copy them.
import { describe, expect, test } from "bun:test";
import { silentLogger } from "../log.ts";
import { documentOf } from "./document.ts";
import { documentResponse } from "./protocol-answers.ts";
import { listen } from "./serve.ts";

const request = (headers: Record<string, string> = {}) => new Request("http://registry.test/x", { headers });
const headersOf = (r: Response) => [...r.headers.entries()];

describe("document templates", () => {
  test("5,000 sequential answers: each has the document's bytes, its headers and its own request id", async () => {
    const doc = documentOf(JSON.stringify({ modules: [{ versions: [{ version: "1.0.0" }, { version: "é中" }] }] }), "module/t/a");
    const expected = [...doc.headers.entries()];
    for (let i = 0; i < 5000; i++) {
      const r = documentResponse(doc, request(), `id-${i}`);
      expect(r.status).toBe(200);
      expect(headersOf(r)).toEqual([...expected, ["x-request-id", `id-${i}`]]);
      // Read every 10th body (an unread clone must not disturb the next ones either).
      if (i % 10 === 0) expect(new Uint8Array(await r.arrayBuffer())).toEqual(doc.bytes);
    }
    expect(doc.template.bodyUsed).toBe(false);
    expect(doc.template.headers.has("x-request-id")).toBe(false);
    expect(new Uint8Array(await doc.template.clone().arrayBuffer())).toEqual(doc.bytes);
  });

  test("HEAD and 304 are not clones: a length and no body, and the 304's own headers", async () => {
    const doc = documentOf('{"versions":[]}', "provider/t/p");
    const head = documentResponse(doc, new Request("http://registry.test/x", { method: "HEAD" }), "h");
    expect(head.body).toBeNull();
    expect(head.headers.get("content-length")).toBe(String(doc.bytes.length));
    const notModified = documentResponse(doc, request({ "if-none-match": doc.etag }), "n");
    expect(notModified.status).toBe(304);
    expect(notModified.body).toBeNull();
    expect(notModified.headers.get("etag")).toBe(doc.etag);
  });

  test("2,000 requests over 50 connections at once: every body identical", async () => {
    const doc = documentOf(JSON.stringify({ versions: Array.from({ length: 200 }, (_, i) => ({ version: `1.${i}.0` })) }), "provider/t/big");
    const server = listen((r) => documentResponse(doc, r), { hostname: "127.0.0.1", port: 0 }, silentLogger);
    try {
      const url = `http://127.0.0.1:${server.port}/x`;
      const ids = new Set<string>();
      let identical = 0;
      await Promise.all(
        Array.from({ length: 50 }, async () => {
          for (let i = 0; i < 40; i++) {
            const r = await fetch(url);
            ids.add(r.headers.get("x-request-id")!);
            if (Buffer.from(await r.arrayBuffer()).equals(doc.bytes) && r.headers.get("etag") === doc.etag) identical++;
          }
        }),
      );
      expect(identical).toBe(2000);
      expect(ids.size).toBe(2000);
      expect(doc.template.headers.has("x-request-id")).toBe(false);
    } finally {
      server.stop(true);
    }
  });

  test("clones share the bytes: 1,000 held clones of a 1 MiB document add far less than 1,000 MiB", () => {
    const doc = documentOf(JSON.stringify({ pad: "x".repeat(1 << 20) }), "module/t/huge");
    const before = process.memoryUsage().rss;
    const held = Array.from({ length: 1000 }, (_, i) => documentResponse(doc, request(), `id-${i}`));
    const grownMiB = (process.memoryUsage().rss - before) / 1048576;
    expect(held).toHaveLength(1000);
    // A copy per clone would be +1,000 MiB; sharing costs only the Response and Headers objects.
    expect(grownMiB).toBeLessThan(100);
  });
});
