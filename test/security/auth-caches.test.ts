// Findings (Medium): in OIDC mode every unknown namespace in a request path added a never-trimmed entry to the
// GroupBinding index (1M namespaces: RSS 94 → 476 MB), and the decision cache joined groups with NUL, so
// ["a\u0000b"] and ["a","b"] shared a cached decision. Replayed against the BindingIndex the gatekeeper uses.
import { afterAll, describe, expect, test } from "bun:test";
import type { GroupBindingObject } from "../../src/api/kinds.ts";
import { API_VERSION } from "../../src/api/meta.ts";
import { silentLogger } from "../../src/log.ts";
import { BindingIndex } from "../../src/server/auth/binding-index.ts";
import { BoundedMemo } from "../../src/server/http.ts";
import { StaticFeed } from "../support/static-feed.ts";
import { SecurityTally } from "./capture.ts";

const tally = new SecurityTally("auth caches (OIDC GroupBindings)");
afterAll(() => tally.print());

const binding = (namespace: string, name: string, expression: string): GroupBindingObject => ({
  apiVersion: API_VERSION,
  kind: "GroupBinding",
  metadata: { name, namespace },
  spec: { expression, moduleResources: ["*"], providerResources: ["*"] },
});

function index() {
  const feed = new StaticFeed<GroupBindingObject>([binding("opendepot-system", "global", '"platform" in groups'), binding("team-a", "devs", '"a" in groups')]);
  return new BindingIndex(feed, { globalNamespace: "opendepot-system", log: silentLogger });
}

describe("GroupBinding index", () => {
  test("200,000 unknown namespaces from one caller: the caches stay bounded by what exists", () => {
    const idx = index();
    for (let i = 0; i < 200_000; i++) {
      tally.tried++;
      if (!idx.select(["someone"], `ns-${i}`).binding) tally.refused++;
    }
    const sizes = idx.cacheSizes();
    expect(sizes.namespaces).toBeLessThanOrEqual(2); // the global list (+ team-a once asked)
    expect(sizes.decisions).toBe(1); // all unknown namespaces share the global scope
    expect(idx.select(["a"], "team-a").binding?.name).toBe("devs");
    expect(idx.select(["a"], "team-b").binding).toBeUndefined();
    expect(idx.select(["platform"], "team-b").binding?.name).toBe("global");
  });

  test('["a\\u0000b"] and ["a","b"] never share a decision; control characters are refused', () => {
    const idx = index();
    for (const first of [["a\u0000b"], ["a", "b"]]) {
      const fresh = index();
      fresh.select(first, "team-a");
      expect(fresh.select(["a", "b"], "team-a").binding?.name).toBe("devs");
      tally.tried++;
      const attacker = fresh.select(["a\u0000b"], "team-a");
      expect(attacker.binding).toBeUndefined();
      expect(attacker).toHaveProperty("error", "group names with control characters are refused");
      tally.refused++;
    }
    for (const g of ["x\u0007", "line\nbreak", "del\u007f"]) expect(idx.select([g, "a"], "team-a").binding).toBeUndefined();
    // A comma or quote inside a name cannot forge another list either (JSON keys).
    expect(idx.select(['a","b'], "team-a").binding).toBeUndefined();
    expect(idx.select(["a", "b"], "team-a").binding?.name).toBe("devs");
  });

  test("the memo is bounded in entries and bytes; over-long keys are not kept", () => {
    const memo = new BoundedMemo<string>(1000, 64 * 1024, 512);
    for (let i = 0; i < 10_000; i++) memo.set(`k${i}`, "v".repeat(100));
    expect(memo.size).toBeLessThanOrEqual(1000);
    expect(memo.size * 105).toBeLessThanOrEqual(64 * 1024 + 200);
    memo.set("x".repeat(513), "v");
    expect(memo.get("x".repeat(513))).toBeUndefined();
  });
});
