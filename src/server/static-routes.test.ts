// The native route table (--static-routes) must answer exactly as the fetch path (fast path + app) would, for every
// kind it holds, over real sockets: status, body, content type, ETag, security headers, HEAD, 304 — all but Date and
// the request id. It must leave every other method and every other spelling of a path to the fetch handler.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SigningKey } from "../artifacts/signing.ts";
import { M, P, request, staticRoutesWorld, type StaticRoutesWorld } from "../../test/support/static-routes-world.ts";

let w: StaticRoutesWorld;
/** The paths the table holds once promoted, one or more of each kind. */
const held = ["/.well-known/terraform.json", `${M}/vpc/aws/versions`, `${M}/db/google/versions`, `${P}/widget/versions`, `${P}/gadget/versions`, `${P}/widget/1.0.0/download/linux/amd64`, `${P}/widget/1.0.0/download/darwin/arm64`, `${P}/widget/1.1.0/download/linux/amd64`];

beforeAll(async () => {
  w = await staticRoutesWorld([await SigningKey.generate({ name: "Test", email: "test@example.com", rsaBits: 2048 })]);
  await w.promote(...held);
}, 60_000);
afterAll(() => w.stop());

/** Whether the table's listener answered `text` from the table: the fetch handler logs every request it answers. */
async function fromTable(text: string) {
  const before = w.logs.length;
  const { table, fetch } = await w.both(text);
  return { table, fetch, answeredByTable: w.logs.length === before };
}

describe("the table", () => {
  test("holds discovery and every promoted document, nothing else", () => {
    expect(w.routes.paths()).toEqual([...held].sort());
    expect(w.routes.rebuilds).toBeGreaterThanOrEqual(2); // the start, then the promotions
  });

  test("answers GET and HEAD of every kind as the fetch path does (but Date and the request id)", async () => {
    for (const path of held) {
      for (const method of ["GET", "HEAD"]) {
        const { table, fetch, answeredByTable } = await fromTable(request(method, path));
        expect({ path, method, answeredByTable, requestId: table.requestId }).toEqual({ path, method, answeredByTable: true, requestId: false });
        expect({ path, method, ...table, requestId: true }).toEqual({ path, method, ...fetch });
        expect(table.status).toBe(200);
        if (method === "HEAD") expect(table.body).toBe("");
      }
    }
  });

  test("revalidation: a matching If-None-Match is a 304 with the ETag and security headers (and, from the table, the content type); a stale one the document", async () => {
    for (const path of held) {
      const etag = (await w.both(request("GET", path))).fetch.headers.find(([k]) => k === "etag")![1];
      for (const inm of [etag, `W/${etag}`, `"stale", ${etag}`, "*"]) {
        const { table, fetch, answeredByTable } = await fromTable(request("GET", path, { "if-none-match": inm }));
        expect(answeredByTable).toBe(true);
        expect([table.status, fetch.status, table.body, fetch.body]).toEqual([304, 304, "", ""]);
        // Bun's table keeps the entry's content-type on its 304s; the fetch path sends none (RFC 9110 §15.4.5 allows either).
        expect(table.headers).toEqual([...fetch.headers, ["content-type", "application/json"] as [string, string]].sort(([x], [y]) => x.localeCompare(y)));
      }
      const { table, fetch } = await w.both(request("GET", path, { "if-none-match": '"stale"' }));
      expect([table.status, table.body]).toEqual([200, fetch.body]);
    }
  });

  test("a query string is answered by the table with the same document the app gives for it", async () => {
    for (const path of held) {
      const { table, fetch, answeredByTable } = await fromTable(request("GET", `${path}?x=1&y`));
      expect({ path, answeredByTable }).toEqual({ path, answeredByTable: true });
      expect({ path, ...table, requestId: true }).toEqual({ path, ...fetch });
    }
  });

  test("other methods on a held path reach the fetch handler: 405 with Allow, OPTIONS 204", async () => {
    for (const method of ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"]) {
      const { table, fetch, answeredByTable } = await fromTable(request(method, `${M}/vpc/aws/versions`, { "content-length": "0" }));
      expect({ method, answeredByTable, status: table.status }).toEqual({ method, answeredByTable: false, status: method === "OPTIONS" ? 204 : 405 });
      expect(table).toEqual(fetch);
      expect(table.headers).toContainEqual(["allow", "GET, HEAD, OPTIONS"]);
    }
  });

  test("every other spelling of a held path reaches the fetch handler and gets its answer", async () => {
    const variants = [
      `${M}/vpc/aws/versions/`,
      `${M}/v%70c/aws/versions`,
      `${M}/VPC/aws/versions`,
      `${M}/vpc/AWS/versions`,
      `${M}//vpc/aws/versions`,
      `${P}/widget/v1.0.0/download/linux/amd64`,
      `${P}/widget/1.0.0/download/linux/amd64/`,
      `${P}/widget/1.0.0/download/Linux/amd64`,
      `${P}/widget/versions%2f`,
      "/.well-known/terraform.json/",
      "/.WELL-KNOWN/terraform.json",
      `${M}/vpc/aws/versions#frag`,
    ];
    for (const path of variants) {
      const { table, fetch, answeredByTable } = await fromTable(request("GET", path));
      expect({ path, answeredByTable }).toEqual({ path, answeredByTable: false });
      expect({ path, ...table }).toEqual({ path, ...fetch });
    }
    // Dot segments: Bun resolves them before routing, so these reach the fetch handler as the held path itself.
    for (const path of [`${M}/vpc/./aws/versions`, `${M}/vpc/x/../aws/versions`]) {
      const { table, fetch } = await w.both(request("GET", path));
      expect({ path, ...table }).toEqual({ path, ...fetch });
    }
  });

  test("a module with no declared system is never promoted: any system answers for it", async () => {
    await w.promote(`${M}/any/aws/versions`, `${M}/any/whatever/versions`);
    expect(w.routes.paths().filter((p) => p.includes("/any/"))).toEqual([]);
    const { table, fetch, answeredByTable } = await fromTable(request("GET", `${M}/any/aws/versions`));
    expect([answeredByTable, table.status]).toEqual([false, 200]);
    expect(table).toEqual(fetch);
  });

  test("what is not a document (404s, downloads) is never promoted", async () => {
    await w.promote(`${M}/nope/aws/versions`, `${M}/vpc/aws/1.1.0/download`, `${P}/widget/9.9.9/download/linux/amd64`, `${P}/nope/versions`);
    expect(w.routes.paths()).toEqual([...held].sort());
  });
});
