import { describe, expect, test } from "bun:test";
import { parseConstraints } from "../sources/constraints.ts";
import { mergeVersions, migrateLegacy, parseManaged } from "./depot-merge.ts";

const v = (...versions: string[]) => versions.map((version) => ({ version }));
const merge = (current: { version?: string; name?: string }[], o: { matched: string[]; constraint: string; limit?: number; authoritative?: boolean }) =>
  mergeVersions(current, { matched: o.matched, constraints: parseConstraints(o.constraint), historyLimit: o.limit, authoritative: o.authoritative ?? true });

describe("mergeVersions (into spec.depotVersions)", () => {
  test("first poll: every match is appended", () => {
    const r = merge([], { matched: ["2.0.0", "1.2.0"], constraint: ">= 1.0.0" });
    expect(r.versions).toEqual(v("2.0.0", "1.2.0"));
    expect(r.added).toEqual(["2.0.0", "1.2.0"]);
    expect(r.removed).toEqual([]);
  });

  test("listed versions keep their spelling and position; new matches are appended newest first", () => {
    const current = [{ version: "v2.0.0", name: "pinned" }, { version: "1.2.0" }];
    const r = merge(current, { matched: ["2.1.0", "2.0.0", "1.2.0", "1.3.0"], constraint: ">= 1.0.0" });
    expect(r.versions).toEqual([{ version: "v2.0.0", name: "pinned" }, { version: "1.2.0" }, { version: "2.1.0" }, { version: "1.3.0" }]);
    expect(r.added).toEqual(["2.1.0", "1.3.0"]);
  });

  test("a listed version that stops matching is removed", () => {
    const r = merge(v("1.0.0", "2.1.0", "2.2.0"), { matched: ["2.2.0"], constraint: "~> 2.2" });
    expect(r.versions).toEqual(v("2.2.0"));
    expect(r.removed).toEqual(["2.1.0", "1.0.0"]);
  });

  test("a version that disappeared upstream but still matches is kept (a mirror keeps what it mirrored)", () => {
    const r = merge(v("1.0.0", "1.1.0"), { matched: ["1.1.0"], constraint: ">= 1.0.0" });
    expect(r.versions).toEqual(v("1.0.0", "1.1.0"));
    expect(r.removed).toEqual([]);
  });

  test("a non-authoritative (empty) answer adds and removes nothing, even after a constraint change", () => {
    const r = merge(v("1.0.0", "2.0.0"), { matched: [], constraint: ">= 5.0.0", authoritative: false });
    expect(r.versions).toEqual(v("1.0.0", "2.0.0"));
    expect(r.added.length + r.removed.length).toBe(0);
  });

  test("versionHistoryLimit: only the newest N are added; older ones leave as newer ones arrive", () => {
    const first = merge([], { matched: ["1.4.0", "1.3.0", "1.2.0", "1.1.0"], constraint: ">= 1.0.0", limit: 2 });
    expect(first.versions).toEqual(v("1.4.0", "1.3.0"));
    const second = merge(first.versions, { matched: ["1.5.0", "1.4.0", "1.3.0"], constraint: ">= 1.0.0", limit: 2 });
    expect(second.added).toEqual(["1.5.0"]);
    expect(second.removed).toEqual(["1.3.0"]);
    expect(second.versions).toEqual(v("1.4.0", "1.5.0"));
  });

  test("unparsable entries are left untouched", () => {
    const r = merge([{ version: "latest" }, {}], { matched: ["1.0.0"], constraint: ">= 1.0.0" });
    expect(r.versions).toEqual([{ version: "latest" }, {}, { version: "1.0.0" }]);
  });
});

describe("legacy annotation", () => {
  test("parses and drops garbage", () => {
    expect(parseManaged("2.0.0,1.2.0")).toEqual(["2.0.0", "1.2.0"]);
    expect(parseManaged(" v1.2 , nope,,3.0.0-rc.1")).toEqual(["1.2.0", "3.0.0-rc.1"]);
    expect(parseManaged(undefined)).toEqual([]);
  });

  test("moves the recorded Depot versions out of spec.versions, keeping hand-declared ones and the union", () => {
    const m = migrateLegacy(v("v2.1.0", "2.2.0", "2.3.0"), v("2.3.0"), "2.2.0,2.3.0");
    expect(m.versions).toEqual(v("v2.1.0"));
    expect(m.depotVersions).toEqual(v("2.3.0", "2.2.0"));
    expect(migrateLegacy(v("1.0.0"), [], undefined)).toEqual({ versions: v("1.0.0"), depotVersions: [] });
  });
});
