// The memory governor: a collection asked for only above the limit, never more often than its interval (counted on
// a hand-driven clock), and the limits --memory-limit accepts.
import { expect, test } from "bun:test";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../test/support/ports.ts";
import { parseFlags, UsageError } from "../cli/flags.ts";
import { AUTO_HEADROOM_MIN_BYTES, memoryLimitFrom, startMemoryGovernor } from "./memory-governor.ts";
import { SERVE_FLAGS } from "./serve.ts";
import { STANDALONE_FLAGS } from "./standalone.ts";

const MIB = 1024 * 1024;

function rig(o: { minIntervalMs?: number } = {}) {
  let clock = 0;
  let rss = 50 * MIB;
  const gcs: number[] = [];
  const governor = startMemoryGovernor({
    limitBytes: 100 * MIB,
    tickMs: 60_000, // driven by hand through tick()
    minIntervalMs: o.minIntervalMs,
    rss: () => rss,
    now: () => clock,
    gc: () => void gcs.push(clock),
  });
  return {
    governor,
    gcs,
    setRss: (mib: number) => (rss = mib * MIB),
    advance: (ms: number) => (clock += ms),
  };
}

test("below the limit nothing is collected; above it one collection, then none until the interval has passed", () => {
  const r = rig({ minIntervalMs: 250 });
  for (let i = 0; i < 10; i++, r.advance(100)) expect(r.governor.tick()).toBe(false);
  r.setRss(120);
  expect(r.governor.tick()).toBe(true);
  r.advance(100);
  r.setRss(130);
  expect(r.governor.tick()).toBe(false);
  r.advance(100);
  r.setRss(140);
  expect(r.governor.tick()).toBe(false);
  r.advance(100);
  expect(r.governor.tick()).toBe(true);
  expect(r.governor.collections).toBe(2);
  // Back under the limit: no more collections however much time passes.
  r.setRss(90);
  for (let i = 0; i < 10; i++, r.advance(1000)) expect(r.governor.tick()).toBe(false);
  expect(r.gcs).toEqual([1000, 1300]);
  r.governor.stop();
});

test("while memory keeps growing, one request per 50 ms whatever the tick rate; flat above the limit, no more", () => {
  const r = rig();
  let mib = 120;
  for (let i = 0; i < 80; i++, r.advance(10)) {
    r.setRss((mib += 1)); // +1 MiB per 10 ms tick: an allocation storm (5 MiB per interval, over 1/40 of up to 200)
    r.governor.tick();
  }
  expect(r.gcs.length).toBe(16);
  for (let i = 1; i < r.gcs.length; i++) expect(r.gcs[i]! - r.gcs[i - 1]!).toBe(50);
  // The last request was made at 196 MiB (t = 750 ms); a working set that then stays put at 200 MiB asks for no
  // more in 10 s of ticks: the next needs 196 + 196/40 = 200.9 MiB (more than 2 MiB over it).
  expect(r.gcs.at(-1)).toBe(750);
  for (let i = 0; i < 1000; i++, r.advance(10)) r.governor.tick();
  expect(r.gcs.length).toBe(16);
  expect(mib).toBe(200);
  r.setRss(200.8);
  expect(r.governor.tick()).toBe(false);
  r.setRss(201);
  expect(r.governor.tick()).toBe(true);
  r.governor.stop();
});

test("a large working set over the limit is collected again only after growth in proportion to it (1/40), not every 2 MiB", () => {
  const r = rig({ minIntervalMs: 0 });
  r.setRss(800);
  expect(r.governor.tick()).toBe(true);
  // 800 MiB / 40 = 20 MiB: 2, 10 and 19 MiB more ask for nothing; 20 does.
  for (const more of [2, 10, 19]) {
    r.advance(1000);
    r.setRss(800 + more);
    expect({ more, asked: r.governor.tick() }).toEqual({ more, asked: false });
  }
  r.advance(1000);
  r.setRss(820);
  expect(r.governor.tick()).toBe(true);
  expect(r.governor.collections).toBe(2);
  r.governor.stop();
});

test("the runtime's own collector is asked (runtime.gcSoon) above the limit, once per interval", () => {
  const governor = startMemoryGovernor({ limitBytes: 0, tickMs: 60_000, minIntervalMs: 60_000 });
  expect(governor.tick()).toBe(true);
  expect(governor.tick()).toBe(false);
  expect(governor.collections).toBe(1);
  governor.stop();
});

test("--memory-limit: auto is the working set plus an eighth (at least 8 MiB), sizes in Kubernetes units, off", () => {
  expect(memoryLimitFrom("auto", () => 80 * MIB)).toBe(90 * MIB);
  expect(memoryLimitFrom(undefined, () => 40 * MIB)).toBe(40 * MIB + AUTO_HEADROOM_MIN_BYTES);
  expect(AUTO_HEADROOM_MIN_BYTES).toBe(8 * MIB);
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
