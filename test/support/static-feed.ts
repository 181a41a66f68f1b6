// An ObjectFeed driven by hand, for tests of the server's read model without a store.
import type { VersionObject } from "../../src/api/kinds.ts";
import type { KubeObject } from "../../src/api/meta.ts";
import type { ResourceStore } from "../../src/store/types.ts";
import type { ChangeType, ObjectFeed } from "../../src/server/feed.ts";

export class StaticFeed<T extends KubeObject> implements ObjectFeed<T> {
  private readonly objects = new Map<string, T>();
  private readonly handlers = new Set<(type: ChangeType, obj: T, old?: T) => void>();

  constructor(initial: T[] = []) {
    for (const o of initial) this.objects.set(this.key(o), o);
  }
  private key(o: T) {
    return `${o.metadata.namespace ?? ""}/${o.metadata.name}`;
  }
  list(namespace?: string): T[] {
    return [...this.objects.values()].filter((o) => namespace === undefined || o.metadata.namespace === namespace);
  }
  onChange(handler: (type: ChangeType, obj: T, old?: T) => void) {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }
  put(obj: T) {
    const old = this.objects.get(this.key(obj));
    this.objects.set(this.key(obj), obj);
    for (const h of this.handlers) h(old ? "MODIFIED" : "ADDED", obj, old);
  }
  remove(obj: T) {
    this.objects.delete(this.key(obj));
    for (const h of this.handlers) h("DELETED", obj);
  }
}

/** A ResourceStore stand-in that records what publish() writes into a Version feed. */
export function feedStore(versions: StaticFeed<VersionObject>): ResourceStore {
  return {
    create: async (o: VersionObject) => o,
    updateStatus: async (o: VersionObject) => {
      versions.put(o);
      return o;
    },
  } as unknown as ResourceStore;
}
