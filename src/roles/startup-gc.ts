// One full, synchronous garbage collection once the caches have synced: startup leaves tens of MiB of garbage (the
// store's rows, parsed JSON, module-graph scratch) that a lazy collector keeps resident for a long while; collecting
// it once, right after listening, is what makes "RSS at ready" the working set. The embedded store's SQLite page
// cache, filled by the caches' first lists, goes back first (2.4 MiB of RSS at ready with 1,000 modules × 20 versions).
import { runtime } from "../runtime/index.ts";

export function collectStartupGarbage(store?: { releaseMemory(): void }): void {
  store?.releaseMemory();
  runtime.gc();
}
