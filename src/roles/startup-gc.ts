// One full, synchronous garbage collection once the caches have synced: startup leaves tens of MiB of garbage (the
// store's rows, parsed JSON, module-graph scratch) that a lazy collector keeps resident for a long while; collecting
// it once, before serving, is what makes "RSS at ready" the working set. The one runtime-specific call of the roles,
// kept here so the runtime adapter can route it.
export function collectStartupGarbage(): void {
  Bun.gc(true);
}
