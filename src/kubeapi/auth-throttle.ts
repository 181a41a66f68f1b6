// Failed authentications are rate-limited per client address: a client that keeps sending unknown tokens gets 429
// with Retry-After instead of costing a lookup (and a log line) per request. Successful requests are never slowed.
// Memory is bounded: at most `maxClients` addresses are tracked; when full the oldest are forgotten.

export interface ThrottleOptions {
  /** Failures allowed in a burst. */
  burst?: number;
  /** Failures forgiven per second. */
  perSecond?: number;
  maxClients?: number;
  now?: () => number;
}

export class AuthFailureThrottle {
  private readonly clients = new Map<string, { level: number; at: number }>();
  private readonly burst: number;
  private readonly perSecond: number;
  private readonly maxClients: number;
  private readonly now: () => number;

  constructor(o: ThrottleOptions = {}) {
    this.burst = o.burst ?? 20;
    this.perSecond = o.perSecond ?? 2;
    this.maxClients = o.maxClients ?? 10_000;
    this.now = o.now ?? Date.now;
  }

  /** Seconds the client must wait before its next attempt is looked at; 0 = go ahead. */
  retryAfter(client: string): number {
    const c = this.current(client);
    return c && c.level >= this.burst ? Math.max(1, Math.ceil((c.level - this.burst + 1) / this.perSecond)) : 0;
  }

  failed(client: string): void {
    const c = this.current(client) ?? { level: 0, at: this.now() };
    c.level += 1;
    this.clients.delete(client);
    if (this.clients.size >= this.maxClients) this.clients.delete(this.clients.keys().next().value!);
    this.clients.set(client, c);
  }

  private current(client: string): { level: number; at: number } | undefined {
    const c = this.clients.get(client);
    if (!c) return undefined;
    const t = this.now();
    c.level = Math.max(0, c.level - ((t - c.at) / 1000) * this.perSecond);
    c.at = t;
    return c;
  }
}
