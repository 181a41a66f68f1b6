// Download counters against a real valkey-server: v0.9's key layout, several writers without lost updates, an
// outage in the middle of a run (recording never fails; the buffer is kept, bounded, and flushed on reconnect).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createLogger } from "../log.ts";
import { startValkey, type ValkeyPeer } from "../../test/peers/valkey.ts";
import { waitFor } from "../../test/support/ports.ts";
import type { BufferedStats } from "./buffered.ts";
import { dayOf, type DownloadEvent } from "./types.ts";
import { dayExpiresAt } from "./valkey-keys.ts";
import { parseValkeyUrl, valkeyStats } from "./valkey.ts";

let valkey: ValkeyPeer;
beforeAll(async () => {
  valkey = await startValkey();
});
afterAll(async () => {
  await valkey?.stop();
});

const collect = () => {
  const lines: Record<string, unknown>[] = [];
  return { lines, log: createLogger({ write: (l) => lines.push(JSON.parse(l)) }) };
};
const event = (name: string, version: string, at = Date.now(), ns = "team"): DownloadEvent => ({ namespace: ns, kind: "module", name, version, at });
const target = (name: string, versions: string[], ns = "team") => ({ namespace: ns, kind: "module" as const, name, versions: versions.map((version) => ({ version })) });

async function connected(stats: BufferedStats, url = valkey.url) {
  await waitFor(() => (stats as unknown as { backend: { ready: boolean } }).backend.ready, 15_000, `valkey at ${url}`);
  await stats.refresh();
}

describe("Valkey counters", () => {
  test("writes v0.9's keys and reads the counts and the per-day series back", async () => {
    await valkey.cli("FLUSHALL");
    const { log } = collect();
    const stats = valkeyStats({ url: valkey.url, log, refreshIntervalMs: 0 });
    stats.setTargets(() => [target("vpc", ["1.0.0", "1.1.0"])]);
    await connected(stats);
    const yesterday = Date.now() - 86_400_000;
    for (let i = 0; i < 3; i++) stats.record(event("vpc", "1.0.0"));
    stats.record(event("vpc", "1.1.0", yesterday));
    await stats.flush();

    expect(await valkey.cli("HGET", "stats:version:team:module:vpc:1.0.0", "count")).toBe("3");
    expect(await valkey.cli("HGET", "stats:resource:team:module:vpc", "count")).toBe("4");
    expect(await valkey.cli("HGET", "stats:resource:team:module:vpc", "lastAt")).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(await valkey.cli("GET", "stats:total")).toBe("4");
    expect(await valkey.cli("GET", "stats:ns:team")).toBe("4");
    expect(await valkey.cli("ZSCORE", "stats:leaderboard:global", "team/module/vpc/1.0.0")).toBe("3");
    expect(await valkey.cli("ZSCORE", "stats:leaderboard:team", "team/module/vpc/1.1.0")).toBe("1");
    const today = dayOf(Date.now());
    expect(await valkey.cli("GET", `stats:day:${today}:team:module:vpc:1.0.0`)).toBe("3");
    expect(Number(await valkey.cli("EXPIRETIME", `stats:day:${today}:team:module:vpc:1.0.0`))).toBe(dayExpiresAt(today));
    expect(await valkey.cli("HGET", `stats:day:${today}`, "team/module/vpc")).toBe("3");

    // A fresh reader (another replica) sees the same counts.
    const reader = valkeyStats({ url: valkey.url, log, refreshIntervalMs: 0 });
    reader.setTargets(() => [target("vpc", ["1.0.0", "1.1.0"])]);
    await connected(reader);
    const snap = reader.snapshot();
    expect(snap.resource("team", "module", "vpc")?.count).toBe(4);
    expect(snap.version("team", "module", "vpc", "1.0.0")?.count).toBe(3);
    expect(snap.daily("team", "module", "vpc")?.get(today)).toBe(3);
    expect(snap.daily("team", "module", "vpc")?.get(dayOf(yesterday))).toBe(1);
    await reader.close();
    await stats.close();
  });

  test("counts a v0.9 key recorded under a `v`-prefixed version together with ours", async () => {
    await valkey.cli("FLUSHALL");
    await valkey.cli("HSET", "stats:version:team:module:net:v2.0.0", "count", "5", "lastAt", "2026-01-01T00:00:00Z");
    const stats = valkeyStats({ url: valkey.url, log: collect().log, refreshIntervalMs: 0 });
    stats.setTargets(() => [{ namespace: "team", kind: "module", name: "net", versions: [{ version: "2.0.0", legacy: "v2.0.0" }] }]);
    await connected(stats);
    stats.record(event("net", "2.0.0"));
    await stats.flush();
    await stats.refresh();
    expect(stats.snapshot().version("team", "module", "net", "2.0.0")?.count).toBe(6);
    await stats.close();
  });

  test("lastAt never moves back when a replica flushes an older batch later", async () => {
    await valkey.cli("FLUSHALL");
    const a = valkeyStats({ url: valkey.url, log: collect().log, refreshIntervalMs: 0, flushIntervalMs: 60_000 });
    await connected(a);
    const now = Date.now();
    a.record(event("vpc", "1.0.0", now));
    await a.flush();
    a.record(event("vpc", "1.0.0", now - 60_000));
    await a.flush();
    expect(await valkey.cli("HGET", "stats:version:team:module:vpc:1.0.0", "lastAt")).toBe(new Date(now).toISOString());
    expect(await valkey.cli("HGET", "stats:resource:team:module:vpc", "lastAt")).toBe(new Date(now).toISOString());
    expect(await valkey.cli("HGET", "stats:resource:team:module:vpc", "count")).toBe("2");
    await a.close();
  });

  test("two writers sharing one Valkey lose no update", async () => {
    await valkey.cli("FLUSHALL");
    const a = valkeyStats({ url: valkey.url, log: collect().log, refreshIntervalMs: 0, flushIntervalMs: 5 });
    const b = valkeyStats({ url: valkey.url, log: collect().log, refreshIntervalMs: 0, flushIntervalMs: 7 });
    for (const s of [a, b]) s.setTargets(() => [target("vpc", ["1.0.0"])]);
    await connected(a);
    await connected(b);
    for (let i = 0; i < 400; i++) {
      a.record(event("vpc", "1.0.0"));
      b.record(event("vpc", "1.0.0"));
      if (i % 50 === 0) await Bun.sleep(3);
    }
    await Promise.all([a.flush(), b.flush()]);
    expect(await valkey.cli("HGET", "stats:version:team:module:vpc:1.0.0", "count")).toBe("800");
    expect(await valkey.cli("GET", "stats:total")).toBe("800");
    await a.close();
    await b.close();
  });

  test("an outage mid-run: recording never fails, the bounded buffer is kept and flushed after reconnecting, logged once", async () => {
    await valkey.cli("FLUSHALL");
    const { lines, log } = collect();
    const stats = valkeyStats({ url: valkey.url, log, refreshIntervalMs: 0, flushIntervalMs: 20, maxBufferedEvents: 50 });
    stats.setTargets(() => [target("vpc", ["1.0.0"])]);
    await connected(stats);
    for (let i = 0; i < 10; i++) stats.record(event("vpc", "1.0.0"));
    await stats.flush();
    expect(await valkey.cli("HGET", "stats:version:team:module:vpc:1.0.0", "count")).toBe("10");

    await valkey.kill();
    for (let i = 0; i < 80; i++) {
      stats.record(event("vpc", "1.0.0"));
      if (i % 10 === 0) await Bun.sleep(25); // several flush attempts fail meanwhile
    }
    await stats.flush();
    expect(stats.buffered).toBe(50);
    expect(stats.lost).toBe(30);
    const outageLogs = lines.filter((l) => String(l.msg).includes("unreachable"));
    expect(outageLogs).toHaveLength(1);

    await valkey.restart(); // empty: the outage also lost the server's data, as a real crash without persistence would
    await waitFor(async () => {
      await stats.flush();
      return (await valkey.cli("HGET", "stats:version:team:module:vpc:1.0.0", "count")) === "50";
    }, 20_000, "buffered downloads written after the restart");
    expect(lines.filter((l) => String(l.msg).includes("reachable again"))).toHaveLength(1);
    expect(lines.find((l) => String(l.msg).includes("reachable again"))?.lostDownloads).toBe(30);
    // Counting resumes.
    stats.record(event("vpc", "1.0.0"));
    await stats.flush();
    expect(await valkey.cli("HGET", "stats:version:team:module:vpc:1.0.0", "count")).toBe("51");
    await stats.close();
  }, 60_000);

  test("a password from OPENDEPOT_VALKEY_PASSWORD", async () => {
    const secured = await startValkey({ password: "s3cret-pw" });
    try {
      const stats = valkeyStats({ url: secured.url, password: "s3cret-pw", log: collect().log, refreshIntervalMs: 0 });
      stats.setTargets(() => [target("vpc", ["1.0.0"])]);
      await waitFor(async () => (stats as unknown as { backend: { ready: boolean } }).backend.ready, 15_000, "authenticated connection");
      stats.record(event("vpc", "1.0.0"));
      await stats.flush();
      expect(await secured.cli("HGET", "stats:version:team:module:vpc:1.0.0", "count")).toBe("1");
      await stats.close();

      const { lines, log } = collect();
      const wrong = valkeyStats({ url: secured.url, password: "wrong", log, refreshIntervalMs: 0 });
      wrong.record(event("vpc", "1.0.0"));
      await Bun.sleep(300);
      await wrong.flush();
      expect(wrong.buffered).toBe(1);
      expect(lines.filter((l) => String(l.msg).includes("unreachable"))).toHaveLength(1);
      await wrong.close();
    } finally {
      await secured.stop();
    }
  }, 30_000);

  test("TLS: rediss:// with a private CA; without trusting it, nothing is written", async () => {
    const secure = await startValkey({ tls: true });
    try {
      const stats = valkeyStats({ url: secure.url, ca: secure.ca, log: collect().log, refreshIntervalMs: 0 });
      await waitFor(() => (stats as unknown as { backend: { ready: boolean } }).backend.ready, 15_000, "TLS connection");
      stats.record(event("vpc", "1.0.0"));
      await stats.flush();
      expect(await secure.cli("HGET", "stats:version:team:module:vpc:1.0.0", "count")).toBe("1");
      await stats.close();

      const untrusting = valkeyStats({ url: secure.url, log: collect().log, refreshIntervalMs: 0 });
      untrusting.record(event("vpc", "1.0.0"));
      await Bun.sleep(300);
      await untrusting.flush();
      expect(untrusting.buffered).toBe(1);
      expect(await secure.cli("HGET", "stats:version:team:module:vpc:1.0.0", "count")).toBe("1");
      await untrusting.close();
    } finally {
      await secure.stop();
    }
  }, 30_000);

  test("URLs: redis://, rediss://, v0.9's bare host:port; anything else is refused with a reason", () => {
    expect(parseValkeyUrl("valkey:6379").toString()).toBe("redis://valkey:6379");
    expect(parseValkeyUrl("rediss://:pw@cache.internal:6380/2").protocol).toBe("rediss:");
    expect(() => parseValkeyUrl("http://cache:6379")).toThrow(/scheme must be redis/);
    expect(() => parseValkeyUrl("redis://cache:6379/keys")).toThrow(/database number/);
  });
});
