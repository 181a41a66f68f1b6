// A credential that expires (AWS session keys, OAuth tokens) cached until shortly before expiry. Concurrent callers
// share one refresh; if a refresh fails while the old value is still valid, the old value is used until it is not.

export interface Expiring {
  /** undefined = never expires (static keys). */
  expiresAt?: Date;
}

export class RefreshingCache<T extends Expiring> {
  private value: T | undefined;
  private inflight: Promise<T> | undefined;

  constructor(
    private readonly fetcher: () => Promise<T>,
    /** Refresh this long before expiry (5 min by default, as the AWS and Google SDKs do). */
    private readonly refreshBeforeMs = 5 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  async get(): Promise<T> {
    const v = this.value;
    if (v && (!v.expiresAt || v.expiresAt.getTime() - this.refreshBeforeMs > this.now())) return v;
    this.inflight ??= this.fetcher().finally(() => {
      this.inflight = undefined;
    });
    try {
      this.value = await this.inflight;
      return this.value;
    } catch (e) {
      if (v?.expiresAt && v.expiresAt.getTime() > this.now() + 10_000) return v;
      throw e;
    }
  }

  /** Forget the cached value (e.g. after the server rejected it). */
  invalidate(): void {
    this.value = undefined;
  }
}
