// Verified provider downloads kept in the work dir until they are stored: when the upload fails (storage down, a
// full disk), the retry uploads the file it already has instead of downloading the whole artifact from upstream
// again. Bounded in entries, bytes and age; the file is touched when kept so the stale-temp sweep leaves it alone.
import { stat, utimes } from "node:fs/promises";
import type { ProviderPackage } from "./fetch-provider.ts";

export interface KeptDownloadsOptions {
  maxEntries?: number;
  maxBytes?: number;
  /** Older entries are dropped (default 30 min, under the 1 h after which the sweep treats them as leftovers). */
  maxAgeMs?: number;
  now?: () => number;
}

export class KeptDownloads {
  private readonly entries = new Map<string, { pkg: ProviderPackage; at: number }>();
  private readonly maxEntries: number;
  private readonly maxBytes: number;
  private readonly maxAgeMs: number;
  private readonly now: () => number;

  constructor(o: KeptDownloadsOptions = {}) {
    this.maxEntries = o.maxEntries ?? 8;
    this.maxBytes = o.maxBytes ?? 4 * 1024 ** 3;
    this.maxAgeMs = o.maxAgeMs ?? 30 * 60_000;
    this.now = o.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The kept download for `key`, if it is still there and whole; it leaves the table (the caller owns it now). */
  async take(key: string): Promise<ProviderPackage | undefined> {
    await this.expire();
    const e = this.entries.get(key);
    if (!e) return undefined;
    this.entries.delete(key);
    const st = await stat(e.pkg.path).catch(() => undefined);
    if (st?.size === e.pkg.size) return e.pkg;
    await e.pkg.cleanup();
    return undefined;
  }

  /** Keep a verified download after a failed upload; too large or too many → the oldest go first. */
  async keep(key: string, pkg: ProviderPackage): Promise<void> {
    const previous = this.entries.get(key);
    if (previous && previous.pkg.path !== pkg.path) await previous.pkg.cleanup();
    this.entries.delete(key);
    if (pkg.size > this.maxBytes) return pkg.cleanup();
    const t = this.now();
    await utimes(pkg.path, new Date(t), new Date(t)).catch(() => {});
    this.entries.set(key, { pkg, at: t });
    let bytes = [...this.entries.values()].reduce((n, e) => n + e.pkg.size, 0);
    for (const [k, e] of this.entries) {
      if (this.entries.size <= this.maxEntries && bytes <= this.maxBytes) break;
      this.entries.delete(k);
      bytes -= e.pkg.size;
      await e.pkg.cleanup();
    }
  }

  private async expire(): Promise<void> {
    const t = this.now();
    for (const [k, e] of this.entries) {
      if (t - e.at <= this.maxAgeMs) continue;
      this.entries.delete(k);
      await e.pkg.cleanup();
    }
  }
}
