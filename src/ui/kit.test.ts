// The small pieces under the pages: escaping, sealed cookies, return targets, defensive docs parsing.
import { describe, expect, test } from "bun:test";
import { html, trusted } from "./html.ts";
import { safeReturn } from "./oidc-login.ts";
import { diffDocs, parseDocs } from "./pages/docs.ts";
import { CookieSealer, readCookie } from "./session.ts";

describe("html``", () => {
  test("escapes every interpolation unless it is Html", () => {
    const evil = `<script>"'&`;
    expect(html`<p title="${evil}">${evil}</p>`.value).toBe('<p title="&lt;script&gt;&quot;&#39;&amp;">&lt;script&gt;&quot;&#39;&amp;</p>');
    expect(html`${trusted("<b>ok</b>")}${[1, "<", null, undefined, false]}`.value).toBe("<b>ok</b>1&lt;");
  });
});

describe("sealed cookies", () => {
  const key = new Uint8Array(32).fill(9);
  test("round trip; tampered, foreign-key, other-purpose and expired cookies open as undefined", async () => {
    const a = await CookieSealer.fromUrlSigningKey(key);
    const sealed = (await a.seal("session", { idToken: "t" }, 60))!;
    expect(await a.open("session", sealed)).toEqual({ idToken: "t" });
    const flipped = sealed.slice(0, 20) + (sealed[20] === "A" ? "B" : "A") + sealed.slice(21);
    expect(await a.open("session", flipped)).toBeUndefined();
    expect(await a.open("login", sealed)).toBeUndefined();
    const b = await CookieSealer.fromUrlSigningKey(new Uint8Array(32).fill(8));
    expect(await b.open("session", sealed)).toBeUndefined();
    expect(await a.open("session", (await a.seal("session", 1, -1))!)).toBeUndefined();
    expect(await a.open("session", "not base64 !!")).toBeUndefined();
    // Another replica with the same URL-signing key opens it.
    expect(await (await CookieSealer.fromUrlSigningKey(key)).open("session", sealed)).toEqual({ idToken: "t" });
  });

  test("refuses values that would not fit in a cookie", async () => {
    const a = await CookieSealer.fromUrlSigningKey(key);
    expect(await a.seal("session", "x".repeat(4000), 60)).toBeUndefined();
  });

  test("readCookie", () => {
    const r = new Request("http://x/", { headers: { cookie: "a=1; opendepot_session=abc; b=2" } });
    expect(readCookie(r, "opendepot_session")).toBe("abc");
    expect(readCookie(r, "missing")).toBeUndefined();
  });
});

test("safeReturn keeps same-site paths only", () => {
  expect(safeReturn("/stats?namespace=a")).toBe("/stats?namespace=a");
  for (const bad of ["https://evil.example/", "//evil.example", "/\\evil.example", "/x\nSet-Cookie: a", "evil", "", null, "/auth/login"]) expect(safeReturn(bad)).toBe("/");
});

describe("documentation JSON", () => {
  test("tolerates missing and mistyped fields", () => {
    for (const raw of [null, 1, "x", [], {}, { inputs: "nope", outputs: [null, 3, { description: "no name" }] }]) {
      const d = parseDocs(raw);
      if (d) expect(d.inputs).toEqual([]);
    }
    const d = parseDocs({ inputs: [{ name: "a", type: { object: ["x"] } }, { name: "b", default: 1 }], requiredProviders: { aws: { source: "hashicorp/aws", version: ">= 5" } } })!;
    expect(d.inputs.map((i) => [i.name, i.type, i.required])).toEqual([["a", '{"object":["x"]}', true], ["b", undefined, false]]);
    expect(d.requiredProviders).toEqual([{ name: "aws", source: "hashicorp/aws", version: ">= 5" }]);
  });

  test("diff: added, removed and changed inputs; added and removed outputs", () => {
    const a = parseDocs({ inputs: [{ name: "x", type: "string" }, { name: "gone" }], outputs: [{ name: "o1" }] })!;
    const b = parseDocs({ inputs: [{ name: "x", type: "number" }, { name: "new", default: true }], outputs: [{ name: "o2" }] })!;
    const d = diffDocs(a, b);
    expect(d.inputs.added.map((i) => i.name)).toEqual(["new"]);
    expect(d.inputs.removed.map((i) => i.name)).toEqual(["gone"]);
    expect(d.inputs.changed.map((c) => [c.after.name, c.what])).toEqual([["x", ["type"]]]);
    expect([d.outputs.added.map((o) => o.name), d.outputs.removed.map((o) => o.name)]).toEqual([["o2"], ["o1"]]);
  });
});

describe("the Documentation tab reads what the extractor stores", () => {
  test("root module's inputs, outputs and requirements; submodules and examples by path (api/module-docs.ts shape)", async () => {
    const { extractModuleDocs } = await import("../artifacts/module-docs.ts");
    const files = ([
      ["variables.tf", new TextEncoder().encode('variable "cidr" {\n  type = string\n  description = "VPC range"\n}\nvariable "tags" {\n  type = map(string)\n  default = {}\n}\n')],
      ["outputs.tf", new TextEncoder().encode('output "id" {\n  value = aws_vpc.this.id\n  description = "VPC id"\n}\n')],
      ["main.tf", new TextEncoder().encode('terraform {\n  required_version = ">= 1.3"\n  required_providers {\n    aws = { source = "hashicorp/aws", version = ">= 5.0" }\n  }\n}\nresource "aws_vpc" "this" { cidr_block = var.cidr }\nresource "aws_subnet" "a" {}\nresource "aws_subnet" "b" {}\n')],
      ["modules/flow-log/variables.tf", new TextEncoder().encode('variable "vpc_id" {}\n')],
      ["examples/simple/main.tf", new TextEncoder().encode('module "vpc" { source = "../../" }\n')],
    ] as [string, Uint8Array][]).map(([path, content]) => ({ path, content }));
    const stored = await extractModuleDocs(files);
    const d = parseDocs(JSON.parse(JSON.stringify(stored)))!;
    expect(d.inputs.map((i) => [i.name, i.type, i.required])).toEqual([["cidr", "string", true], ["tags", "map(string)", false]]);
    expect(d.outputs.map((o) => [o.name, o.description])).toEqual([["id", "VPC id"]]);
    expect(d.requiredProviders).toEqual([{ name: "aws", source: "hashicorp/aws", version: ">= 5.0" }]);
    expect(d.requiredVersion).toBe(">= 1.3");
    expect(d.resources).toEqual([{ type: "aws_subnet", count: 2 }, { type: "aws_vpc" }]);
    expect(d.submodules.map((s) => [s.path, s.inputs.map((i) => i.name)])).toEqual([["modules/flow-log", ["vpc_id"]]]);
    expect(d.examples.map((e) => e.path)).toEqual(["examples/simple"]);
  });
});
