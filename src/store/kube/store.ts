// The ResourceStore on the Kubernetes API: the same semantics the embedded store reproduces, now from the real
// thing. Reads for serving go through ResourceCache (list + watch), never straight here per request.
import { ALL_KINDS, apiVersionOf, type KindDescriptor } from "../../api/kinds.ts";
import type { KubeObject } from "../../api/meta.ts";
import { gone, StoreError } from "../errors.ts";
import type { ListOptions, ListResult, Patch, ResourceStore, Watch, WatchEvent, WatchHandler, WatchOptions, WriteOptions } from "../types.ts";
import type { KubeClient, KubeStatus } from "./client.ts";

const PATCH_TYPES = { merge: "application/merge-patch+json", json: "application/json-patch+json" } as const;

export function collectionPath(kind: KindDescriptor, namespace?: string): string {
  const root = kind.group ? `/apis/${kind.group}/${kind.version}` : `/api/${kind.version}`;
  return kind.namespaced && namespace ? `${root}/namespaces/${encodeURIComponent(namespace)}/${kind.plural}` : `${root}/${kind.plural}`;
}

export function objectPath(kind: KindDescriptor, namespace: string | undefined, name: string, subresource?: string): string {
  if (kind.namespaced && !namespace) throw new StoreError("Invalid", `${kind.kind} ${name}: a namespace is required`);
  return `${collectionPath(kind, namespace)}/${encodeURIComponent(name)}${subresource ? `/${subresource}` : ""}`;
}

export interface KubeStoreOptions {
  /** Field manager of writes that name none (FieldManagedStore names one per role). */
  fieldManager?: string;
}

export class KubeStore implements ResourceStore {
  constructor(
    private readonly client: KubeClient,
    private readonly options: KubeStoreOptions = {},
  ) {}

  private withType<T extends KubeObject>(kind: KindDescriptor, obj: T): T {
    return { ...obj, apiVersion: apiVersionOf(kind), kind: kind.kind };
  }

  async get<T extends KubeObject>(kind: KindDescriptor, namespace: string | undefined, name: string): Promise<T | undefined> {
    try {
      return this.withType(kind, await this.client.request<T>("GET", objectPath(kind, namespace, name)));
    } catch (e) {
      if (e instanceof StoreError && e.reason === "NotFound") return undefined;
      throw e;
    }
  }

  async list<T extends KubeObject>(kind: KindDescriptor, options: ListOptions = {}): Promise<ListResult<T>> {
    const list = await this.client.request<{ items?: T[]; metadata?: { resourceVersion?: string } }>("GET", collectionPath(kind, options.namespace), {
      query: { labelSelector: options.labelSelector },
    });
    return { items: (list.items ?? []).map((o) => this.withType(kind, o)), resourceVersion: list.metadata?.resourceVersion ?? "" };
  }

  watch<T extends KubeObject>(kind: KindDescriptor, options: WatchOptions, handler: WatchHandler<T>): Watch {
    const controller = new AbortController();
    const run = async () => {
      let rv = options.resourceVersion;
      if (rv === undefined) {
        // Without a starting point the contract is: ADDED for everything now, then changes — i.e. list, then watch.
        const listed = await this.list<T>(kind, options);
        for (const object of listed.items) handler({ type: "ADDED", object });
        rv = listed.resourceVersion;
      }
      const query = {
        resourceVersion: rv,
        labelSelector: options.labelSelector,
        // Always: bookmarks keep a quiet resource's resourceVersion fresh, so a reconnect after compaction
        // resumes instead of relisting (the server sends them about once a minute; they are cheap).
        allowWatchBookmarks: "true",
        timeoutSeconds: "1800",
      };
      for await (const event of this.client.watch(collectionPath(kind, options.namespace), query, controller.signal)) {
        if (event.type === "ERROR") {
          const status = event.object as KubeStatus;
          if (status.code === 410 || status.reason === "Expired" || status.reason === "Gone") throw gone(rv ?? "");
          throw new StoreError("Unavailable", `watch ${kind.plural}: ${status.message ?? "error event"}`);
        }
        const object = event.type === "BOOKMARK" ? (event.object as T) : this.withType(kind, event.object as T);
        rv = (object.metadata as { resourceVersion?: string } | undefined)?.resourceVersion ?? rv;
        handler({ type: event.type as WatchEvent["type"], object });
      }
      // The server ended the stream (timeout, restart): report it so the cache resumes from the last rv.
      if (!controller.signal.aborted) throw new StoreError("Unavailable", `watch ${kind.plural} ended by the server at resourceVersion ${rv}`);
    };
    const done = run();
    done.catch(() => {});
    return { stop: () => controller.abort(), done };
  }

  /** Every write names its field manager (the store's default, or the caller's), as kubectl and client-go do. */
  private writeQuery(options: WriteOptions | undefined) {
    const fieldManager = options?.fieldManager ?? this.options.fieldManager;
    return fieldManager ? { fieldManager } : {};
  }

  async create<T extends KubeObject>(obj: T, options?: WriteOptions): Promise<T> {
    const kind = this.kindOf(obj);
    return this.withType(kind, await this.client.request<T>("POST", collectionPath(kind, obj.metadata.namespace ?? (kind.namespaced ? "default" : undefined)), { body: obj, query: this.writeQuery(options) }));
  }

  async update<T extends KubeObject>(obj: T, options?: WriteOptions): Promise<T> {
    const kind = this.kindOf(obj);
    return this.withType(kind, await this.client.request<T>("PUT", objectPath(kind, obj.metadata.namespace, obj.metadata.name), { body: obj, query: this.writeQuery(options) }));
  }

  async updateStatus<T extends KubeObject>(obj: T, options?: WriteOptions): Promise<T> {
    const kind = this.kindOf(obj);
    return this.withType(kind, await this.client.request<T>("PUT", objectPath(kind, obj.metadata.namespace, obj.metadata.name, "status"), { body: obj, query: this.writeQuery(options) }));
  }

  async patch<T extends KubeObject>(kind: KindDescriptor, namespace: string | undefined, name: string, patch: Patch, options: { subresource?: "status" } & WriteOptions = {}): Promise<T> {
    return this.withType(kind, await this.client.request<T>("PATCH", objectPath(kind, namespace, name, options.subresource), { body: patch.patch, contentType: PATCH_TYPES[patch.type], query: this.writeQuery(options) }));
  }

  async delete(kind: KindDescriptor, namespace: string | undefined, name: string, options: { resourceVersion?: string } = {}): Promise<void> {
    const body = { kind: "DeleteOptions", apiVersion: "v1", propagationPolicy: "Background", ...(options.resourceVersion ? { preconditions: { resourceVersion: options.resourceVersion } } : {}) };
    await this.client.request("DELETE", objectPath(kind, namespace, name), { body });
  }

  async close(): Promise<void> {}

  private kindOf(obj: KubeObject): KindDescriptor {
    const kind = ALL_KINDS.find((k) => apiVersionOf(k) === obj.apiVersion && k.kind === obj.kind);
    if (!kind) throw new StoreError("Invalid", `unknown kind ${obj.kind} in ${obj.apiVersion}`);
    return kind;
  }
}
