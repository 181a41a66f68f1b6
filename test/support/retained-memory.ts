// Memory a process still holds after a full GC, for "flat memory" tests that run on both runtimes. On Bun this is
// the resident set (its allocator hands freed pages back). On Deno, V8 keeps freed pages mapped, so RSS after a GC
// varies run to run by tens of MiB with nothing retained: there the live V8 heap plus external memory (ArrayBuffers,
// Buffers) is what says whether a body was kept.
import { runtime } from "../../src/runtime/index.ts";

export function retainedBytes(): number {
  runtime.gc();
  const m = process.memoryUsage();
  return runtime.name === "deno" ? m.heapUsed + m.external : m.rss;
}
