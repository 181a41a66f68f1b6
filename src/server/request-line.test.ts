// What the router sees of a request: the path and query as sent on a fixed origin whose scheme is the listener's,
// and the Host the client sent (or, for a Request built in process, the host of its URL).
import { describe, expect, test } from "bun:test";
import { normaliseRequest } from "./request-line.ts";

const routed = (request: Request) => {
  const n = normaliseRequest(request);
  if ("problem" in n) throw new Error(n.problem);
  return n.request;
};

describe("normaliseRequest", () => {
  test("the path and query survive on the routing origin; the scheme follows the listener (TLS or not)", () => {
    const plain = routed(new Request("http://registry.example:8080/a/b?c=d", { headers: { host: "registry.example:8080" } }));
    expect(plain.url).toBe("http://opendepot.invalid/a/b?c=d");
    expect(plain.headers.get("host")).toBe("registry.example:8080");
    expect(new URL(routed(new Request("https://registry.example/x", { headers: { host: "registry.example" } })).url).protocol).toBe("https:");
  });

  test("a Request built in process keeps its URL's host as the Host header; a client's Host is never replaced", () => {
    expect(routed(new Request("http://127.0.0.1:9999/x")).headers.get("host")).toBe("127.0.0.1:9999");
    expect(routed(new Request("http://127.0.0.1:9999/x", { headers: { host: "other.example" } })).headers.get("host")).toBe("other.example");
  });

  test("a malformed Host or percent-escape is a problem with a reason, not a routed request", () => {
    expect(normaliseRequest(new Request("http://a.example/x", { headers: { host: 'evil"><script>' } }))).toMatchObject({ problem: "the Host header is malformed" });
    expect(normaliseRequest(new Request("http://a.example/%ff"))).toMatchObject({ problem: "the request URL has an invalid percent-encoding" });
  });
});
