import { describe, expect, test } from "bun:test";
import { StoreError } from "./errors.ts";
import { parseSelector } from "./selector.ts";

const labels = { app: "web", tier: "front", "opendepot.defdev.io/module": "vpc" };

describe("parseSelector", () => {
  test("blank selects everything", () => {
    expect(parseSelector(undefined).matches(undefined)).toBe(true);
    expect(parseSelector("  ").matches(labels)).toBe(true);
  });

  test.each([
    ["app=web", true],
    ["app==web", true],
    ["app = web", true],
    ["app=db", false],
    ["app!=db", true],
    ["app!=web", false],
    ["missing!=x", true],
    ["app", true],
    ["missing", false],
    ["!missing", true],
    ["!app", false],
    ["tier in (front,back)", true],
    ["tier in ( back , side )", false],
    ["tier notin (back)", true],
    ["tier notin (front)", false],
    ["missing notin (x)", true],
    ["missing in (x)", false],
    ["app=web,tier=front", true],
    ["app=web, tier=back", false],
    ["opendepot.defdev.io/module=vpc,!gone", true],
    ["app in (web),tier notin (x,y),app", true],
    ["empty=", false],
  ])("%p → %p", (selector, expected) => {
    expect(parseSelector(selector).matches(labels)).toBe(expected);
  });

  test("an empty value matches an empty label", () => {
    expect(parseSelector("a=").matches({ a: "" })).toBe(true);
    expect(parseSelector("a==").matches({ a: "" })).toBe(true);
    expect(parseSelector("a!=").matches({ a: "x" })).toBe(true);
  });

  test("round-trips through toString", () => {
    const s = parseSelector("a=b, c!=d ,e,!f,g in (x, y),h notin (z)");
    expect(s.toString()).toBe("a=b,c!=d,e,!f,g in (x,y),h notin (z)");
    expect(parseSelector(s.toString()).requirements).toEqual(s.requirements);
  });

  test.each([
    "a=b,",
    ",a",
    "a in ()",
    "a in (x",
    "a notin x",
    "a=b=c",
    "a b",
    "!",
    "a!b",
    "-bad=x",
    "Bad_Prefix/x=y",
    "a=-bad",
    `a=${"x".repeat(64)}`,
    `${"k".repeat(64)}=v`,
    "a in (x,)",
  ])("rejects %p with Invalid", (selector) => {
    let error: unknown;
    try {
      parseSelector(selector);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).reason).toBe("Invalid");
    expect((error as StoreError).message).toContain(selector.slice(0, 10));
  });
});
