import { expect, test } from "bun:test";
import { WorkerPool } from "./pool.ts";

test("at most `limit` jobs run at once; the others run in order as slots free up", async () => {
  const pool = new WorkerPool(2);
  let active = 0;
  let peak = 0;
  const order: number[] = [];
  const gates = Array.from({ length: 5 }, () => Promise.withResolvers<void>());
  const jobs = gates.map((g, i) =>
    pool.run(async () => {
      active++;
      peak = Math.max(peak, active);
      order.push(i);
      await g.promise;
      active--;
      return i;
    }),
  );
  await Bun.sleep(0);
  expect(order).toEqual([0, 1]);
  expect(pool.queued).toBe(3);
  for (const g of gates) g.resolve();
  expect(await Promise.all(jobs)).toEqual([0, 1, 2, 3, 4]);
  expect(peak).toBe(2);
  expect(order).toEqual([0, 1, 2, 3, 4]);
  expect(pool.active).toBe(0);
});

test("a failing job frees its slot; an aborted waiter leaves the queue without running", async () => {
  const pool = new WorkerPool(1);
  const hold = Promise.withResolvers<void>();
  const first = pool.run(async () => {
    await hold.promise;
    throw new Error("boom");
  });
  const abort = new AbortController();
  let ran = false;
  const waiting = pool.run(async () => {
    ran = true;
  }, abort.signal);
  abort.abort(new Error("stop"));
  await expect(waiting).rejects.toThrow("stop");
  hold.resolve();
  await expect(first).rejects.toThrow("boom");
  expect(await pool.run(async () => "next")).toBe("next");
  expect(ran).toBe(false);
  expect(() => new WorkerPool(0)).toThrow();
});
