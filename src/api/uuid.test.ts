import { describe, expect, test } from "bun:test";
import { uuidv7 } from "./uuid.ts";

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("uuidv7", () => {
  test("has the RFC 9562 layout: version 7, variant 10, the milliseconds in the first 48 bits", () => {
    // Ahead of the clock and of any earlier call in this process (a fixed date fell behind the clock on 2026-12-01).
    const ms = Date.now() + 123;
    const id = uuidv7(ms + 10_000_000);
    expect(id).toMatch(V7);
    expect(parseInt(id.replace(/-/g, "").slice(0, 12), 16)).toBe(ms + 10_000_000);
    expect(id.length).toBe(Bun.randomUUIDv7().length);
  });

  test("ids sort in creation order, also within one millisecond and past 4096 of them", () => {
    const ms = Date.now() + 20_000_000;
    const ids = Array.from({ length: 5000 }, () => uuidv7(ms));
    expect(ids.every((id) => V7.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    // a clock that steps back does not make an id sort before the previous one
    const after = uuidv7(ms - 1000);
    expect(after > ids.at(-1)!).toBe(true);
  });
});
