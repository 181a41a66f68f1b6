// WATCH_NAMESPACE with several namespaces: one ResourceCache per namespace (so namespace-scoped RBAC suffices: no
// cluster-wide list or watch is ever made), presented as one cache.
import type { KindDescriptor } from "../api/kinds.ts";
import type { KubeObject } from "../api/meta.ts";
import { ResourceCache, type ChangeHandler, type ResourceCacheOptions } from "./cache.ts";
import type { ResourceStore } from "./types.ts";

/** What readers of a cache use; ResourceCache and MultiNamespaceCache both provide it. */
export interface ObjectCache<T extends KubeObject = KubeObject> {
  readonly kind: KindDescriptor;
  /** Whether the cache reflects the store (see ResourceCache.synced). */
  readonly synced: boolean;
  start(): Promise<void>;
  stop(): void;
  get(namespace: string | undefined, name: string): T | undefined;
  list(namespace?: string): T[];
  onChange(handler: ChangeHandler<T>): () => void;
  addIndex(name: string, fn: (obj: T) => string[]): void;
  byIndex(name: string, value: string): T[];
}

export class MultiNamespaceCache<T extends KubeObject = KubeObject> implements ObjectCache<T> {
  private readonly children: Map<string, ResourceCache<T>>;

  constructor(
    store: ResourceStore,
    readonly kind: KindDescriptor,
    namespaces: string[],
    options: Omit<ResourceCacheOptions, "namespace"> = {},
  ) {
    this.children = new Map(namespaces.map((ns) => [ns, new ResourceCache<T>(store, kind, { ...options, namespace: ns })]));
  }

  get synced(): boolean {
    return [...this.children.values()].every((c) => c.synced);
  }
  async start(): Promise<void> {
    await Promise.all([...this.children.values()].map((c) => c.start()));
  }
  stop(): void {
    for (const c of this.children.values()) c.stop();
  }
  get(namespace: string | undefined, name: string): T | undefined {
    return namespace === undefined ? undefined : this.children.get(namespace)?.get(namespace, name);
  }
  list(namespace?: string): T[] {
    if (namespace !== undefined) return this.children.get(namespace)?.list(namespace) ?? [];
    return [...this.children.values()].flatMap((c) => c.list());
  }
  onChange(handler: ChangeHandler<T>): () => void {
    const offs = [...this.children.values()].map((c) => c.onChange(handler));
    return () => offs.forEach((off) => off());
  }
  addIndex(name: string, fn: (obj: T) => string[]): void {
    for (const c of this.children.values()) c.addIndex(name, fn);
  }
  byIndex(name: string, value: string): T[] {
    return [...this.children.values()].flatMap((c) => c.byIndex(name, value));
  }
}

/**
 * The cache for a namespace scope: all namespaces (undefined or empty), one namespace, or several.
 * Namespaces are the parsed value of WATCH_NAMESPACE (comma-separated).
 */
export function cacheFor<T extends KubeObject>(store: ResourceStore, kind: KindDescriptor, namespaces: string[] | undefined, options: Omit<ResourceCacheOptions, "namespace"> = {}): ObjectCache<T> {
  if (!kind.namespaced || !namespaces?.length) return new ResourceCache<T>(store, kind, options);
  if (namespaces.length === 1) return new ResourceCache<T>(store, kind, { ...options, namespace: namespaces[0] });
  return new MultiNamespaceCache<T>(store, kind, namespaces, options);
}

export function parseWatchNamespaces(value: string | undefined): string[] | undefined {
  const list = [...new Set((value ?? "").split(",").map((s) => s.trim()).filter(Boolean))];
  for (const ns of list) if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(ns)) throw new Error(`WATCH_NAMESPACE: "${ns}" is not a namespace name`);
  return list.length ? list : undefined;
}
