// The framing pieces on their own: a source that ends early (closing normally, as an EOF-delimited or mis-framed
// upstream would) or runs long is an error, never a short or long success; the budget bounds what is buffered.
import { expect, test } from "bun:test";
import { BufferBudget, exactLength, readExactly, ShortBodyError } from "./framed-download.ts";

const source = (...chunks: number[]) =>
  new ReadableStream<Uint8Array>({
    start(c) {
      for (const n of chunks) c.enqueue(new Uint8Array(n).fill(n & 0xff));
      c.close();
    },
  });

async function drain(body: ReadableStream<Uint8Array>): Promise<number> {
  let n = 0;
  for await (const chunk of body) n += chunk.byteLength;
  return n;
}

test("exactLength passes a body of exactly the announced length through unchanged", async () => {
  expect(await drain(exactLength(source(3, 5, 7), 15))).toBe(15);
  expect(await drain(exactLength(source(), 0))).toBe(0);
});

test("exactLength errors (and says why, once) when the source closes early or runs long", async () => {
  const why: unknown[] = [];
  await expect(drain(exactLength(source(3, 5), 15, (e) => why.push(e)))).rejects.toBeInstanceOf(ShortBodyError);
  await expect(drain(exactLength(source(10, 10), 15, (e) => why.push(e)))).rejects.toThrow("more than the 15 bytes");
  expect(why.map((e) => (e as ShortBodyError).received)).toEqual([8, 20]);
});

test("exactLength passes a failing source's error on", async () => {
  let sent = false;
  const failing = new ReadableStream<Uint8Array>({
    pull(c) {
      if (sent) return c.error(new Error("connection reset"));
      sent = true;
      c.enqueue(new Uint8Array(4));
    },
  });
  await expect(drain(exactLength(failing, 100))).rejects.toThrow("connection reset");
});

test("readExactly returns exactly the bytes, and rejects short or long sources (cancelling them)", async () => {
  const got = await readExactly(source(2, 3), 5);
  expect([...got]).toEqual([2, 2, 3, 3, 3]);
  await expect(readExactly(source(2, 3), 6)).rejects.toThrow("after 5 of 6 bytes");
  let cancelled = false;
  const long = new ReadableStream<Uint8Array>({
    pull(c) {
      c.enqueue(new Uint8Array(4));
    },
    cancel() {
      cancelled = true;
    },
  });
  await expect(readExactly(long, 10)).rejects.toBeInstanceOf(ShortBodyError);
  expect(cancelled).toBe(true);
});

test("the budget refuses bodies over the per-body cap and reservations past the total", () => {
  const budget = new BufferBudget(10, 25);
  expect(budget.take(11)).toBe(false);
  expect(budget.take(10)).toBe(true);
  expect(budget.take(10)).toBe(true);
  expect(budget.take(10)).toBe(false);
  expect(budget.take(5)).toBe(true);
  expect(budget.inUse).toBe(25);
  budget.release(10);
  expect(budget.take(10)).toBe(true);
});

test("a held reservation comes back once its owner is collected", async () => {
  const budget = new BufferBudget(100, 100);
  (() => {
    expect(budget.take(100)).toBe(true);
    budget.hold({ bytes: new Uint8Array(100) }, 100);
  })();
  for (let i = 0; i < 50 && budget.inUse > 0; i++) {
    Bun.gc(true);
    await Bun.sleep(10);
  }
  expect(budget.inUse).toBe(0);
});
