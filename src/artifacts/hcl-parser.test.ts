import { afterAll, expect, test } from "bun:test";
import { HclParserError, HclSyntaxError, WorkerHclParser } from "./hcl-parser.ts";

const parser = new WorkerHclParser();
afterAll(() => parser.close());

test("HashiCorp's parser, in a worker, turns HCL into its JSON form", async () => {
  const doc = await parser.parse("main.tf", 'variable "region" {\n  type    = string\n  default = "eu-west-1"\n}\n');
  expect(doc).toEqual({ variable: { region: [{ type: "${string}", default: "eu-west-1" }] } });
});

test("a syntax error is an HclSyntaxError carrying the file, position and diagnostic", async () => {
  const error = (await parser.parse("broken.tf", 'resource "a" "b" {\n  x = \n}\n').catch((e: Error) => e)) as Error;
  expect(error).toBeInstanceOf(HclSyntaxError);
  expect(error.message).toBe("broken.tf:2,7-3,1: Invalid expression; Expected the start of an expression, but found an invalid expression token.");
});

test("concurrent calls each get their own answer", async () => {
  const docs = await Promise.all(Array.from({ length: 20 }, (_, i) => parser.parse(`f${i}.tf`, `output "o${i}" {\n  value = ${i}\n}\n`)));
  docs.forEach((d, i) => expect(d).toEqual({ output: { [`o${i}`]: [{ value: i }] } }));
});

test("a call that does not answer in time ends the worker; the next call gets a fresh one", async () => {
  const impatient = new WorkerHclParser({ timeoutMs: 1 });
  try {
    // A 1 ms budget cannot cover starting the worker and compiling the wasm.
    const error = (await impatient.parse("slow.tf", 'variable "a" {}').catch((e: Error) => e)) as Error;
    expect(error).toBeInstanceOf(HclParserError);
    expect(error.message).toContain("did not answer within 1 ms");
    impatient.timeoutMs = 60_000;
    expect(await impatient.parse("after.tf", 'variable "b" {}')).toEqual({ variable: { b: [{}] } });
  } finally {
    impatient.close();
  }
}, 60_000);

test("input that breaks the parser itself (nesting deep enough to overflow its stack) fails that file only; the parser recovers", async () => {
  const recovering = new WorkerHclParser();
  try {
    const error = (await recovering.parse("deep.tf", `x = ${"[".repeat(100_000)}${"]".repeat(100_000)}`).catch((e: Error) => e)) as Error;
    expect(error).toBeInstanceOf(HclParserError);
    expect(error.message).toStartWith("the HCL parser failed on this file:");
    // A fresh Go runtime, not the interrupted one, answers the next files.
    for (let i = 0; i < 5; i++) expect(await recovering.parse(`ok${i}.tf`, `variable "v${i}" {}`)).toEqual({ variable: { [`v${i}`]: [{}] } });
  } finally {
    recovering.close();
  }
}, 60_000);
