import { describe, expect, test } from "bun:test";
import { parseConstraints } from "../sources/constraints.ts";
import { formatManaged, mergeVersions, parseManaged } from "./depot-merge.ts";

const v = (...versions: string[]) => versions.map((version) => ({ version }));
const merge = (current: { version?: string; name?: string }[], o: { matched: string[]; managed?: string[]; constraint: string; limit?: number; authoritative?: boolean }) =>
  mergeVersions(current, { matched: o.matched, managed: o.managed ?? [], constraints: parseConstraints(o.constraint), historyLimit: o.limit, authoritative: o.authoritative ?? true });

describe("mergeVersions", () => {
  test("first poll: every match is appended and recorded as Depot-added", () => {
    const r = merge([], { matched: ["2.0.0", "1.2.0"], constraint: ">= 1.0.0" });
    expect(r.versions).toEqual(v("2.0.0", "1.2.0"));
    expect(r.managed).toEqual(["2.0.0", "1.2.0"]);
    expect(r.added).toEqual(["2.0.0", "1.2.0"]);
    expect(r.removed).toEqual([]);
  });

  test("hand-added versions survive, keep their spelling and position, and are not claimed even when discovered", () => {
    const current = [{ version: "v0.9.0" }, { version: "v2.0.0", name: "pinned" }, { version: "1.2.0" }];
    const r = merge(current, { matched: ["2.1.0", "2.0.0", "1.2.0"], managed: ["1.2.0"], constraint: ">= 1.0.0" });
    expect(r.versions).toEqual([{ version: "v0.9.0" }, { version: "v2.0.0", name: "pinned" }, { version: "1.2.0" }, { version: "2.1.0" }]);
    expect(r.managed).toEqual(["2.1.0", "1.2.0"]);
    expect(r.added).toEqual(["2.1.0"]);
  });

  test("a Depot-added version that stops matching is removed; a hand-added one that does not match stays", () => {
    const r = merge(v("1.0.0", "2.1.0", "2.2.0", "1.3.0"), { matched: ["2.2.0"], managed: ["1.0.0", "2.1.0", "2.2.0"], constraint: "~> 2.2" });
    expect(r.versions).toEqual(v("2.2.0", "1.3.0"));
    expect(r.removed).toEqual(["2.1.0", "1.0.0"]);
    expect(r.managed).toEqual(["2.2.0"]);
  });

  test("a version that disappeared upstream but still matches is kept (a mirror keeps what it mirrored)", () => {
    const r = merge(v("1.0.0", "1.1.0"), { matched: ["1.1.0"], managed: ["1.0.0", "1.1.0"], constraint: ">= 1.0.0" });
    expect(r.versions).toEqual(v("1.0.0", "1.1.0"));
    expect(r.removed).toEqual([]);
  });

  test("a non-authoritative (empty) answer adds and removes nothing, even after a constraint change", () => {
    const r = merge(v("1.0.0", "2.0.0"), { matched: [], managed: ["1.0.0", "2.0.0"], constraint: ">= 5.0.0", authoritative: false });
    expect(r.versions).toEqual(v("1.0.0", "2.0.0"));
    expect(r.managed).toEqual(["2.0.0", "1.0.0"]);
    expect(r.added.length + r.removed.length).toBe(0);
  });

  test("versionHistoryLimit: only the newest N are added; older Depot-added ones leave as newer ones arrive", () => {
    const first = merge([], { matched: ["1.4.0", "1.3.0", "1.2.0", "1.1.0"], constraint: ">= 1.0.0", limit: 2 });
    expect(first.versions).toEqual(v("1.4.0", "1.3.0"));
    const current = [...first.versions, { version: "0.1.0" }]; // plus a hand-added one
    const second = merge(current, { matched: ["1.5.0", "1.4.0", "1.3.0"], managed: first.managed, constraint: ">= 1.0.0", limit: 2 });
    expect(second.added).toEqual(["1.5.0"]);
    expect(second.removed).toEqual(["1.3.0"]);
    expect(second.versions).toEqual(v("1.4.0", "0.1.0", "1.5.0"));
  });

  test("a version the user deleted by hand is re-added (and no longer counted as Depot-added meanwhile)", () => {
    const r = merge(v("2.0.0"), { matched: ["2.0.0", "1.0.0"], managed: ["2.0.0", "1.0.0"], constraint: ">= 1.0.0" });
    expect(r.added).toEqual(["1.0.0"]);
    expect(r.managed).toEqual(["2.0.0", "1.0.0"]);
  });

  test("unparsable spec entries are left untouched", () => {
    const r = merge([{ version: "latest" }, {}], { matched: ["1.0.0"], constraint: ">= 1.0.0" });
    expect(r.versions).toEqual([{ version: "latest" }, {}, { version: "1.0.0" }]);
  });
});

describe("managed-versions annotation", () => {
  test("round-trips and drops garbage", () => {
    expect(parseManaged(formatManaged(["2.0.0", "1.2.0"]))).toEqual(["2.0.0", "1.2.0"]);
    expect(parseManaged(" v1.2 , nope,,3.0.0-rc.1")).toEqual(["1.2.0", "3.0.0-rc.1"]);
    expect(parseManaged(undefined)).toEqual([]);
  });
});
