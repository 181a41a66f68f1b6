// One definition of a version: the declared and served forms, normalisation, and precedence — cross-checked
// against the `semver` package (node-semver, the reference implementation of semver 2.0.0 precedence).
import { describe, expect, test } from "bun:test";
import semver from "semver";
import { VERSION_PATTERN } from "./types.ts";
import { compareNewestFirst, compareVersions, isSemver, normalizeVersion, parseVersion, VersionError } from "./version.ts";

const PRECEDENCE = ["0.0.1", "0.9.0", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1-0", "1.0.1", "1.2.0-rc.1", "1.2.0", "1.10.0", "2.0.0-rc.1", "2.0.0", "10.0.0"];

describe("precedence", () => {
  test("prereleases rank below their release and above the previous one", () => {
    expect(compareVersions("1.0.0-rc.1", "1.0.0")).toBe(-1);
    expect(compareVersions("1.0.0", "1.0.0-rc.1")).toBe(1);
    expect(compareVersions("1.0.0-rc.1", "0.9.9")).toBe(1);
    expect(compareVersions("2.0.0-alpha", "1.99.99")).toBe(1);
  });

  test("every pair orders as node-semver orders it; build metadata never matters", () => {
    for (const a of PRECEDENCE) {
      for (const b of PRECEDENCE) {
        expect([a, b, compareVersions(a, b)]).toEqual([a, b, semver.compare(a, b)]);
        expect(compareVersions(`${a}+build.1`, `v${b}+other`)).toBe(semver.compare(a, b));
      }
    }
  });

  test("newest first for served lists, anything unservable after, still a total order", () => {
    const shuffled = [...PRECEDENCE, "latest", "1.2", "01.0.0"].sort(() => 0.5 - ((PRECEDENCE.length * 7919) % 13) / 13);
    expect(shuffled.sort(compareNewestFirst)).toEqual([...PRECEDENCE].reverse().concat(["latest", "1.2", "01.0.0"]));
    expect(["1.0.0", "v1.0.1"].sort(compareNewestFirst)).toEqual(["v1.0.1", "1.0.0"]);
  });

  test("comparing something that is not a version throws a VersionError", () => {
    expect(() => compareVersions("nightly", "1.0.0")).toThrow(VersionError);
  });
});

describe("forms", () => {
  test("the declared form: one to three segments, optional v, normalised to MAJOR.MINOR.PATCH", () => {
    expect(normalizeVersion("v1.2")).toBe("1.2.0");
    expect(normalizeVersion(" 3 ")).toBe("3.0.0");
    expect(normalizeVersion("1.2.3-rc.1+sha.5")).toBe("1.2.3-rc.1+sha.5");
    for (const bad of ["1.2.3.4", "1.x", "V1.0.0", "1.2.3-", "", "v", "99999999999999999999.0.0"]) expect([bad, parseVersion(bad)]).toEqual([bad, undefined]);
  });

  test("the served form is a full semantic version with an optional leading v, nothing looser", () => {
    const served = ["1.2.3", "v1.2.3", "0.0.0", "1.0.0-rc.1", "1.0.0+build.7", "1.0.0-0.3.7", "999999999.0.0"];
    const notServed = ["01.2.3", "1.2", "1", "1.2.3.4", "1.2.3-", "1.2.3+", " 1.2.3", "1.2.3-a..b", "=1.2.3", "1000000000.0.0", `1.0.0-${"a".repeat(130)}`];
    for (const s of served) expect([s, isSemver(s), semver.valid(s) !== null]).toEqual([s, true, true]);
    for (const s of notServed) expect([s, isSemver(s)]).toEqual([s, false]);
  });

  test("the schema's version pattern accepts exactly the declared form", () => {
    const schema = new RegExp(VERSION_PATTERN);
    for (const s of ["1", "v1.2", "1.2.3-rc.1+b", " 1.2.3 ", "1.2.3.4", "1.x", "release-7", "1.2.3-", "V1"]) {
      expect([s, schema.test(s)]).toEqual([s, parseVersion(s) !== undefined]);
    }
  });
});
