// The memory governor: above the limit, young collections while the process is busy (never more often than their
// interval), one full collection once it goes idle after them, nothing below the limit; counted on a hand-driven
// clock and CPU meter. Then the limits --memory-limit accepts.
import { expect, test } from "bun:test";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../test/support/ports.ts";
import { parseFlags, UsageError } from "../cli/flags.ts";
import { AUTO_HEADROOM_MIN_BYTES, memoryLimitFrom, startMemoryGovernor, type GovernorAction } from "./memory-governor.ts";
import { SERVE_FLAGS } from "./serve.ts";
import { STANDALONE_FLAGS } from "./standalone.ts";

const MIB = 1024 * 1024;

/** A governor at 100 MiB on a clock, an RSS and a CPU meter moved by hand; `step` advances them one tick. */
function rig(o: { youngEveryCpuMs?: number; idleFullAfterMs?: number; minFullIntervalMs?: number } = {}) {
  let clock = 0;
  let cpuMicros = 0;
  let rss = 50 * MIB;
  const young: number[] = [];
  const full: number[] = [];
  const governor = startMemoryGovernor({
    limitBytes: 100 * MIB,
    tickMs: 60_000, // driven by hand through tick()
    ...o,
    rss: () => rss,
    cpuMicros: () => cpuMicros,
    now: () => clock,
    gc: () => void young.push(clock),
    fullGc: () => void full.push(clock),
  });
  /** `ms` of wall time, of which the process was on CPU for `cpuFraction`, then one tick. */
  const step = (ms: number, cpuFraction: number): GovernorAction => {
    clock += ms;
    cpuMicros += Math.round(ms * 1000 * cpuFraction);
    return governor.tick();
  };
  return { governor, young, full, step, setRss: (mib: number) => (rss = mib * MIB) };
}

test("below the limit nothing is collected, busy or idle", () => {
  const r = rig();
  for (let i = 0; i < 50; i++) expect(r.step(25, i % 2 ? 1 : 0)).toBe("none");
  expect(r.young).toEqual([]);
  expect(r.full).toEqual([]);
  r.governor.stop();
});

test("busy above the limit: one young collection per 50 ms of CPU time, whatever the tick rate", () => {
  const r = rig();
  r.setRss(120);
  for (let i = 0; i < 80; i++) r.step(10, 1);
  expect(r.young.length).toBe(16);
  for (let i = 1; i < r.young.length; i++) expect(r.young[i]! - r.young[i - 1]!).toBe(50);
  // A quarter as busy: a quarter as many (the garbage between two is the same), one per 200 ms.
  const quarter = rig();
  quarter.setRss(120);
  for (let i = 0; i < 80; i++) quarter.step(10, 0.25);
  expect(quarter.young).toEqual([10, 210, 410, 610]);
  quarter.governor.stop();
  expect(r.full).toEqual([]);
  expect(r.governor.collections).toBe(16);
  // Back under the limit: no more, however busy.
  r.setRss(90);
  for (let i = 0; i < 100; i++) expect(r.step(10, 1)).toBe("none");
  expect(r.young.length).toBe(16);
  r.governor.stop();
});

test("idle after young collections: one full collection once idle for 200 ms, then none until busy again", () => {
  const r = rig();
  r.setRss(120);
  expect(r.step(25, 0.5)).toBe("young");
  // Idle (no CPU at all, then 4 %: under the 5 % that counts as busy) for 175 ms: not yet.
  for (let i = 0; i < 7; i++) expect(r.step(25, i < 4 ? 0 : 0.04)).toBe("none");
  expect(r.step(25, 0)).toBe("full");
  expect(r.full).toEqual([225]);
  // Still above the limit and idle for 10 s (a working set that outgrew it): no more collections of either kind.
  for (let i = 0; i < 400; i++) expect(r.step(25, 0)).toBe("none");
  expect(r.governor.fullCollections).toBe(1);
  // Busy again: young collections; idle again: one more full collection.
  expect(r.step(100, 0.6)).toBe("young");
  for (let i = 0; i < 8; i++) r.step(25, 0);
  expect(r.full.length).toBe(2);
  expect(r.young.length).toBe(2);
  r.governor.stop();
});

test("full collections are at least a second apart: a load that pauses every 250 ms pays one a second, each after a pause", () => {
  const r = rig();
  r.setRss(120);
  for (let period = 0; period < 40; period++) {
    r.step(25, 1); // 25 ms of load, then 225 ms idle
    for (let i = 0; i < 9; i++) r.step(25, 0);
  }
  // 10 s: the first full collection after the first 200 ms pause, then one per second at the first idle tick allowed.
  expect(r.full.length).toBe(10);
  for (let i = 1; i < r.full.length; i++) expect(r.full[i]! - r.full[i - 1]!).toBeGreaterThanOrEqual(1000);
  expect(r.young.length).toBe(20); // 25 ms of CPU per period: one young collection every other period
  r.governor.stop();
});

test("a pause shorter than 200 ms between bursts asks for no full collection; idle above the limit without young ones, none either", () => {
  const r = rig();
  r.setRss(120);
  for (let burst = 0; burst < 5; burst++) {
    for (let i = 0; i < 4; i++) r.step(25, 1);
    for (let i = 0; i < 7; i++) expect(r.step(25, 0)).toBe("none");
  }
  expect(r.full).toEqual([]);
  expect(r.young.length).toBe(10); // two per burst of 100 ms of CPU
  // A governor that never saw the process busy above the limit leaves an idle working set alone.
  const quiet = rig();
  quiet.setRss(300);
  for (let i = 0; i < 100; i++) expect(quiet.step(25, 0)).toBe("none");
  expect(quiet.full).toEqual([]);
  r.governor.stop();
  quiet.governor.stop();
});

test("the intervals are options", () => {
  const r = rig({ youngEveryCpuMs: 100, idleFullAfterMs: 50, minFullIntervalMs: 0 });
  r.setRss(120);
  for (let i = 0; i < 20; i++) r.step(10, 1);
  expect(r.young).toEqual([10, 110]);
  expect(r.step(25, 0)).toBe("none"); // idle for 25 ms (since the tick at 200)
  expect(r.step(25, 0)).toBe("full"); // 50 ms
  r.governor.stop();
});

test("the runtime's own collectors are asked: runtime.gcSoon while busy, runtime.gc once idle", () => {
  let cpu = 0;
  let clock = 0;
  const governor = startMemoryGovernor({ limitBytes: 0, tickMs: 60_000, cpuMicros: () => cpu, now: () => clock });
  clock += 25;
  cpu += 25_000;
  expect(governor.tick()).toBe("young");
  clock += 100;
  expect(governor.tick()).toBe("none"); // idle for 100 ms
  clock += 100;
  expect(governor.tick()).toBe("full"); // 200 ms
  expect(governor.collections).toBe(1);
  expect(governor.fullCollections).toBe(1);
  governor.stop();
});

test("--memory-limit: auto is the working set plus a thirty-second (at least 2 MiB), sizes in Kubernetes units, off", () => {
  expect(memoryLimitFrom("auto", () => 96 * MIB)).toBe(99 * MIB);
  expect(memoryLimitFrom(undefined, () => 40 * MIB)).toBe(40 * MIB + AUTO_HEADROOM_MIN_BYTES);
  expect(AUTO_HEADROOM_MIN_BYTES).toBe(2 * MIB);
  expect(memoryLimitFrom("off", () => 80 * MIB)).toBeUndefined();
  expect(memoryLimitFrom("160Mi", () => 0)).toBe(160 * MIB);
  expect(memoryLimitFrom("1Gi", () => 0)).toBe(1024 * MIB);
  expect(memoryLimitFrom("128M", () => 0)).toBe(128_000_000);
  expect(memoryLimitFrom("100000000", () => 0)).toBe(100_000_000);
  for (const bad of ["12x", "-5Mi", "Mi", "1.5.5Gi", "5 Mi"]) expect(() => memoryLimitFrom(bad, () => 0)).toThrow(UsageError);
  // Both serving roles take the flag, and refuse a bad value when the flags are parsed.
  for (const flags of [STANDALONE_FLAGS, SERVE_FLAGS]) {
    expect(parseFlags(flags, ["--memory-limit", "200Mi"])["memory-limit"]).toBe("200Mi");
    expect(parseFlags(flags, [])["memory-limit"]).toBe("auto");
    expect(() => parseFlags(flags, ["--memory-limit", "lots"])).toThrow();
  }
});

test("standalone starts the governor at the limit it is given, and logs it", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "opendepot-governor-"));
  const main = join(import.meta.dir, "..", "main.ts");
  const proc = Bun.spawn(["bun", main, "standalone", "--listen", `127.0.0.1:${freePort()}`, "--data-dir", dataDir, "--admin-listen", "off", "--controllers", "", "--memory-limit", "300Mi"], { stdout: "pipe", stderr: "inherit" });
  try {
    const lines: Record<string, unknown>[] = [];
    const decoder = new TextDecoder();
    let rest = "";
    for await (const chunk of proc.stdout) {
      const text = rest + decoder.decode(chunk);
      const parts = text.split("\n");
      rest = parts.pop()!;
      for (const line of parts) if (line.startsWith("{")) lines.push(JSON.parse(line));
      if (lines.some((l) => l.msg === "memory governor")) break;
    }
    expect(lines.find((l) => l.msg === "memory governor")).toMatchObject({ limitMiB: 300 });
  } finally {
    proc.kill();
    await proc.exited;
  }
}, 60_000);

test("what the governor relies on: runtime.gcSoon schedules a young (eden) collection and returns, runtime.gc runs a full one", async () => {
  // JavaScriptCore's own log of its collections (BUN_JSC_logGC) in a fresh process, so nothing else collects in between.
  const script = `import { runtime } from ${JSON.stringify(join(import.meta.dir, "..", "runtime", "index.ts"))};
    let garbage = []; for (let i = 0; i < 100000; i++) garbage.push({ i }); garbage = undefined;
    console.error("--- gcSoon"); runtime.gcSoon(); console.error("--- returned");
    await new Promise((r) => setTimeout(r, 300));
    console.error("--- gc"); runtime.gc(); console.error("--- done");`;
  const proc = Bun.spawn(["bun", "-e", script], { stdout: "ignore", stderr: "pipe", env: { ...process.env, BUN_JSC_logGC: "1" } });
  const [log, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
  expect(code).toBe(0);
  const between = (from: string, to: string) => log.slice(log.indexOf(from), log.indexOf(to));
  const kinds = (text: string) => [...text.matchAll(/=> (Eden|Full)Collection/g)].map((m) => m[1]);
  expect(kinds(between("--- gcSoon", "--- returned"))).toEqual([]); // nothing ran synchronously
  expect(kinds(between("--- returned", "--- gc\n"))).toEqual(["Eden"]);
  expect(kinds(between("--- gc\n", "--- done"))).toEqual(["Full"]);
});
