// The reconcile runtime: one watch-fed cache per kind shared by every controller, a work queue per controller
// fed by the caches' change events, N workers per controller, backoff on errors, requeue-after, periodic resync,
// and a graceful shutdown that lets in-flight reconciles finish (or aborts them after a grace period; storage writes
// are atomic, so an aborted reconcile never leaves a half-written object visible as synced).
import type { KindDescriptor } from "../api/kinds.ts";
import type { KubeObject } from "../api/meta.ts";
import type { Logger } from "../log.ts";
import { queueDepth, queueInFlight, recordRateLimitWait, recordReconcile, recordRetry } from "../metrics/controllers.ts";
import { CacheSet } from "../store/cache-set.ts";
import type { ObjectCache } from "../store/multi-namespace-cache.ts";
import type { ResourceStore } from "../store/types.ts";
import { WorkQueue, type BackoffOptions } from "./workqueue.ts";

export interface ObjectKey {
  namespace: string;
  name: string;
}

export interface ReconcileResult {
  /** Reconcile this object again after this long, even if nothing changes. */
  requeueAfterMs?: number;
}

export interface ReconcileContext {
  log: Logger;
  /** Aborted when the manager stops and the grace period is over. */
  signal: AbortSignal;
}

export interface Controller {
  name: string;
  kind: KindDescriptor;
  /** Changes of these kinds wake the objects `map` returns (e.g. a Version wakes its Module). */
  watches?: { kind: KindDescriptor; map(obj: KubeObject): ObjectKey[] }[];
  concurrency?: number;
  reconcile(key: ObjectKey, ctx: ReconcileContext): Promise<ReconcileResult | void>;
}

/** An error that knows when it is worth retrying (e.g. an upstream rate limit's reset time). */
export interface RetryableAt {
  retryAt: Date;
}
const hasRetryAt = (e: unknown): e is RetryableAt => typeof e === "object" && e !== null && (e as RetryableAt).retryAt instanceof Date;

export interface ManagerOptions {
  log: Logger;
  /** Namespaces to watch (WATCH_NAMESPACE); all when absent. */
  namespaces?: string[];
  /** Reconcile every object this often even without changes (default 10 min; 0 = never). */
  resyncMs?: number;
  backoff?: BackoffOptions;
  /** How long stop() waits for in-flight reconciles before aborting them. */
  shutdownGraceMs?: number;
  /**
   * The process's caches, shared with the registry server and auth in standalone (each object held once). Their
   * owner stops them; without a set the manager makes its own and stops it.
   */
  caches?: CacheSet;
}

const encode = (k: ObjectKey) => `${k.namespace}/${k.name}`;
const decode = (s: string): ObjectKey => {
  const i = s.indexOf("/");
  return { namespace: s.slice(0, i), name: s.slice(i + 1) };
};

export class ControllerManager {
  private readonly caches = new Map<KindDescriptor, ObjectCache>();
  private readonly controllers: { controller: Controller; queue: WorkQueue; workers: Promise<void>[] }[] = [];
  private readonly abort = new AbortController();
  private readonly cleanups: (() => void)[] = [];
  private started = false;
  private readonly cacheSet: CacheSet;
  private readonly ownsCaches: boolean;

  constructor(
    readonly store: ResourceStore,
    private readonly options: ManagerOptions,
  ) {
    this.ownsCaches = !options.caches;
    this.cacheSet = options.caches ?? new CacheSet(store, { log: options.log });
  }

  /** The shared cache of a kind (created on first use, started by start()). */
  cache<T extends KubeObject>(kind: KindDescriptor): ObjectCache<T> {
    let c = this.caches.get(kind);
    if (!c) {
      c = this.cacheSet.cache(kind, { namespaces: this.options.namespaces });
      this.caches.set(kind, c);
      if (this.started) void c.start();
    }
    return c as unknown as ObjectCache<T>;
  }

  /** Kinds whose cache does not reflect the store (not listed yet, or relisting after a lost watch). */
  unsynced(): string[] {
    return [...this.caches.values()].filter((c) => !c.synced).map((c) => c.kind.kind);
  }

  add(controller: Controller): void {
    if (this.started) throw new Error("add controllers before start()");
    this.cache(controller.kind);
    for (const w of controller.watches ?? []) this.cache(w.kind);
    this.controllers.push({ controller, queue: new WorkQueue(this.options.backoff), workers: [] });
  }

  /** Queue an object for a controller by hand (e.g. after writing something its watch won't see). */
  enqueue(controllerName: string, key: ObjectKey, afterMs = 0): void {
    this.controllers.find((c) => c.controller.name === controllerName)?.queue.addAfter(encode(key), afterMs);
  }

  async start(): Promise<void> {
    this.started = true;
    await Promise.all([...this.caches.values()].map((c) => c.start()));
    for (const entry of this.controllers) {
      const { controller, queue } = entry;
      const primary = this.caches.get(controller.kind)!;
      const keyOf = (o: KubeObject) => ({ namespace: o.metadata.namespace ?? "", name: o.metadata.name });
      this.cleanups.push(primary.onChange((_t, obj) => queue.add(encode(keyOf(obj)))));
      for (const w of controller.watches ?? []) {
        this.cleanups.push(this.caches.get(w.kind)!.onChange((_t, obj) => w.map(obj).forEach((k) => queue.add(encode(k)))));
      }
      for (const obj of primary.list()) queue.add(encode(keyOf(obj)));
      const resync = this.options.resyncMs ?? 10 * 60_000;
      if (resync > 0) {
        const timer = setInterval(() => primary.list().forEach((o) => queue.add(encode(keyOf(o)))), resync);
        (timer as { unref?: () => void }).unref?.();
        this.cleanups.push(() => clearInterval(timer));
      }
      for (let i = 0; i < (controller.concurrency ?? 1); i++) entry.workers.push(this.work(controller, queue));
      this.cleanups.push(queueDepth.add(() => [[{ controller: controller.name }, queue.length]]), queueInFlight.add(() => [[{ controller: controller.name }, queue.inFlight]]));
    }
    this.options.log.info("controllers started", { controllers: this.controllers.map((c) => c.controller.name) });
  }

  private async work(controller: Controller, queue: WorkQueue): Promise<void> {
    const log = this.options.log.child({ controller: controller.name });
    for (;;) {
      const raw = await queue.get();
      if (raw === undefined) return;
      const key = decode(raw);
      const started = performance.now();
      try {
        const result = await controller.reconcile(key, { log: log.child({ namespace: key.namespace, name: key.name }), signal: this.abort.signal });
        queue.forget(raw);
        recordReconcile(controller.name, "success", (performance.now() - started) / 1000);
        if (result?.requeueAfterMs !== undefined) queue.addAfter(raw, result.requeueAfterMs);
        log.debug("reconciled", { namespace: key.namespace, name: key.name, durationMs: Math.round(performance.now() - started) });
      } catch (error) {
        recordReconcile(controller.name, this.abort.signal.aborted ? "abandoned" : hasRetryAt(error) ? "deferred" : "error", (performance.now() - started) / 1000);
        if (this.abort.signal.aborted) {
          log.warn("reconcile abandoned at shutdown", { namespace: key.namespace, name: key.name });
        } else if (hasRetryAt(error)) {
          const delay = Math.max(0, error.retryAt.getTime() - Date.now());
          queue.addAfter(raw, delay);
          recordRateLimitWait(controller.name, delay);
          log.warn("reconcile deferred", { namespace: key.namespace, name: key.name, retryInMs: delay, error });
        } else {
          const delay = queue.addRateLimited(raw);
          recordRetry(controller.name);
          log.error("reconcile failed", { namespace: key.namespace, name: key.name, retryInMs: delay, failures: queue.failureCount(raw), error });
        }
      } finally {
        queue.done(raw);
      }
    }
  }

  /** Run `cleanup` when the manager stops (e.g. to stop reporting metrics read from its caches). */
  onStop(cleanup: () => void): void {
    this.cleanups.push(cleanup);
  }

  /** Stop taking work, wait up to the grace period for in-flight reconciles, then abort what's left. */
  async stop(): Promise<void> {
    for (const c of this.cleanups.splice(0)) c();
    for (const { queue } of this.controllers) queue.shutDown();
    const workers = this.controllers.flatMap((c) => c.workers);
    const grace = this.options.shutdownGraceMs ?? 30_000;
    const timer = setTimeout(() => this.abort.abort(new Error("controller manager is shutting down")), grace);
    await Promise.allSettled(workers);
    clearTimeout(timer);
    if (this.ownsCaches) this.cacheSet.stop();
  }

  /** True when no controller has queued or in-flight work (tests and benchmarks wait on this). */
  idle(): boolean {
    return this.controllers.every(({ queue }) => queue.length === 0 && queue.inFlight === 0);
  }
}
