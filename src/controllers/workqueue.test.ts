import { describe, expect, test } from "bun:test";
import { WorkQueue } from "./workqueue.ts";

describe("WorkQueue", () => {
  test("dedupes queued keys and hands them out in order", async () => {
    const q = new WorkQueue();
    q.add("a");
    q.add("b");
    q.add("a");
    expect(q.length).toBe(2);
    expect(await q.get()).toBe("a");
    expect(await q.get()).toBe("b");
  });

  test("a key re-added while in flight is processed again after done(), never concurrently", async () => {
    const q = new WorkQueue();
    q.add("a");
    const k = await q.get();
    q.add("a");
    expect(q.length).toBe(0);
    q.done(k!);
    expect(q.length).toBe(1);
    expect(await q.get()).toBe("a");
  });

  test("waiting getters receive keys as they are added", async () => {
    const q = new WorkQueue();
    const pending = q.get();
    q.add("x");
    expect(await pending).toBe("x");
  });

  test("delayed adds fire later; the earliest pending delay wins", async () => {
    const q = new WorkQueue();
    q.addAfter("a", 40);
    q.addAfter("a", 1000);
    expect(q.length).toBe(0);
    await Bun.sleep(80);
    expect(q.length).toBe(1);
  });

  test("rate-limited requeues back off exponentially up to the cap and reset on forget", () => {
    const q = new WorkQueue({ baseMs: 100, maxMs: 350 });
    const delays = [q.addRateLimited("k"), q.addRateLimited("k"), q.addRateLimited("k"), q.addRateLimited("k")];
    expect(delays[0]).toBeGreaterThanOrEqual(90);
    expect(delays[0]).toBeLessThanOrEqual(110);
    expect(delays[1]).toBeGreaterThanOrEqual(180);
    expect(delays[3]).toBeLessThanOrEqual(385);
    expect(q.failureCount("k")).toBe(4);
    q.forget("k");
    expect(q.failureCount("k")).toBe(0);
    q.shutDown();
  });

  test("shutDown releases waiting getters and refuses new work", async () => {
    const q = new WorkQueue();
    const pending = q.get();
    q.shutDown();
    expect(await pending).toBeUndefined();
    q.add("a");
    expect(await q.get()).toBeUndefined();
  });
});
