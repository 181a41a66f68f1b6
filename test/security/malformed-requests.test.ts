// Findings (Low): malformed input answered 500 (invalid percent-escapes became null route parameters; HTTP/1.0
// without Host, CONNECT and empty or malformed Host threw "Invalid URL" outside the request's try), and a Host of
// three characters or fewer shifted the router's path parsing. Replayed with raw bytes on a socket against the
// registry server: every one is a 400 (CONNECT 405) with a reason, logged at info, and paths route as sent.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SigningKey } from "../../src/artifacts/signing.ts";
import { createLogger } from "../../src/log.ts";
import { startRegistryServer } from "../../src/roles/registry-server.ts";
import { EmbeddedStore } from "../../src/store/embedded.ts";
import { storageFactory } from "../../src/storage/factory.ts";
import { SecurityTally } from "./capture.ts";

const tally = new SecurityTally("malformed requests (registry server)");
const logs: { level: string; msg: string; status?: number; path?: string }[] = [];
let store: EmbeddedStore;
let http: { port: number; stop(force?: boolean): Promise<void> | void };
let stopServer: () => void;

beforeAll(async () => {
  store = EmbeddedStore.open(":memory:");
  const log = createLogger({ level: "debug", write: (l) => logs.push(JSON.parse(l)) });
  const server = await startRegistryServer({ store, storageFor: storageFactory({ defaultRoot: "/nonexistent-opendepot" }), signer: await SigningKey.generate({ name: "T", email: "t@example.com", rsaBits: 2048 }), urlKey: new Uint8Array(32).fill(1), urlTtlSeconds: 60, log });
  const listening = server.listen("127.0.0.1", 0);
  http = { port: Number(new URL(listening.url).port), stop: (f) => listening.stop(f) };
  stopServer = () => server.stop();
}, 60_000);
afterAll(async () => {
  tally.print({ errorLogLines: logs.filter((l) => l.level === "error").length });
  await http?.stop(true);
  stopServer?.();
  await store?.close();
});

/** Bytes as given; the status code and body of the answer. */
async function raw(text: string): Promise<{ status: number; body: string }> {
  const { promise, resolve, reject } = Promise.withResolvers<{ status: number; body: string }>();
  let buf = "";
  await Bun.connect({
    hostname: "127.0.0.1",
    port: http.port,
    socket: {
      open: (s) => void s.write(text),
      data: (_s, chunk) => void (buf += new TextDecoder().decode(chunk)),
      close: () => {
        const m = /^HTTP\/1\.[01] (\d{3})/.exec(buf);
        if (m) resolve({ status: Number(m[1]), body: buf.slice(buf.indexOf("\r\n\r\n") + 4) });
        else reject(new Error(`no status line: ${JSON.stringify(buf.slice(0, 100))}`));
      },
      error: (_s, e) => reject(e),
    },
  });
  return promise;
}
const get = (target: string, host: string | null = "127.0.0.1", version = "1.1") => raw(`GET ${target} HTTP/${version}\r\n${host === null ? "" : `Host: ${host}\r\n`}Connection: close\r\n\r\n`);

describe("malformed requests are 400 with a reason, never 500", () => {
  const cases: [string, () => Promise<{ status: number; body: string }>, number, RegExp][] = [
    ["%ff in a segment", () => get("/opendepot/modules/v1/default/x%ff/aws/versions"), 400, /percent-encoding/],
    ["overlong UTF-8 %c0%ae", () => get("/opendepot/modules/v1/default/%c0%ae%c0%ae/aws/versions"), 400, /percent-encoding/],
    ["a lone %", () => get("/opendepot/modules/v1/default/a%/aws/versions"), 400, /percent-encoding/],
    ["%ff in the query", () => get("/healthz?x=%ff"), 400, /percent-encoding/],
    ["HTTP/1.0 without Host", () => get("/healthz", null, "1.0"), 400, /no Host header/],
    ["empty Host", () => get("/healthz", ""), 400, /no Host header|malformed/],
    ["Host with a space", () => get("/healthz", "a b"), 400, /malformed/],
    ["Host [::1 unclosed", () => get("/healthz", "[::1"), 400, /malformed/],
    ["CONNECT", () => raw("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nConnection: close\r\n\r\n"), 405, /not allowed/],
  ];
  test.each(cases)("%s", async (_name, send, status, reason) => {
    tally.tried++;
    const r = await send();
    expect(r.status).toBe(status);
    expect(r.body).toMatch(reason);
    tally.refused++;
  });

  test("a short Host no longer shifts routing: /aaa/.well-known/terraform.json is not discovery", async () => {
    for (const host of ["a", "ab", "abc"]) {
      tally.tried++;
      expect((await get("/.well-known/terraform.json", host)).status).toBe(200);
      expect((await get("/aaa/.well-known/terraform.json", host)).status).toBe(404);
      tally.refused++;
    }
    const logged = logs.filter((l) => l.msg === "request" && l.status === 404).map((l) => l.path);
    expect(logged).toContain("/aaa/.well-known/terraform.json");
  });

  test("none of it was logged as an error", () => {
    expect(logs.filter((l) => l.level === "error")).toEqual([]);
  });
});
