// One full, synchronous garbage collection once the caches have synced: startup leaves tens of MiB of garbage (the
// store's rows, parsed JSON, module-graph scratch) that a lazy collector keeps resident for a long while; collecting
// it once, right after listening, is what makes "RSS at ready" the working set.
import { runtime } from "../runtime/index.ts";

export function collectStartupGarbage(): void {
  runtime.gc();
}
