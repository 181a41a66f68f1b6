// One set of watch-fed caches per process. The controller manager, the registry server's index, the browse API
// and the auth layer ask this set for the cache of a kind, so a process that runs several of them (standalone)
// lists and watches each kind once and holds each object once, instead of one copy per consumer. The set also
// answers readiness: every cache it handed out, with the ones that do not reflect the store yet named.
import type { KindDescriptor } from "../api/kinds.ts";
import type { KubeObject } from "../api/meta.ts";
import type { ResourceCacheOptions } from "./cache.ts";
import { cacheFor, type ObjectCache } from "./multi-namespace-cache.ts";
import type { ResourceStore, StoreLogger } from "./types.ts";

export interface CacheScope {
  /** Namespaces to cache (WATCH_NAMESPACE); all when absent or empty. Ignored for cluster-scoped kinds. */
  namespaces?: string[];
  labelSelector?: string;
}

export interface CacheSyncState {
  /** The kind, with its scope when it is not "everything" (e.g. `ConfigMap[opendepot.defdev.io/namespace]`). */
  name: string;
  synced: boolean;
}

export class CacheSet {
  private readonly caches = new Map<string, { name: string; cache: ObjectCache }>();
  private started = false;
  private stopped = false;

  constructor(
    readonly store: ResourceStore,
    private readonly options: { log?: StoreLogger; backoff?: ResourceCacheOptions["backoff"] } = {},
  ) {}

  /**
   * The shared cache of a kind in a scope, created on first use. Once the set is started, a cache asked for
   * later starts at once; await its start() (or the set's) before reading it.
   */
  cache<T extends KubeObject>(kind: KindDescriptor, scope: CacheScope = {}): ObjectCache<T> {
    const namespaces = kind.namespaced && scope.namespaces?.length ? [...new Set(scope.namespaces)].sort() : undefined;
    const key = `${kind.group}/${kind.version}/${kind.kind}|${namespaces?.join(",") ?? "*"}|${scope.labelSelector ?? ""}`;
    let entry = this.caches.get(key);
    if (!entry) {
      const cache = cacheFor<KubeObject>(this.store, kind, namespaces, { log: this.options.log, labelSelector: scope.labelSelector, backoff: this.options.backoff });
      entry = { name: nameOf(kind.kind, namespaces, scope.labelSelector), cache };
      this.caches.set(key, entry);
      if (this.stopped) cache.stop();
      else if (this.started) void cache.start();
    }
    return entry.cache as unknown as ObjectCache<T>;
  }

  /** Start every cache asked for so far (and, from now on, each new one); resolves when all have listed once. */
  async start(): Promise<void> {
    this.started = true;
    await Promise.all([...this.caches.values()].map((e) => e.cache.start()));
  }

  /** Stop every cache: called once, by the role that owns the set, after every consumer has stopped. */
  stop(): void {
    this.stopped = true;
    for (const e of this.caches.values()) e.cache.stop();
  }

  /** Each cache and whether it reflects the store. */
  state(): CacheSyncState[] {
    return [...this.caches.values()].map((e) => ({ name: e.name, synced: e.cache.synced }));
  }

  /** The caches that do not reflect the store (not listed yet, or relisting after a lost watch). */
  unsynced(): string[] {
    return this.state()
      .filter((s) => !s.synced)
      .map((s) => s.name);
  }

  /** Ready: at least one cache, and every cache synced. */
  ready(): boolean {
    return this.caches.size > 0 && this.unsynced().length === 0;
  }

  /** How many caches the set holds (tests: a second consumer of a kind must not add one). */
  get size(): number {
    return this.caches.size;
  }
}

function nameOf(kind: string, namespaces: string[] | undefined, labelSelector: string | undefined): string {
  const scope = [namespaces ? `namespaces=${namespaces.join(",")}` : "", labelSelector ? `labels=${labelSelector}` : ""].filter(Boolean).join(";");
  return scope ? `${kind}[${scope}]` : kind;
}
