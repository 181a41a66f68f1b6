// A ResourceStore that writes as one field manager: every create, update and patch carries `fieldManager`, so
// metadata.managedFields tells the controller, the Depot logic and people apart (on the API server and in the
// embedded store alike).
import type { KindDescriptor } from "../api/kinds.ts";
import type { KubeObject } from "../api/meta.ts";
import type { ListOptions, ListResult, Patch, ResourceStore, Watch, WatchHandler, WatchOptions, WriteOptions } from "./types.ts";

/** Field managers of our own writers. */
export const FIELD_MANAGERS = {
  controller: "opendepot-controller",
  depot: "opendepot-depot",
  leaderElection: "opendepot-leader-election",
  manifests: "opendepot-manifests",
  kubeapi: "opendepot-kubeapi",
} as const;

export class FieldManagedStore implements ResourceStore {
  constructor(
    private readonly base: ResourceStore,
    readonly fieldManager: string,
  ) {
    if (!fieldManager || fieldManager.length > 128) throw new Error("a field manager is 1 to 128 characters");
  }

  private with<O extends WriteOptions>(options: O | undefined): O {
    return { ...(options ?? ({} as O)), fieldManager: options?.fieldManager ?? this.fieldManager };
  }

  get<T extends KubeObject>(kind: KindDescriptor, namespace: string | undefined, name: string): Promise<T | undefined> {
    return this.base.get<T>(kind, namespace, name);
  }
  list<T extends KubeObject>(kind: KindDescriptor, options?: ListOptions): Promise<ListResult<T>> {
    return this.base.list<T>(kind, options);
  }
  watch<T extends KubeObject>(kind: KindDescriptor, options: WatchOptions, handler: WatchHandler<T>): Watch {
    return this.base.watch<T>(kind, options, handler);
  }
  create<T extends KubeObject>(obj: T, options?: WriteOptions): Promise<T> {
    return this.base.create(obj, this.with(options));
  }
  update<T extends KubeObject>(obj: T, options?: WriteOptions): Promise<T> {
    return this.base.update(obj, this.with(options));
  }
  updateStatus<T extends KubeObject>(obj: T, options?: WriteOptions): Promise<T> {
    return this.base.updateStatus(obj, this.with(options));
  }
  patch<T extends KubeObject>(kind: KindDescriptor, namespace: string | undefined, name: string, patch: Patch, options?: { subresource?: "status" } & WriteOptions): Promise<T> {
    return this.base.patch<T>(kind, namespace, name, patch, this.with(options));
  }
  delete(kind: KindDescriptor, namespace: string | undefined, name: string, options?: { resourceVersion?: string }): Promise<void> {
    return this.base.delete(kind, namespace, name, options);
  }
  /** The shared store stays open: the role that opened it closes it. */
  async close(): Promise<void> {}
}

/** `store` writing as `manager`. */
export const asFieldManager = (store: ResourceStore, manager: string): ResourceStore => new FieldManagedStore(store, manager);
