// A soft bound on resident memory, in the spirit of Go's GOMEMLIMIT. Under request load JavaScriptCore lets its
// young generation run to megabytes of dead Request/Response objects (their native memory is freed only when they
// are swept) between its own eden collections, whose budget grows with the heap; with 1,000 modules × 20 versions,
// 80 MiB at ready became 116-122 MiB under wrk with no governor. Above the limit, while the process is busy (5 % CPU
// or more since the last tick), the governor asks for a young collection each time the process has used 50 ms of
// CPU (runtime.gcSoon: on Bun 1.4.5 Bun.gc(false) schedules an *eden* collection, measured with BUN_JSC_logGC=1; it
// runs concurrently and costs in proportion to what survived, not to the working set). Paced by CPU time, their cost
// per request is the same at any request rate (about 0.05 µs of collection cycle per request at saturation), and the
// nursery keeps reusing the same few blocks: peaks of 91-103 MiB. When the process then goes idle above the limit, one
// full synchronous collection (runtime.gc, at most one a second) gives back what was promoted: at idle its pause
// (10-35 ms at this size) delays nobody, while frequent young collections would keep putting off the engine's own.
// An idle process that never got busy above the limit (a working set that outgrew it) is left alone. Below the
// limit the governor costs an RSS and a CPU-time read per tick.
import { runtime } from "../runtime/index.ts";
import { UsageError, type FlagSpec } from "../cli/flags.ts";
import type { Logger } from "../log.ts";

export interface MemoryGovernorOptions {
  /** Resident bytes above which collections are asked for. */
  limitBytes: number;
  tickMs?: number;
  /** Above the limit, a young collection each time the process has used this much CPU time since the last (default 50 ms). */
  youngEveryCpuMs?: number;
  /** Busy: CPU time over wall time since the last tick at least this (default 0.05). */
  busyCpuFraction?: number;
  /** Idle above the limit this long after young collections: one full collection (default 200 ms). */
  idleFullAfterMs?: number;
  /** Full collections at least this far apart (default 1 s): a load that pauses every 200 ms pays one a second. */
  minFullIntervalMs?: number;
  /** Test seams: resident bytes now, process CPU microseconds so far, the two collections, a millisecond clock. */
  rss?: () => number;
  cpuMicros?: () => number;
  gc?: () => void;
  fullGc?: () => void;
  now?: () => number;
}

export type GovernorAction = "none" | "young" | "full";

export interface MemoryGovernor {
  readonly limitBytes: number;
  /** One sample (the timer calls it every tick): what it asked for. */
  tick(): GovernorAction;
  /** Young collections asked for so far. */
  readonly collections: number;
  /** Full collections run so far. */
  readonly fullCollections: number;
  stop(): void;
}

const processCpuMicros = () => {
  const used = process.cpuUsage();
  return used.user + used.system;
};

export function startMemoryGovernor(o: MemoryGovernorOptions): MemoryGovernor {
  const rss = o.rss ?? (() => process.memoryUsage.rss());
  const cpuMicros = o.cpuMicros ?? processCpuMicros;
  const gc = o.gc ?? (() => runtime.gcSoon());
  const fullGc = o.fullGc ?? (() => runtime.gc());
  const now = o.now ?? (() => performance.now());
  const youngEvery = (o.youngEveryCpuMs ?? 50) * 1000;
  const busyFraction = o.busyCpuFraction ?? 0.05;
  const idleFullAfter = o.idleFullAfterMs ?? 200;
  const minFullInterval = o.minFullIntervalMs ?? 1000;
  let nextFull = -Infinity;
  let lastAt = now();
  let lastCpu = cpuMicros();
  /** Process CPU time (µs) when the last young collection was asked for. */
  let cpuAtYoung = -Infinity;
  /** Since when the process has been idle above the limit; undefined while busy or below it. */
  let idleSince: number | undefined;
  /** Young collections were asked for since the last full one: garbage may have been promoted. */
  let youngSinceFull = false;
  let collections = 0;
  let fullCollections = 0;
  const governor: MemoryGovernor = {
    limitBytes: o.limitBytes,
    get collections() {
      return collections;
    },
    get fullCollections() {
      return fullCollections;
    },
    tick() {
      const at = now();
      const cpu = cpuMicros();
      const busy = cpu - lastCpu >= busyFraction * (at - lastAt) * 1000;
      const since = lastAt;
      lastAt = at;
      lastCpu = cpu;
      if (rss() <= o.limitBytes) {
        idleSince = undefined;
        return "none";
      }
      if (busy) {
        idleSince = undefined;
        if (cpu - cpuAtYoung < youngEvery) return "none";
        gc();
        collections++;
        youngSinceFull = true;
        cpuAtYoung = cpu;
        return "young";
      }
      idleSince ??= since; // idle since the previous tick: no CPU was used in between
      if (!youngSinceFull || at - idleSince < idleFullAfter || at < nextFull) return "none";
      fullGc();
      fullCollections++;
      youngSinceFull = false;
      // The full collection's own CPU time is not the process getting busy again.
      lastAt = now();
      lastCpu = cpuMicros();
      nextFull = lastAt + minFullInterval;
      return "full";
    },
    stop: () => clearInterval(timer),
  };
  const timer = setInterval(() => governor.tick(), o.tickMs ?? 25);
  (timer as { unref?: () => void }).unref?.();
  return governor;
}

const MIB = 1024 * 1024;
/**
 * `auto`'s headroom over the working set at ready: a thirty-second of it, at least this much. Small on purpose: the
 * young collections cost in proportion to the work done (one per 50 ms of CPU), not to how far over the limit memory
 * is, and every MiB the nursery grows before they start stays resident (limit +1 MiB: peak 95 MiB; +4: 99; +6: 103;
 * +10: 110, with 1,000 modules × 20 versions under wrk).
 */
export const AUTO_HEADROOM_MIN_BYTES = 2 * MIB;
const AUTO_HEADROOM_FRACTION = 32;

/**
 * The limit `--memory-limit` asks for: "off"; a size (`120Mi`, `1Gi`, `128M`, or bytes); or "auto", the working set
 * at ready (RSS after the startup collection) plus a thirty-second of it, at least 2 MiB.
 */
export function memoryLimitFrom(flag: string | undefined, workingSetBytes: () => number): number | undefined {
  const value = (flag ?? "auto").trim();
  if (value === "off" || value === "") return undefined;
  if (value === "auto") {
    const base = workingSetBytes();
    return base + Math.max(AUTO_HEADROOM_MIN_BYTES, Math.round(base / AUTO_HEADROOM_FRACTION));
  }
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|K|M|G)?$/.exec(value);
  if (!m) throw new UsageError(`--memory-limit must be "auto", "off" or a size such as 160Mi, got "${value.slice(0, 32)}"`);
  const unit = { Ki: 1024, Mi: MIB, Gi: 1024 * MIB, K: 1e3, M: 1e6, G: 1e9 }[m[2] ?? ""] ?? 1;
  return Math.round(Number(m[1]) * unit);
}

export const MEMORY_LIMIT_FLAG: FlagSpec = {
  name: "memory-limit",
  env: "OPENDEPOT_MEMORY_LIMIT",
  default: "auto",
  description: "Resident memory above which garbage collections are asked for (a young one per 50 ms of CPU time while busy, a full one once idle): auto (the working set at ready + 1/32, at least +2Mi), off, or a size (160Mi)",
  check: (value) => void memoryLimitFrom(value, () => 0),
};

/** How long after ready `auto` reads the working set: the allocator returns the startup collection's pages by then. */
const SETTLE_MS = 500;

/** Start the governor `--memory-limit` asks for, once the server is ready; stop() cancels it. */
export function governMemory(flag: string | undefined, log: Logger): { stop(): void } {
  let governor: MemoryGovernor | undefined;
  const start = () => {
    const limitBytes = memoryLimitFrom(flag, () => process.memoryUsage.rss());
    // Young collections on demand are JavaScriptCore's (runtime.gcSoon is a no-op on Deno, where V8's own limits
    // apply): elsewhere the governor would only run full collections, which is not what it is for.
    if (limitBytes === undefined || runtime.name !== "bun") return;
    governor = startMemoryGovernor({ limitBytes });
    log.info("memory governor", { limitMiB: Math.round(limitBytes / MIB) });
  };
  const timer = setTimeout(start, (flag ?? "auto").trim() === "auto" ? SETTLE_MS : 0);
  (timer as { unref?: () => void }).unref?.();
  return {
    stop() {
      clearTimeout(timer);
      governor?.stop();
    },
  };
}
