// A watch-fed, in-memory cache of one kind (an informer): list once, then watch from the list's resourceVersion.
// Reads never touch the store. On Gone it relists and emits the difference as ordinary change events, so every
// consumer converges on the store's state without having to know that a resync happened. Works against any
// ResourceStore, through the interface only.
import type { KindDescriptor } from "../api/kinds.ts";
import type { KubeObject } from "../api/meta.ts";
import { StoreError } from "./errors.ts";
import { consoleStoreLogger, type ResourceStore, type StoreLogger, type Watch, type WatchEvent } from "./types.ts";

export type ChangeType = "ADDED" | "MODIFIED" | "DELETED";
export type ChangeHandler<T> = (type: ChangeType, obj: T, old?: T) => void;

export interface ResourceCacheOptions {
  /** Cache only this namespace; all namespaces when absent. */
  namespace?: string;
  labelSelector?: string;
  log?: StoreLogger;
  /** Backoff between failed lists/watches (default 200 ms doubling up to 10 s). */
  backoff?: { initialMs?: number; maxMs?: number };
  /** Ask the store for bookmarks so a resumed watch starts from a recent resourceVersion. */
  bookmarkIntervalMs?: number;
}

interface Index<T> {
  fn: (obj: T) => string[];
  values: Map<string, Set<string>>;
}

const keyOf = (obj: KubeObject) => `${obj.metadata.namespace ?? ""}/${obj.metadata.name}`;

// Indexed and for-in loops rather than Object.values: no array per object, which at startup is one per nested
// object of every listed item (20k Versions: ~120k arrays of garbage). The objects are plain JSON data.
function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    if (Array.isArray(value)) for (let i = 0; i < value.length; i++) deepFreeze(value[i]);
    else for (const k in value) deepFreeze((value as Record<string, unknown>)[k]);
  }
  return value;
}

/**
 * Objects handed out are shared and deeply frozen: reads cost nothing, and a consumer that tries to modify one
 * fails loudly instead of corrupting the cache. structuredClone before changing one.
 */
export class ResourceCache<T extends KubeObject = KubeObject> {
  private readonly byNamespace = new Map<string, Map<string, T>>();
  private readonly handlers = new Set<ChangeHandler<T>>();
  private readonly indexes = new Map<string, Index<T>>();
  private readonly log: StoreLogger;
  private readonly initialBackoff: number;
  private readonly maxBackoff: number;
  private rv = "";
  private watch: Watch | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private wake: (() => void) | undefined;
  private syncedResolve!: () => void;
  private readonly syncedPromise = new Promise<void>((resolve) => (this.syncedResolve = resolve));
  /**
   * True while the cache reflects the store: from the first complete list on, except while it relists after its
   * watch fell too far behind (Gone), when it may be missing what changed meanwhile. /readyz reports this.
   */
  synced = false;

  constructor(
    private readonly store: ResourceStore,
    readonly kind: KindDescriptor,
    private readonly options: ResourceCacheOptions = {},
  ) {
    this.log = options.log ?? consoleStoreLogger;
    this.initialBackoff = options.backoff?.initialMs ?? 200;
    this.maxBackoff = options.backoff?.maxMs ?? 10_000;
  }

  /** Start listing and watching; resolves once the initial list is in (retrying failed lists meanwhile). */
  start(): Promise<void> {
    this.running ??= this.run();
    return Promise.race([this.syncedPromise, this.running]);
  }

  stop(): void {
    this.stopped = true;
    this.watch?.stop();
    this.wake?.();
  }

  /** The resourceVersion the cache reflects. */
  get resourceVersion(): string {
    return this.rv;
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.byNamespace.get(this.nsOf(namespace))?.get(name);
  }

  list(namespace?: string): T[] {
    if (namespace !== undefined) return [...(this.byNamespace.get(this.nsOf(namespace))?.values() ?? [])];
    const out: T[] = [];
    for (const objs of this.byNamespace.values()) out.push(...objs.values());
    return out;
  }

  onChange(handler: ChangeHandler<T>): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  /** A secondary index: `fn` returns the values an object is found under with byIndex(name, value). */
  addIndex(name: string, fn: (obj: T) => string[]): void {
    if (this.indexes.has(name)) throw new Error(`index "${name}" already exists`);
    const index: Index<T> = { fn, values: new Map() };
    this.indexes.set(name, index);
    for (const obj of this.list()) this.indexAdd(index, obj);
  }

  byIndex(name: string, value: string): T[] {
    const index = this.indexes.get(name);
    if (!index) throw new Error(`no index named "${name}"`);
    const out: T[] = [];
    for (const key of index.values.get(value) ?? []) {
      const obj = this.getByKey(key);
      if (obj) out.push(obj);
    }
    return out;
  }

  // ---- the list/watch loop ----

  private async run(): Promise<void> {
    let delay = this.initialBackoff;
    let needList = true;
    while (!this.stopped) {
      try {
        if (needList) {
          await this.relist();
          needList = false;
          if (!this.synced && !this.stopped) {
            this.synced = true;
            this.syncedResolve();
          }
        }
        const sawEvents = await this.watchOnce();
        if (sawEvents) {
          delay = this.initialBackoff;
          continue;
        }
        // Ended quietly (server-side timeout, closed store): resume from where we are, after a pause.
      } catch (e) {
        if (this.stopped) break;
        if (e instanceof StoreError && e.reason === "Gone") {
          this.log.info("watch too old, relisting", { kind: this.kind.kind, resourceVersion: this.rv });
          needList = true;
          this.synced = false;
          continue;
        }
        this.log.warn(needList ? "list failed" : "watch failed", { kind: this.kind.kind, error: e instanceof Error ? e.message : String(e), retryInMs: delay });
      }
      await this.sleep(delay);
      delay = Math.min(delay * 2, this.maxBackoff);
    }
  }

  /** One watch from the current resourceVersion; resolves with whether any event arrived, rejects with its error. */
  private async watchOnce(): Promise<boolean> {
    let saw = false;
    const { namespace, labelSelector, bookmarkIntervalMs } = this.options;
    this.watch = this.store.watch<T>(this.kind, { namespace, labelSelector, bookmarkIntervalMs, resourceVersion: this.rv }, (event) => {
      saw = true;
      this.apply(event);
    });
    if (this.stopped) this.watch.stop();
    await this.watch.done;
    return saw;
  }

  private apply(event: WatchEvent<T>): void {
    if (this.stopped) return;
    const rv = event.object.metadata?.resourceVersion;
    if (rv) this.rv = rv;
    if (event.type === "BOOKMARK") return;
    const obj = deepFreeze(event.object);
    if (event.type === "DELETED") {
      const old = this.getByKey(keyOf(obj));
      if (!old) return;
      this.remove(old);
      this.emit("DELETED", obj, old);
    } else {
      const old = this.getByKey(keyOf(obj));
      // A resumed watch may announce what the cache already holds; consumers only hear about real changes.
      if (old && old.metadata.resourceVersion === obj.metadata.resourceVersion) return;
      this.put(obj, old);
      this.emit(old ? "MODIFIED" : "ADDED", obj, old);
    }
  }

  /** Replace the contents with a fresh list, announcing only what differs from what consumers have seen. */
  private async relist(): Promise<void> {
    const { namespace, labelSelector } = this.options;
    const result = await this.store.list<T>(this.kind, { namespace, labelSelector });
    if (this.stopped) return;
    const changes: [ChangeType, T, T | undefined][] = [];
    if (this.byNamespace.size === 0) {
      // The first list (or a relist of an empty cache): everything is new, nothing to compare or delete.
      for (const item of result.items) {
        const obj = deepFreeze(item);
        this.put(obj, undefined);
        changes.push(["ADDED", obj, undefined]);
      }
    } else {
      const seen = new Set<string>();
      for (const item of result.items) {
        const obj = deepFreeze(item);
        const key = keyOf(obj);
        seen.add(key);
        const old = this.getByKey(key);
        if (old && old.metadata.resourceVersion === obj.metadata.resourceVersion) continue;
        this.put(obj, old);
        changes.push([old ? "MODIFIED" : "ADDED", obj, old]);
      }
      for (const obj of this.list()) {
        if (seen.has(keyOf(obj))) continue;
        this.remove(obj);
        changes.push(["DELETED", obj, obj]);
      }
    }
    this.rv = result.resourceVersion;
    for (const [type, obj, old] of changes) this.emit(type, obj, old);
  }

  private put(obj: T, old: T | undefined): void {
    if (old) this.unindex(old);
    const ns = obj.metadata.namespace ?? "";
    let objs = this.byNamespace.get(ns);
    if (!objs) this.byNamespace.set(ns, (objs = new Map()));
    objs.set(obj.metadata.name, obj);
    for (const index of this.indexes.values()) this.indexAdd(index, obj);
  }

  private remove(obj: T): void {
    this.unindex(obj);
    const ns = obj.metadata.namespace ?? "";
    const objs = this.byNamespace.get(ns);
    objs?.delete(obj.metadata.name);
    if (objs?.size === 0) this.byNamespace.delete(ns);
  }

  private indexAdd(index: Index<T>, obj: T): void {
    const key = keyOf(obj);
    for (const value of this.indexValues(index, obj)) {
      let keys = index.values.get(value);
      if (!keys) index.values.set(value, (keys = new Set()));
      keys.add(key);
    }
  }

  private unindex(obj: T): void {
    const key = keyOf(obj);
    for (const index of this.indexes.values()) {
      for (const value of this.indexValues(index, obj)) {
        const keys = index.values.get(value);
        keys?.delete(key);
        if (keys?.size === 0) index.values.delete(value);
      }
    }
  }

  private indexValues(index: Index<T>, obj: T): string[] {
    try {
      return index.fn(obj);
    } catch (e) {
      this.log.error("cache index function failed", { kind: this.kind.kind, name: obj.metadata.name, error: e instanceof Error ? e.message : String(e) });
      return [];
    }
  }

  private emit(type: ChangeType, obj: T, old: T | undefined): void {
    for (const handler of [...this.handlers]) {
      try {
        handler(type, obj, old);
      } catch (e) {
        this.log.error("cache change handler failed", { kind: this.kind.kind, type, name: obj.metadata.name, error: e instanceof Error ? e.message : String(e) });
      }
    }
  }

  private getByKey(key: string): T | undefined {
    const slash = key.indexOf("/");
    return this.byNamespace.get(key.slice(0, slash))?.get(key.slice(slash + 1));
  }

  private nsOf(namespace: string | undefined): string {
    return this.kind.namespaced ? namespace || "default" : "";
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      timer.unref?.();
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}
