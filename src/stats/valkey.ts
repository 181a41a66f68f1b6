// Download counters in Valkey (or Redis) through the `redis` package. Each batch is one MULTI/EXEC of INCRBY /
// HINCRBY / ZINCRBY (never read-modify-write), so any number of `serve` replicas can share one Valkey without
// losing updates. Reads are pipelined and cover exactly the resources the registry knows (keys are looked up,
// never scanned: the per-version day keys alone can be millions).
import { createClient } from "redis";
import type { Logger } from "../log.ts";
import type { Batch } from "./buffer.ts";
import { BufferedStats, type BufferedStatsOptions, type CounterBackend, type WriteOutcome } from "./buffered.ts";
import { DAYS_KEPT, lastDays, StatsSnapshot, type StatsKind, type StatsTarget } from "./types.ts";
import { dayExpiresAt, KEYS, parseDayField } from "./valkey-keys.ts";

export interface ValkeyOptions {
  /** redis://[user:password@]host:port[/db], rediss:// for TLS, or v0.9's bare host:port. */
  url: string;
  /** OPENDEPOT_VALKEY_PASSWORD; used when the URL carries none. */
  password?: string;
  log: Logger;
  connectTimeoutMs?: number;
  /** PEM CA bundle trusted for rediss:// (a private CA); the system's roots otherwise. */
  ca?: string;
}

/** The URL normalised (bare host:port → redis://host:port) and checked; throws with a reason otherwise. */
export function parseValkeyUrl(text: string): URL {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `redis://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new Error(`invalid Valkey URL "${text}": use redis://host:port or rediss://host:port`);
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") throw new Error(`invalid Valkey URL "${text}": the scheme must be redis:// or rediss://`);
  if (!url.hostname) throw new Error(`invalid Valkey URL "${text}": no host`);
  if (url.pathname && url.pathname !== "/" && !/^\/\d{1,2}$/.test(url.pathname)) throw new Error(`invalid Valkey URL "${text}": the path can only be a database number`);
  return url;
}

/** The URL with its password masked, for logs. */
export const redactedUrl = (url: URL) => `${url.protocol}//${url.username ? `${url.username}@` : ""}${url.host}${url.pathname === "/" ? "" : url.pathname}`;

type Client = ReturnType<typeof createClient>;

/**
 * HSET lastAt only if later than what is stored (RFC 3339 UTC strings order like the instants), so a replica that
 * flushes an older batch after another never moves `lastAt` back.
 */
const SET_LATEST = `local c = redis.call('HGET', KEYS[1], 'lastAt'); if (not c) or c < ARGV[1] then redis.call('HSET', KEYS[1], 'lastAt', ARGV[1]) end return 0`;

export class ValkeyCounters implements CounterBackend {
  readonly description: string;
  private readonly client: Client;

  constructor(options: ValkeyOptions) {
    const url = parseValkeyUrl(options.url);
    this.description = `valkey ${redactedUrl(url)}`;
    this.client = createClient({
      url: url.toString(),
      ...(options.password && !url.password ? { password: options.password } : {}),
      // Commands while disconnected fail at once (the buffer keeps them) instead of queueing without bound.
      disableOfflineQueue: true,
      pingInterval: 5_000,
      socket: {
        ...(url.protocol === "rediss:" ? { tls: true as const, ...(options.ca ? { ca: options.ca } : {}) } : {}),
        connectTimeout: options.connectTimeoutMs ?? 3_000,
        // Exponential backoff with jitter, 100 ms doubling up to 5 s; never give up.
        reconnectStrategy: (retries: number) => Math.min(100 * 2 ** Math.min(retries, 6), 5_000) + Math.floor(Math.random() * 100),
      },
    });
    // Without a listener an 'error' event would crash the process; BufferedStats logs outages once.
    this.client.on("error", () => {});
  }

  /** Connect in the background: the registry starts serving whether or not Valkey is up. */
  connect(onReady: () => void): void {
    this.client.on("ready", onReady);
    this.client.connect().catch(() => {});
  }

  get ready(): boolean {
    return this.client.isReady;
  }

  async write(batch: Batch): Promise<WriteOutcome> {
    if (!this.client.isReady) return "unsent";
    const m = this.client.multi();
    const resources = new Map<string, { ns: string; kind: StatsKind; name: string; count: number; lastAtMs: number }>();
    const perNamespace = new Map<string, number>();
    for (const v of batch.versions.values()) {
      const at = new Date(v.lastAtMs).toISOString();
      const versionKey = KEYS.version(v.namespace, v.kind, v.name, v.version);
      m.hIncrBy(versionKey, "count", v.count).eval(SET_LATEST, { keys: [versionKey], arguments: [at] });
      const member = KEYS.leaderboardMember(v.namespace, v.kind, v.name, v.version);
      m.zIncrBy(KEYS.leaderboardGlobal, v.count, member).zIncrBy(KEYS.leaderboard(v.namespace), v.count, member);
      const rk = `${v.namespace}/${v.kind}/${v.name}`;
      const r = resources.get(rk);
      if (r) {
        r.count += v.count;
        r.lastAtMs = Math.max(r.lastAtMs, v.lastAtMs);
      } else resources.set(rk, { ns: v.namespace, kind: v.kind, name: v.name, count: v.count, lastAtMs: v.lastAtMs });
      perNamespace.set(v.namespace, (perNamespace.get(v.namespace) ?? 0) + v.count);
    }
    for (const r of resources.values()) {
      const key = KEYS.resource(r.ns, r.kind, r.name);
      m.hIncrBy(key, "count", r.count).eval(SET_LATEST, { keys: [key], arguments: [new Date(r.lastAtMs).toISOString()] });
    }
    m.incrBy(KEYS.total, batch.events);
    for (const [ns, n] of perNamespace) m.incrBy(KEYS.namespace(ns), n);
    const days = new Set<string>();
    for (const d of batch.days.values()) {
      const expires = dayExpiresAt(d.day);
      const dayVersion = KEYS.dayVersion(d.day, d.namespace, d.kind, d.name, d.version);
      m.incrBy(dayVersion, d.count).expireAt(dayVersion, expires);
      m.hIncrBy(KEYS.day(d.day), KEYS.dayField(d.namespace, d.kind, d.name), d.count);
      days.add(d.day);
    }
    for (const day of days) m.expireAt(KEYS.day(day), dayExpiresAt(day));
    try {
      await m.exec();
    } catch (e) {
      // Refused before anything was sent (the connection dropped in between): the batch is intact.
      if (!this.client.isReady && isOffline(e)) return "unsent";
      throw e;
    }
    return "written";
  }

  /**
   * Two pipelined rounds: every resource's total and the 90 day hashes; then the per-version counters only of the
   * resources whose total moved since `previous` (the others are copied), so a quiet registry costs ~1,100
   * commands per read instead of one per version.
   */
  async load(targets: StatsTarget[], previous: StatsSnapshot): Promise<StatsSnapshot> {
    if (!this.client.isReady) throw new Error("not connected");
    const snapshot = new StatsSnapshot();
    const days = lastDays(DAYS_KEPT, Date.now());
    const first = this.client.multi();
    for (const t of targets) first.hGetAll(KEYS.resource(t.namespace, t.kind, t.name));
    for (const day of days) first.hGetAll(KEYS.day(day));
    const replies = await pipelined(first, targets.length + days.length);

    const changed: StatsTarget[] = [];
    targets.forEach((t, i) => {
      const c = counterOf(replies[i]);
      if (c) snapshot.setResource(t.namespace, t.kind, t.name, c);
      const before = previous.resource(t.namespace, t.kind, t.name);
      if (!previous.hasVersionsRead(t.namespace, t.kind, t.name) || c?.count !== before?.count || c?.lastAt !== before?.lastAt) changed.push(t);
      else {
        for (const v of t.versions) {
          const known = previous.version(t.namespace, t.kind, t.name, v.version);
          if (known) snapshot.setVersion(t.namespace, t.kind, t.name, v.version, known);
        }
        snapshot.markVersionsRead(t.namespace, t.kind, t.name);
      }
    });
    const wanted = new Set(targets.map((t) => KEYS.dayField(t.namespace, t.kind, t.name)));
    days.forEach((day, i) => {
      for (const [field, value] of Object.entries((replies[targets.length + i] ?? {}) as Record<string, string>)) {
        const who = wanted.has(field) ? parseDayField(field) : undefined;
        const n = Number(value);
        if (who && n > 0) snapshot.setDay(who.namespace, who.kind, who.name, day, n);
      }
    });

    if (changed.length) {
      const second = this.client.multi();
      const slots: { t: StatsTarget; version: string }[] = [];
      for (const t of changed) {
        for (const v of t.versions) {
          for (const key of [v.version, ...(v.legacy && v.legacy !== v.version ? [v.legacy] : [])]) {
            second.hGetAll(KEYS.version(t.namespace, t.kind, t.name, key));
            slots.push({ t, version: v.version });
          }
        }
      }
      const versionReplies = await pipelined(second, slots.length);
      const sums = new Map<string, { t: StatsTarget; version: string; count: number; lastAt?: string }>();
      slots.forEach((slot, i) => {
        const c = counterOf(versionReplies[i]);
        if (!c) return;
        const key = `${slot.t.namespace}/${slot.t.kind}/${slot.t.name}/${slot.version}`;
        const sum = sums.get(key);
        if (sum) {
          sum.count += c.count;
          if ((c.lastAt ?? "") > (sum.lastAt ?? "")) sum.lastAt = c.lastAt;
        } else sums.set(key, { ...slot, count: c.count, lastAt: c.lastAt });
      });
      for (const s of sums.values()) snapshot.setVersion(s.t.namespace, s.t.kind, s.t.name, s.version, { count: s.count, ...(s.lastAt ? { lastAt: s.lastAt } : {}) });
      for (const t of changed) snapshot.markVersionsRead(t.namespace, t.kind, t.name);
    }
    return snapshot;
  }

  async close(): Promise<void> {
    try {
      if (this.client.isOpen) await this.client.close();
    } catch {
      this.client.destroy();
    }
  }
}

function counterOf(reply: unknown): { count: number; lastAt?: string } | undefined {
  const h = (reply ?? {}) as Record<string, string>;
  const count = Number(h.count ?? 0);
  return Number.isFinite(count) && count > 0 ? { count, ...(h.lastAt ? { lastAt: h.lastAt } : {}) } : undefined;
}

/** Run a pipeline (not a transaction); any failed command fails the whole read. */
async function pipelined(m: { execAsPipeline(): Promise<unknown> }, expected: number): Promise<unknown[]> {
  if (expected === 0) return [];
  const replies = (await m.execAsPipeline()) as unknown[];
  const failed = replies.find((r) => r instanceof Error);
  if (failed || replies.length !== expected) throw failed instanceof Error ? failed : new Error("incomplete reply");
  return replies;
}

function isOffline(e: unknown): boolean {
  const name = (e as { name?: string })?.name ?? "";
  const message = (e as { message?: string })?.message ?? "";
  return /ClientOffline|ClientClosed/i.test(name) || /offline|client is closed/i.test(message);
}

export interface ValkeyStatsOptions extends ValkeyOptions, Omit<BufferedStatsOptions, "log"> {}

/** Valkey-backed statistics, re-read every few seconds so replicas see each other's counts. */
export function valkeyStats(options: ValkeyStatsOptions): BufferedStats {
  const backend = new ValkeyCounters(options);
  const stats = new BufferedStats(backend, { refreshIntervalMs: 5_000, ...options, log: options.log });
  // (Re)connected: read the counters at once rather than at the next refresh tick.
  backend.connect(() => void stats.refresh());
  return stats;
}
