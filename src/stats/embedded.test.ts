// The embedded counter file: counts and the per-day series survive a restart; old days are pruned; the buffer
// writes in batches (nothing is written until a flush).
import { afterEach, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "../log.ts";
import { embeddedStats } from "./embedded.ts";
import { dayOf, lastDays } from "./types.ts";

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});
const tempDir = async () => {
  const d = await mkdtemp(join(tmpdir(), "opendepot-stats-"));
  dirs.push(d);
  return d;
};

test("counts and per-day series survive a restart", async () => {
  const path = join(await tempDir(), "stats.db");
  const first = await embeddedStats(path, { log: silentLogger, flushIntervalMs: 60_000 });
  const now = Date.now();
  for (let i = 0; i < 5; i++) first.record({ namespace: "team", kind: "provider", name: "widget", version: "2.0.0", at: now });
  first.record({ namespace: "team", kind: "provider", name: "widget", version: "1.0.0", at: now - 3 * 86_400_000 });
  // Buffered, not yet written: a second reader of the file sees nothing.
  expect((new Database(path).prepare("SELECT count(*) AS n FROM version_downloads").get() as { n: number }).n).toBe(0);
  await first.flush();
  // This process sees its own counts at once.
  expect(first.snapshot().resource("team", "provider", "widget")?.count).toBe(6);
  await first.close();

  const second = await embeddedStats(path, { log: silentLogger });
  const snap = second.snapshot();
  expect(snap.resource("team", "provider", "widget")?.count).toBe(6);
  expect(snap.version("team", "provider", "widget", "2.0.0")?.count).toBe(5);
  expect(snap.version("team", "provider", "widget", "2.0.0")?.lastAt).toBe(new Date(now).toISOString());
  expect(snap.daily("team", "provider", "widget")?.get(dayOf(now))).toBe(5);
  expect(snap.daily("team", "provider", "widget")?.get(dayOf(now - 3 * 86_400_000))).toBe(1);
  second.record({ namespace: "team", kind: "provider", name: "widget", version: "2.0.0", at: now });
  await second.close(); // close flushes
  const third = await embeddedStats(path, { log: silentLogger });
  expect(third.snapshot().version("team", "provider", "widget", "2.0.0")?.count).toBe(6);
  await third.close();
});

test("per-day rows older than 90 days are pruned; totals stay", async () => {
  const path = join(await tempDir(), "stats.db");
  const s = await embeddedStats(path, { log: silentLogger });
  const old = Date.now() - 120 * 86_400_000;
  s.record({ namespace: "team", kind: "module", name: "vpc", version: "1.0.0", at: old });
  await s.close();
  const again = await embeddedStats(path, { log: silentLogger });
  expect(again.snapshot().resource("team", "module", "vpc")?.count).toBe(1);
  expect(again.snapshot().daily("team", "module", "vpc")?.get(dayOf(old))).toBeUndefined();
  await again.close();
});

test("lastDays gives calendar days ending today, oldest first", () => {
  const days = lastDays(30, Date.parse("2026-03-01T12:00:00Z"));
  expect(days).toHaveLength(30);
  expect(days.at(-1)).toBe("2026-03-01");
  expect(days[0]).toBe("2026-01-31");
});
