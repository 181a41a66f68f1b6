// A soft bound on resident memory, in the spirit of Go's GOMEMLIMIT. Under request load JavaScriptCore lets the
// heap and the native memory of dead Request/Response objects (its "extra memory") grow well past the live set
// before a full collection: with 1,000 modules × 20 versions, 83 MiB at ready became 125-150 MiB under wrk. The
// governor samples RSS every tick and, above the limit, asks for a collection that runs concurrently
// (runtime.gcSoon: Bun.gc(false)), at most once per `minIntervalMs`, and only while memory keeps growing: after a
// request, the next is made only once RSS has grown over the lowest it has been since by `growthBytes` or a
// fortieth of that low, whichever is more, so a working set that legitimately outgrew the limit costs a request or
// two, not ten a second, and a large one is not marked (work in proportion to its size) every 2 MiB: the work
// of collections per byte allocated stays the same whatever the working set. A synchronous full collection here
// was measured first and dropped: 25-35 ms each on that heap, it cost a third of the throughput. Below the limit
// the governor costs one RSS read per tick.
import { runtime } from "../runtime/index.ts";
import { UsageError, type FlagSpec } from "../cli/flags.ts";
import type { Logger } from "../log.ts";

export interface MemoryGovernorOptions {
  /** Resident bytes above which a full collection runs. */
  limitBytes: number;
  tickMs?: number;
  minIntervalMs?: number;
  /** Growth over the lowest RSS since the last request that makes the next one (default 2 MiB, or 1/40 of it if more). */
  growthBytes?: number;
  /** Test seams: resident bytes now, the collection request, a millisecond clock. */
  rss?: () => number;
  gc?: () => void;
  now?: () => number;
}

export interface MemoryGovernor {
  readonly limitBytes: number;
  /** One sample (the timer calls it every tick): whether it asked for a collection. */
  tick(): boolean;
  /** Collections asked for so far. */
  readonly collections: number;
  stop(): void;
}

export function startMemoryGovernor(o: MemoryGovernorOptions): MemoryGovernor {
  const rss = o.rss ?? (() => process.memoryUsage.rss());
  const gc = o.gc ?? (() => runtime.gcSoon());
  const now = o.now ?? (() => performance.now());
  const minInterval = o.minIntervalMs ?? 50;
  const growth = o.growthBytes ?? 2 * 1024 * 1024;
  let nextAllowed = -Infinity;
  let collections = 0;
  /** The lowest RSS since the last request (where the collection brought it); undefined before any request. */
  let floor: number | undefined;
  const governor: MemoryGovernor = {
    limitBytes: o.limitBytes,
    get collections() {
      return collections;
    },
    tick() {
      const resident = rss();
      if (resident <= o.limitBytes) {
        floor = undefined;
        return false;
      }
      if (floor !== undefined) floor = Math.min(floor, resident);
      const at = now();
      if (at < nextAllowed) return false;
      if (floor !== undefined && resident < floor + Math.max(growth, floor / GROWTH_FRACTION)) return false;
      gc();
      collections++;
      nextAllowed = at + minInterval;
      floor = resident;
      return true;
    },
    stop: () => clearInterval(timer),
  };
  const timer = setInterval(() => governor.tick(), o.tickMs ?? 25);
  (timer as { unref?: () => void }).unref?.();
  return governor;
}

const MIB = 1024 * 1024;
/** After a request, the next waits for growth of at least 1/40 of the lowest RSS since (2.5 %: 2 MiB at 83 MiB). */
const GROWTH_FRACTION = 40;
/** `auto`'s headroom over the working set at ready: an eighth of it, at least this much. */
export const AUTO_HEADROOM_MIN_BYTES = 8 * MIB;

/**
 * The limit `--memory-limit` asks for: "off"; a size (`120Mi`, `1Gi`, `128M`, or bytes); or "auto", the working set
 * at ready (RSS after the startup collection) plus an eighth of it, at least 8 MiB.
 */
export function memoryLimitFrom(flag: string | undefined, workingSetBytes: () => number): number | undefined {
  const value = (flag ?? "auto").trim();
  if (value === "off" || value === "") return undefined;
  if (value === "auto") {
    const base = workingSetBytes();
    return base + Math.max(AUTO_HEADROOM_MIN_BYTES, Math.round(base / 8));
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
  description: "Resident memory above which a garbage collection is asked for (at most every 50 ms, run concurrently): auto (the working set at ready + 12.5%, at least +8Mi), off, or a size (160Mi)",
  check: (value) => void memoryLimitFrom(value, () => 0),
};

/** How long after ready `auto` reads the working set: the allocator returns the startup collection's pages by then. */
const SETTLE_MS = 500;

/** Start the governor `--memory-limit` asks for, once the server is ready; stop() cancels it. */
export function governMemory(flag: string | undefined, log: Logger): { stop(): void } {
  let governor: MemoryGovernor | undefined;
  const start = () => {
    const limitBytes = memoryLimitFrom(flag, () => process.memoryUsage.rss());
    if (limitBytes === undefined) return;
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
