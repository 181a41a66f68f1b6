// Go's own path.Match test table (src/path/match_test.go): the same patterns must give the same answers.
import { describe, expect, test } from "bun:test";
import { BadPattern, Glob, pathMatch } from "./glob.ts";

const BAD = "bad";
const GO_TABLE: [string, string, boolean | typeof BAD][] = [
  ["abc", "abc", true],
  ["*", "abc", true],
  ["*c", "abc", true],
  ["a*", "a", true],
  ["a*", "abc", true],
  ["a*", "ab/c", false],
  ["a*/b", "abc/b", true],
  ["a*/b", "a/c/b", false],
  ["a*b*c*d*e*/f", "axbxcxdxe/f", true],
  ["a*b*c*d*e*/f", "axbxcxdxexxx/f", true],
  ["a*b*c*d*e*/f", "axbxcxdxe/xxx/f", false],
  ["a*b*c*d*e*/f", "axbxcxdxexxx/fff", false],
  ["a*b?c*x", "abxbbxdbxebxczzx", true],
  ["a*b?c*x", "abxbbxdbxebxczzy", false],
  ["ab[c]", "abc", true],
  ["ab[b-d]", "abc", true],
  ["ab[e-g]", "abc", false],
  ["ab[^c]", "abc", false],
  ["ab[^b-d]", "abc", false],
  ["ab[^e-g]", "abc", true],
  ["a\\*b", "a*b", true],
  ["a\\*b", "ab", false],
  ["a?b", "a☺b", true],
  ["a[^a]b", "a☺b", true],
  ["a???b", "a☺b", false],
  ["a[^a][^a][^a]b", "a☺b", false],
  ["[a-ζ]*", "α", true],
  ["*[a-ζ]", "A", false],
  ["a?b", "a/b", false],
  ["a*b", "a/b", false],
  ["[\\]a]", "]", true],
  ["[\\-]", "-", true],
  ["[x\\-]", "x", true],
  ["[x\\-]", "-", true],
  ["[x\\-]", "z", false],
  ["[\\-x]", "x", true],
  ["[\\-x]", "-", true],
  ["[\\-x]", "a", false],
  ["[]a]", "]", BAD],
  ["[-]", "-", BAD],
  ["[x-]", "x", BAD],
  ["[x-]", "-", BAD],
  ["[x-]", "z", BAD],
  ["[-x]", "x", BAD],
  ["[-x]", "-", BAD],
  ["[-x]", "a", BAD],
  ["\\", "a", BAD],
  ["[a-b-c]", "a", BAD],
  ["[", "a", BAD],
  ["[^", "a", BAD],
  ["[^bc", "a", BAD],
  ["a[", "a", BAD],
  ["a[", "ab", BAD],
  ["a[", "x", BAD],
  ["a/b[", "x", BAD],
  ["*x", "xxx", true],
];

describe("pathMatch (Go path.Match semantics)", () => {
  test.each(GO_TABLE)("%p vs %p", (pattern, name, want) => {
    if (want === BAD) expect(() => pathMatch(pattern, name)).toThrow(BadPattern);
    else expect(pathMatch(pattern, name)).toBe(want);
  });

  test("the v0.9 GroupBinding examples", () => {
    const aws = new Glob("aws-*");
    expect(aws.match("aws-vpc")).toBe(true);
    expect(aws.match("aws-")).toBe(true);
    expect(aws.match("gcp-networking")).toBe(false);
    expect(new Glob("gcp-networking").match("gcp-networking")).toBe(true);
    expect(new Glob("*").match("anything-at-all")).toBe(true);
  });

  test("stays linear on adversarial star patterns: each chunk is tried at most once per name position", () => {
    // A backtracking matcher would try exponentially many splits of 200 "a"s among 40 stars; Go's algorithm (and
    // this port) never returns to an earlier chunk, so the work is bounded by chunks × (name length + 1).
    const chunks = 41;
    const name = "a".repeat(200);
    const meter = { chunkTries: 0 };
    expect(new Glob(`${"*a".repeat(40)}b`).match(name, meter)).toBe(false);
    expect(meter.chunkTries).toBeGreaterThan(0);
    expect(meter.chunkTries).toBeLessThanOrEqual(chunks * (name.length + 1));
    // The meter counts what it claims to: a literal pattern is one comparison.
    const literal = { chunkTries: 0 };
    expect(new Glob("gcp-networking").match("gcp-networking", literal)).toBe(true);
    expect(literal.chunkTries).toBe(1);
  });
});
