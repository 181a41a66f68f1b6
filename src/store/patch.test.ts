import { describe, expect, test } from "bun:test";
import { StoreError } from "./errors.ts";
import { applyJsonPatch, applyMergePatch, applyPatch, parsePointer } from "./patch.ts";
import { deepEqual } from "../kits/json.ts";
import type { JsonPatchOp } from "./types.ts";

function invalidMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(StoreError);
    expect((e as StoreError).reason).toBe("Invalid");
    return (e as StoreError).message;
  }
  throw new Error("expected an Invalid StoreError");
}

describe("merge patch (RFC 7386)", () => {
  // The examples of RFC 7386 appendix A.
  test.each([
    [{ a: "b" }, { a: "c" }, { a: "c" }],
    [{ a: "b" }, { b: "c" }, { a: "b", b: "c" }],
    [{ a: "b" }, { a: null }, {}],
    [{ a: "b", b: "c" }, { a: null }, { b: "c" }],
    [{ a: ["b"] }, { a: "c" }, { a: "c" }],
    [{ a: "c" }, { a: ["b"] }, { a: ["b"] }],
    [{ a: { b: "c" } }, { a: { b: "d", c: null } }, { a: { b: "d" } }],
    [{ a: [{ b: "c" }] }, { a: [1] }, { a: [1] }],
    [["a", "b"], ["c", "d"], ["c", "d"]],
    [{ a: "b" }, ["c"], ["c"]],
    [{ a: "foo" }, null, null],
    [{ a: "foo" }, "bar", "bar"],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: "b", c: null }, { a: "b" }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ])("%j + %j = %j", (target, patch, expected) => {
    expect(applyMergePatch(target, patch)).toEqual(expected);
  });

  test("does not mutate its inputs", () => {
    const target = { spec: { a: 1, nested: { b: 2 } } };
    const patch = { spec: { nested: { b: 3 } } };
    const out = applyMergePatch(target, patch) as { spec: { nested: { b: number } } };
    expect(target.spec.nested.b).toBe(2);
    out.spec.nested.b = 9;
    expect(patch.spec.nested.b).toBe(3);
  });

  test("__proto__ is data, not a prototype change", () => {
    const out = applyMergePatch({}, JSON.parse('{"__proto__": {"polluted": true}}')) as Record<string, unknown>;
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.keys(out)).toEqual(["__proto__"]);
  });
});

describe("json patch (RFC 6902)", () => {
  const doc = { foo: "bar", list: [1, 2, 3], obj: { "a/b": 1, "m~n": 2 } };

  test("add: member, array insert, append with -, root", () => {
    expect(applyJsonPatch(doc, [{ op: "add", path: "/baz", value: "qux" }])).toMatchObject({ baz: "qux" });
    expect((applyJsonPatch(doc, [{ op: "add", path: "/list/1", value: 9 }]) as typeof doc).list).toEqual([1, 9, 2, 3]);
    expect((applyJsonPatch(doc, [{ op: "add", path: "/list/-", value: 4 }]) as typeof doc).list).toEqual([1, 2, 3, 4]);
    expect((applyJsonPatch(doc, [{ op: "add", path: "/list/3", value: 4 }]) as typeof doc).list).toEqual([1, 2, 3, 4]);
    expect(applyJsonPatch(doc, [{ op: "add", path: "", value: { x: 1 } }])).toEqual({ x: 1 });
    expect(applyJsonPatch(doc, [{ op: "add", path: "/foo", value: null }])).toMatchObject({ foo: null });
  });

  test("~0 and ~1 escapes", () => {
    expect(parsePointer("/obj/a~1b")).toEqual(["obj", "a/b"]);
    expect(parsePointer("/~01")).toEqual(["~1"]);
    const out = applyJsonPatch(doc, [
      { op: "replace", path: "/obj/a~1b", value: 10 },
      { op: "remove", path: "/obj/m~0n" },
    ]);
    expect((out as { obj: unknown }).obj).toEqual({ "a/b": 10 });
  });

  test("remove, replace, move, copy, test", () => {
    const ops: JsonPatchOp[] = [
      { op: "test", path: "/foo", value: "bar" },
      { op: "remove", path: "/list/0" },
      { op: "replace", path: "/foo", value: { deep: [1] } },
      { op: "copy", from: "/foo", path: "/copied" },
      { op: "move", from: "/list", path: "/moved" },
      { op: "test", path: "/copied", value: { deep: [1] } },
    ];
    const out = applyJsonPatch(doc, ops) as Record<string, unknown>;
    expect(out).toEqual({ foo: { deep: [1] }, copied: { deep: [1] }, moved: [2, 3], obj: doc.obj });
    (out.copied as { deep: number[] }).deep.push(2);
    expect(out.foo).toEqual({ deep: [1] }); // copy is deep
    expect(doc.list).toEqual([1, 2, 3]); // input untouched
  });

  test("move within an array", () => {
    expect(applyJsonPatch({ a: [1, 2, 3] }, [{ op: "move", from: "/a/0", path: "/a/-" }])).toEqual({ a: [2, 3, 1] });
  });

  test("failures are atomic and name the operation", () => {
    const input = { a: 1 };
    const message = invalidMessage(() =>
      applyJsonPatch(input, [
        { op: "add", path: "/b", value: 2 },
        { op: "test", path: "/a", value: 2 },
      ]),
    );
    expect(message).toContain("operation 1 (test /a)");
    expect(message).toContain("test failed");
    expect(input).toEqual({ a: 1 });
  });

  test.each<[string, JsonPatchOp[], string]>([
    ["missing member", [{ op: "remove", path: "/nope" }], 'path "/nope" does not exist'],
    ["replace missing", [{ op: "replace", path: "/nope", value: 1 }], "does not exist"],
    ["add under missing parent", [{ op: "add", path: "/x/y", value: 1 }], "does not exist"],
    ["index out of range", [{ op: "add", path: "/list/9", value: 1 }], "out of range"],
    ["- on remove", [{ op: "remove", path: "/list/-" }], "invalid array index"],
    ["leading zero", [{ op: "replace", path: "/list/01", value: 1 }], "invalid array index"],
    ["bad pointer", [{ op: "add", path: "foo", value: 1 }], "must start with '/'"],
    ["bad escape", [{ op: "add", path: "/a~2", value: 1 }], "'~' must be followed by 0 or 1"],
    ["missing value", [{ op: "add", path: "/a" }], '"add" needs a value'],
    ["missing from", [{ op: "copy", path: "/a" }], "needs a \"from\""],
    ["move into child", [{ op: "move", from: "/obj", path: "/obj/x" }], "its own child"],
    ["unknown op", [{ op: "frobnicate", path: "/a" } as unknown as JsonPatchOp], "unknown operation"],
    ["remove root", [{ op: "remove", path: "" }], "whole document"],
  ])("%s", (_, ops, expected) => {
    expect(invalidMessage(() => applyJsonPatch(doc, ops))).toContain(expected);
  });

  test("a non-array patch is Invalid", () => {
    expect(invalidMessage(() => applyPatch(doc, { type: "json", patch: {} as unknown as JsonPatchOp[] }))).toContain("array");
    expect(invalidMessage(() => applyPatch(doc, { type: "merge", patch: [] as unknown as Record<string, unknown> }))).toContain("object");
  });
});

test("deepEqual ignores key order, not array order", () => {
  expect(deepEqual({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 })).toBe(true);
  expect(deepEqual([1, 2], [2, 1])).toBe(false);
  expect(deepEqual({ a: undefined }, {})).toBe(true);
  expect(deepEqual({ a: null }, {})).toBe(false);
  expect(deepEqual(1, "1")).toBe(false);
});
