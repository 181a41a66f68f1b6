import { describe, expect, test } from "bun:test";
import { compareVersions, normalizeVersion, parseVersion } from "../api/version.ts";
import { ConstraintError, matchingVersions, parseConstraints, satisfies } from "./constraints.ts";

// [constraint, version, expected]: go-version's documented behaviour, plus the two documented deviations
// (one-segment `~>` is bounded; prereleases need a prerelease constraint of the same core, `!=` included).
const table: [string, string, boolean][] = [
  // no operator and `=`
  ["1.0.0", "1.0.0", true],
  ["1.0.0", "1.0.1", false],
  ["= 1.0.0", "1.0.0", true],
  ["=1.2", "1.2.0", true],
  ["= 1", "1.0.0", true],
  ["v1.0.0", "1.0.0", true],
  ["1.0.0", "v1.0.0", true],
  ["= 1.0.0-beta", "1.0.0-beta", true],
  ["= 1.0.0-beta", "1.0.0", false],
  ["= 1.0.0", "1.0.0-beta", false],
  ["= 1.0.0+build.1", "1.0.0+other", true],
  // `!=`
  ["!= 1.0.0", "1.0.0", false],
  ["!= 1.0.0", "1.0.1", true],
  ["!= 1.2", "1.2.0", false],
  ["!= 1.3.0", "2.0.0-rc1", false], // deviation: go-version lets this prerelease through
  // `>` `>=` `<` `<=`
  ["> 1.0.0", "1.0.0", false],
  ["> 1.0.0", "1.0.1", true],
  [">= 1.0.0", "1.0.0", true],
  [">= 1.0.0", "0.9.9", false],
  [">= 1.0", "1.4.0", true],
  ["< 1.0.0", "0.9.9", true],
  ["< 1.0.0", "1.0.0", false],
  ["<= 1.0.0", "1.0.0", true],
  ["<= 1.0.0", "1.0.1", false],
  [">= 1.0, < 1.4", "1.2.0", true],
  [">= 1.0, < 1.4", "1.4.0", false],
  [">=1.0,<1.4", "1.3.9", true],
  // prereleases against range operators
  [">= 1.0.0", "1.1.0-beta", false],
  ["< 2.0.0", "1.9.0-rc1", false],
  [">= 1.0.0-beta", "1.0.0-rc.1", true],
  [">= 1.0.0-beta", "1.0.0", true],
  [">= 1.0.0-beta", "1.1.0-beta", false],
  ["> 1.0.0-beta.2", "1.0.0-beta.10", true],
  ["< 1.0.0-beta.2", "1.0.0-alpha", true],
  // `~>`
  ["~> 5.80", "5.80.0", true],
  ["~> 5.80", "5.99.3", true],
  ["~> 5.80", "5.79.9", false],
  ["~> 5.80", "6.0.0", false],
  ["~> 5.80.0", "5.80.7", true],
  ["~> 5.80.0", "5.81.0", false],
  ["~> 5.80.2", "5.80.1", false],
  ["~> 2.1", "2.1.0", true],
  ["~> 2.1", "2.9.0", true],
  ["~> 2.1", "3.0.0", false],
  ["~> 2.1", "2.0.9", false],
  ["~> 1", "1.0.0", true],
  ["~> 1", "1.9.9", true],
  ["~> 1", "2.0.0", false], // deviation: go-version's `~> 1` is unbounded above
  ["~> 1", "0.9.0", false],
  ["~> 1.2.3-beta", "1.2.3-beta.2", true],
  ["~> 1.2.3-beta", "1.2.3-alpha", false],
  ["~> 1.2.3-beta", "1.2.4-beta", false],
  ["~> 1.2.3-beta", "1.2.3", false],
  ["~> 1.2.3", "1.2.4-beta", false],
  ["~> v0.9", "0.10.1", true],
  // the acceptance constraints of issue 6
  [">= 1.0.0, != 1.3.0", "1.3.0", false],
  [">= 1.0.0, != 1.3.0", "1.2.0", true],
  [">= 1.0.0, != 1.3.0", "0.9.0", false],
  [">= 1.0.0, != 1.3.0", "2.0.0", true],
  [">= 1.0.0, != 1.3.0", "v1.3", false], // `1.3` is normalised to 1.3.0
  [">= 1.0.0, != 1.3.0", "2.1.0-rc.1", false], // prereleases need a constraint that names one
  ["~> 2.1", "v2.1", true],
  ["~> 2.1", "2.1.0-rc.1", false],
  ["~> 2.1.0-rc.1", "2.1.0-rc.2", true],
  // metadata ignored in comparisons
  ["> 1.0.0", "1.0.0+build", false],
  [">= 1.0.0", "v1.0.0+build", true],
];

describe("satisfies (table)", () => {
  for (const [c, v, want] of table) {
    test(`${JSON.stringify(v)} ${want ? "satisfies" : "does not satisfy"} ${JSON.stringify(c)}`, () => {
      expect(satisfies(v, parseConstraints(c))).toBe(want);
    });
  }
  test("unparsable versions never satisfy", () => {
    expect(satisfies("release-7", ">= 0.0.0")).toBe(false);
    expect(satisfies("1.2.3.4", ">= 0.0.0")).toBe(false);
    expect(satisfies("", ">= 0.0.0")).toBe(false);
  });
});

describe("parseConstraints", () => {
  const bad: [string, RegExp][] = [
    ["", /empty/],
    ["   ", /empty/],
    [">= 1.0,", /empty part/],
    [">= 1.0, foo", /"foo"/],
    ["=> 1.0", /"=> 1.0"/],
    ["~ 1.0", /"~ 1.0"/],
    ["^1.0", /"\^1.0"/],
    [">= 1.0 || < 2.0", /"/],
    ["1.2.3.4", /"1.2.3.4"/],
    ["1.x", /"1.x"/],
  ];
  for (const [input, message] of bad) {
    test(`rejects ${JSON.stringify(input)}`, () => {
      expect(() => parseConstraints(input)).toThrow(ConstraintError);
      expect(() => parseConstraints(input)).toThrow(message);
    });
  }
  test("keeps the operator and spelled segments", () => {
    const cs = parseConstraints(" ~>5.80 , != v5.81.1 ");
    expect(cs.constraints.map((c) => [c.operator, c.segments, c.original])).toEqual([["~>", 2, "~>5.80"], ["!=", 3, "!= v5.81.1"]]);
  });
});

describe("versions", () => {
  test("parseVersion and normalizeVersion", () => {
    expect(parseVersion("v1.2")).toEqual({ major: 1, minor: 2, patch: 0, prerelease: [], build: [] });
    expect(parseVersion("1.2.3-rc.1+exp.sha")).toEqual({ major: 1, minor: 2, patch: 3, prerelease: ["rc", "1"], build: ["exp", "sha"] });
    expect(parseVersion("1.2.3-")).toBeUndefined();
    expect(parseVersion("x1.2.3")).toBeUndefined();
    expect(normalizeVersion("v1.2")).toBe("1.2.0");
    expect(normalizeVersion("V3")).toBeUndefined();
    expect(normalizeVersion("3")).toBe("3.0.0");
    expect(normalizeVersion("01.02.03-beta")).toBe("1.2.3-beta");
  });
  test("compareVersions follows semver precedence", () => {
    const sorted = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.10.0", "2.0.0"];
    const shuffled = [...sorted].reverse();
    expect(shuffled.sort(compareVersions)).toEqual(sorted);
    expect(compareVersions("1.0.0+a", "1.0.0+b")).toBe(0);
    expect(compareVersions("v1.2", "1.2.0")).toBe(0);
  });
  test("matchingVersions dedupes by normalised version and keeps the first spelling", () => {
    const tags = ["v2.0.0", "2.0.0", "v1.3.0", "v1.2", "1.2.0", "v1.1.0-beta", "nightly", "v0.9.0"];
    expect(matchingVersions(tags, ">= 1.0.0, != 1.3.0")).toEqual([
      { version: "2.0.0", original: "v2.0.0" },
      { version: "1.2.0", original: "v1.2" },
    ]);
  });
});
