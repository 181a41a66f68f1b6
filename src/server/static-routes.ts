// The opt-in native route table (--static-routes): the fixed anonymous protocol GETs answered by the runtime's own
// router (Bun.serve `routes`) from prebuilt Responses, with no JavaScript per request, ahead of the fetch handler
// (fast path + app), which still answers everything else.
//
// What goes in: discovery at once; module versions, provider versions and provider package metadata once the fast
// path has answered them with a document (a "hot set"), bounded in count. Not every servable address up front:
// Bun's `server.reload` grows faster than linearly with the table (measured on Bun 1.4.5, GET-only entries: 1,000 →
// 9 ms, 2,000 → 22 ms, 4,000 → 98 ms, 8,000 → 460 ms, blocking the event loop), every entry costs ~3.7 KiB of
// native memory besides its body, and a metadata document carries every armored public key (~2 KiB each) and its
// signed URLs per expiry window. Clients ask for a small part of a catalog over and over; that part is what pays.
// Modules with no declared system are never promoted (any system segment answers for them, so a client could fill
// the table with spellings of one module): the fetch path keeps serving them.
//
// Freshness: every entry is the fetch path's own answer (protocol-answers.ts) for that exact path, rebuilt (1) after
// the index changes (feed events, debounced, at most one rebuild per `minGapMs`), (2) ahead of any time at which an
// answer changes by itself: the URL-expiry window rolls, a yanked version's grace ends (module/provider lists'
// `staleAt`, a build's download refusal). An entry with such a deadline is taken out of the table `leadMs` before it
// and put back (rebuilt) once it has passed, so the fetch path answers at the instant itself; (3) when the signing
// keys reload (checked every `checkEveryMs`). An entry whose answer is no longer a document (deleted, yanked past
// grace) leaves the table and goes back to the fetch path's 404.
//
// Only for anonymous access: the table cannot authorize (registry-server.ts refuses the flag otherwise). What its
// answers lack, by construction: an access-log line, per-route request metrics, an x-request-id, Host validation.
import type { Served } from "../runtime/types.ts";
import { staticRouteEntries, recordStaticRouteRebuild, type StaticRouteRebuild } from "../metrics/server.ts";
import { lifecyclePolicy, type ServerContext } from "./context.ts";
import { fastRoute, type FastPath } from "./fast-path.ts";
import { yankRefusedFrom } from "./lifecycle.ts";
import { answersFor, discoveryDocument, documentResponse, type DiscoveryExtras } from "./protocol-answers.ts";

type Route = NonNullable<ReturnType<typeof fastRoute>>;
// Named, not "every other kind": a route kind the fast path gains later is left to it until it is added here.
type Promotable = Extract<Route, { kind: "moduleVersions" | "providerVersions" | "providerMetadata" }>;
const isPromotable = (route: Route | undefined): route is Promotable => route?.kind === "moduleVersions" || route?.kind === "providerVersions" || route?.kind === "providerMetadata";
export type EntryKind = "discovery" | Promotable["kind"];

export interface StaticRoutesOptions {
  /** Versions lists (modules and providers) held at most; the oldest promoted leaves first. */
  maxLists?: number;
  /** Provider metadata documents held at most; the oldest promoted leaves first. */
  maxMetadata?: number;
  /** Quiet time after a change or promotion before the rebuild (bursts of watch events make one rebuild). */
  debounceMs?: number;
  /** Least time between two rebuilds caused by changes or promotions (bounds the rebuild rate under churn). */
  minGapMs?: number;
  /** How long before a time-based change an entry leaves the table (covers timer lateness and the rebuild). */
  leadMs?: number;
  /** How often the signing keys (and any change without an event) are checked. */
  checkEveryMs?: number;
}

/** What tells the table the index may have changed: the feeds the index is fed by (feed.ts ObjectFeed). */
export interface ChangeSource {
  onChange(handler: () => void): () => void;
}

/** The runtime's route table: Served.setStaticRoutes (runtime/types.ts). */
export type RouteTable = Required<Pick<Served, "setStaticRoutes">>;

const DISCOVERY = "/.well-known/terraform.json";
// What a route key may hold: Bun reads `:` and `*` in a key as parameters; validated segments never have them.
const PLAIN_PATH = /^[A-Za-z0-9._~+/-]+$/;
// setTimeout takes at most 2^31-1 ms; a far deadline is re-checked on the way.
const MAX_TIMER_MS = 60_000;

interface Wanted {
  route: Promotable;
  kind: EntryKind;
}

export class StaticRoutes {
  private readonly answers;
  private readonly discovery: Response;
  private readonly lists = new Map<string, Wanted>();
  private readonly metadata = new Map<string, Wanted>();
  private readonly o: Required<StaticRoutesOptions>;
  private table: RouteTable | undefined;
  private stopped = false;
  private readonly unsubscribe: (() => void)[] = [];
  private readonly waiters: { changes: number; resolve: () => void }[] = [];
  /** What the table was last built from. */
  private built = { changes: -1, expires: -1, keys: undefined as object | undefined, keyId: "", deadline: Infinity, at: -Infinity };
  private counts: Record<EntryKind, number> = { discovery: 0, moduleVersions: 0, providerVersions: 0, providerMetadata: 0 };
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerDue = Infinity;
  private clockTimer: ReturnType<typeof setTimeout> | undefined;
  private checker: ReturnType<typeof setInterval> | undefined;
  private readonly stopGauge: () => void;
  /** Rebuilds applied to the table, by this instance. */
  rebuilds = 0;
  /** Milliseconds the last rebuild took (answers + the runtime's reload). */
  lastRebuildMs = 0;

  constructor(
    private readonly ctx: ServerContext,
    discovery: DiscoveryExtras = {},
    feeds: ChangeSource[] = [],
    options: StaticRoutesOptions = {},
  ) {
    this.o = { maxLists: 1536, maxMetadata: 512, debounceMs: 10, minGapMs: 250, leadMs: 500, checkEveryMs: 1000, ...options };
    this.answers = answersFor(ctx);
    this.discovery = documentResponse(discoveryDocument(discovery), new Request(`http://static-routes.invalid${DISCOVERY}`));
    for (const feed of feeds) this.unsubscribe.push(feed.onChange(() => this.changed()));
    this.stopGauge = staticRouteEntries.add(() => Object.entries(this.counts).map(([kind, n]) => [{ kind }, n]));
  }

  /** The fast path, promoting what it answered with a document into the table (once attached). */
  watch(fast: FastPath): FastPath {
    return (request, path, requestId) => {
      const answer = fast(request, path, requestId);
      if (this.table !== undefined && answer instanceof Response && (answer.status === 200 || answer.status === 304)) this.promote(path);
      return answer;
    };
  }

  /** Starts serving from `table`: builds it now, then keeps it fresh. */
  attach(table: RouteTable): void {
    if (this.stopped) return;
    this.table = table;
    this.checker = setInterval(() => this.checkNow(), this.o.checkEveryMs);
    unref(this.checker);
    this.rebuild("start");
  }

  stop(): void {
    this.stopped = true;
    for (const u of this.unsubscribe.splice(0)) u();
    clearTimeout(this.timer);
    clearTimeout(this.clockTimer);
    clearInterval(this.checker);
    this.stopGauge();
    this.table = undefined;
    for (const w of this.waiters.splice(0)) w.resolve();
  }

  /** The paths in the table now, sorted (tests, diagnostics). */
  paths(): string[] {
    return [...this.current].sort();
  }
  private current = new Set<string>();

  /** Entries in the table now. */
  get size(): number {
    return this.current.size;
  }

  /**
   * Resolves once the table was rebuilt from an index that had taken in at least `changes` changes (default: the
   * index's count now). A test awaits this instead of sleeping; it never waits on a wall-clock amount by itself.
   * Before `attach` it waits for the first build; once stopped it resolves at once.
   */
  reflects(changes = this.ctx.index.changes): Promise<void> {
    if (this.stopped || (this.table !== undefined && this.built.changes >= changes)) return Promise.resolve();
    const done = new Promise<void>((resolve) => this.waiters.push({ changes, resolve }));
    this.changed();
    return done;
  }

  /** Resolves once no promotion or change is waiting for a rebuild. */
  settled(): Promise<void> {
    if (this.timer === undefined || this.stopped) return Promise.resolve();
    return new Promise<void>((resolve) => this.waiters.push({ changes: -1, resolve }));
  }

  /**
   * Rebuilds now when time or the keys have made the table stale: the clock passed a deadline (less the lead), or
   * the signing keys or the URL-expiry window differ from what the table was built with. Runs every
   * `checkEveryMs` and at each deadline; a test on a hand-driven clock calls it after moving the clock.
   */
  checkNow(): void {
    if (this.table === undefined) return;
    const { index, signer, urls } = this.ctx;
    const b = this.built;
    if ((signer.activeKeys ?? signer) !== b.keys || signer.keyId !== b.keyId) return this.rebuild("keys");
    if (index.now() >= b.deadline || (this.counts.providerMetadata > 0 && urls.expiresAt() !== b.expires)) return this.rebuild("clock");
    if (index.changes !== b.changes) this.changed();
  }

  private promote(path: string): void {
    if (this.lists.has(path) || this.metadata.has(path) || path.endsWith("/download") || !PLAIN_PATH.test(path)) return;
    const route = fastRoute(path);
    if (!isPromotable(route)) return;
    if (route.kind === "moduleVersions" && !this.ctx.index.module(route.module.ns, route.module.name)?.spec.moduleConfig.provider) return;
    const [held, max] = route.kind === "providerMetadata" ? [this.metadata, this.o.maxMetadata] : [this.lists, this.o.maxLists];
    if (held.size >= max) held.delete(held.keys().next().value!);
    held.set(path, { route, kind: route.kind });
    this.schedule();
  }

  private changed(): void {
    if (this.table !== undefined) this.schedule();
  }

  /**
   * A rebuild after the debounce, and no sooner than `minGapMs` after the last one (deadlines and key reloads are
   * rebuilt at once by checkNow, not through here). Later events never push a scheduled rebuild back.
   */
  private schedule(): void {
    if (this.stopped) return;
    const now = performance.now();
    const due = Math.max(now + this.o.debounceMs, this.built.at + this.o.minGapMs);
    if (this.timer !== undefined && this.timerDue <= due) return;
    clearTimeout(this.timer);
    this.timerDue = due;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerDue = Infinity;
      this.rebuild("change");
    }, due - now);
  }

  /** The fetch path's answer for a held route when it is a document, else undefined (the entry leaves). */
  private answer(route: Promotable, request: Request): Response | undefined {
    const a = this.answers;
    const answer =
      route.kind === "moduleVersions" ? a.moduleVersions(request, route.module) : route.kind === "providerVersions" ? a.providerVersions(request, route.ns, route.type) : a.providerMetadata(request, route.build);
    // A promise would mean an authorizing gatekeeper, which the table must never stand in for.
    return answer instanceof Response && answer.status === 200 ? answer : undefined;
  }

  /** When the answer of a held route changes by time alone, if ever (ms on the index's clock). */
  private until(route: Promotable, expires: number): number | undefined {
    const { index, urls } = this.ctx;
    if (route.kind === "moduleVersions") return index.staleAt("Module", route.module.ns, route.module.name);
    if (route.kind === "providerVersions") return index.staleAt("Provider", route.ns, route.type);
    const { ns, type, version, os, arch } = route.build;
    // URLs minted from (expires - ttl + 1) s on carry the next window's expiry (url-signer.ts expiresAt).
    const until = (expires - urls.ttlSeconds + 1) * 1000;
    const v = index.providerBuild(ns, type, version, os, arch);
    const refusedFrom = v && yankRefusedFrom(v, lifecyclePolicy(this.ctx));
    return refusedFrom === undefined ? until : Math.min(until, refusedFrom);
  }

  private rebuild(reason: StaticRouteRebuild): void {
    const table = this.table;
    if (table === undefined || this.stopped) return;
    const started = performance.now();
    const { index, signer, urls } = this.ctx;
    const changes = index.changes;
    const now = index.now();
    const expires = urls.expiresAt();
    const request = new Request("http://static-routes.invalid/");
    const routes: Record<string, Response> = { [DISCOVERY]: this.discovery };
    const counts: Record<EntryKind, number> = { discovery: 1, moduleVersions: 0, providerVersions: 0, providerMetadata: 0 };
    let deadline = Infinity;
    for (const held of [this.lists, this.metadata]) {
      for (const [path, w] of held) {
        let response: Response | undefined;
        let until: number | undefined;
        try {
          response = this.answer(w.route, request);
          until = response && this.until(w.route, expires);
        } catch (error) {
          // The fetch path answers it (and words its own error); a rebuild must never take the process down.
          this.ctx.log.warn("static routes: an entry could not be built; the fetch path answers it", { path, error });
          response = undefined;
        }
        if (response === undefined) {
          held.delete(path);
          continue;
        }
        if (until !== undefined && until - this.o.leadMs <= now) {
          // Inside the lead: the fetch path answers until the change has happened, then the entry comes back.
          deadline = Math.min(deadline, Math.max(until, now + 1));
          continue;
        }
        if (until !== undefined) deadline = Math.min(deadline, until - this.o.leadMs);
        routes[path] = response;
        counts[w.kind]++;
      }
    }
    try {
      table.setStaticRoutes(routes);
    } catch (error) {
      // Never leave an old table answering: without one, the fetch path answers everything, as without the flag.
      this.ctx.log.error("static routes: the runtime refused the table; serving without it", { error });
      this.fail(table);
      return;
    }
    this.current = new Set(Object.keys(routes));
    this.counts = counts;
    this.built = { changes, expires, keys: signer.activeKeys ?? signer, keyId: signer.keyId, deadline, at: performance.now() };
    this.rebuilds++;
    this.lastRebuildMs = this.built.at - started;
    recordStaticRouteRebuild(reason);
    this.armClock(deadline, now);
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const w = this.waiters[i]!;
      if (w.changes <= changes && (w.changes >= 0 || this.timer === undefined)) {
        this.waiters.splice(i, 1);
        w.resolve();
      }
    }
    // A change that arrived while building (none can: rebuilding is synchronous) or without an event is caught here.
    if (index.changes !== changes || this.waiters.some((w) => w.changes >= 0)) this.schedule();
  }

  /** Empties the table and stops keeping it: every request goes to the fetch handler from now on. */
  private fail(table: RouteTable): void {
    try {
      table.setStaticRoutes({});
    } catch (error) {
      this.ctx.log.error("static routes: the table could not be emptied either", { error });
    }
    this.current = new Set();
    this.counts = { discovery: 0, moduleVersions: 0, providerVersions: 0, providerMetadata: 0 };
    this.stop();
  }

  /** The timer of the next deadline, on the index's clock (re-armed on the way when far off). */
  private armClock(deadline: number, now: number): void {
    clearTimeout(this.clockTimer);
    this.clockTimer = undefined;
    if (deadline === Infinity) return;
    this.clockTimer = setTimeout(() => {
      this.clockTimer = undefined;
      // Timers may fire a little early, and far deadlines are reached in steps: not there yet, wait again.
      const at = this.ctx.index.now();
      if (at < deadline) this.armClock(deadline, at);
      else this.checkNow();
    }, Math.min(Math.max(0, deadline - now), MAX_TIMER_MS));
    unref(this.clockTimer);
  }
}

function unref(timer: unknown): void {
  if (typeof timer === "object" && timer !== null && "unref" in timer && typeof timer.unref === "function") timer.unref();
}
