// The ResourceStore: what controllers and the server live on. Two backends implement it: `embedded` (bun:sqlite,
// standalone) and `kube` (the Kubernetes API). Semantics follow the Kubernetes API server.
import type { KindDescriptor } from "../api/kinds.ts";
import type { KubeObject } from "../api/meta.ts";

export interface ListOptions {
  /** Only objects in this namespace; all namespaces when absent. */
  namespace?: string;
  /** Kubernetes label selector: `a=b,c!=d,e,!f,g in (x,y),h notin (z)`. */
  labelSelector?: string;
}

export interface ListResult<T extends KubeObject = KubeObject> {
  items: T[];
  /** The store's resourceVersion at the time of the list; watch from here to miss nothing. */
  resourceVersion: string;
}

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK";

export interface WatchEvent<T extends KubeObject = KubeObject> {
  type: WatchEventType;
  /** For BOOKMARK only `metadata.resourceVersion` is meaningful. */
  object: T;
}

export interface WatchOptions extends ListOptions {
  /**
   * Deliver every change after this resourceVersion. Absent: start with ADDED for every current object
   * (like a list), then changes. Too old to replay → the watch fails with a Gone (410) StoreError.
   */
  resourceVersion?: string;
  /** Send BOOKMARK events carrying the current resourceVersion at this interval (ms). */
  bookmarkIntervalMs?: number;
}

export interface Watch {
  /** Stop delivering events; idempotent. */
  stop(): void;
  /** Resolves when the watch ends: after stop(), or with the error that ended it (e.g. Gone). */
  readonly done: Promise<void>;
}

export type WatchHandler<T extends KubeObject = KubeObject> = (event: WatchEvent<T>) => void;

/** A JSON merge patch (RFC 7386) or a JSON patch (RFC 6902). */
export type Patch = { type: "merge"; patch: Record<string, unknown> } | { type: "json"; patch: JsonPatchOp[] };
export interface JsonPatchOp {
  op: "add" | "remove" | "replace" | "move" | "copy" | "test";
  path: string;
  from?: string;
  value?: unknown;
}

/** What the store's parts log through; src/log.ts's Logger satisfies it. */
export interface StoreLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/** Used when no logger is passed: one JSON line on stderr, like src/log.ts writes on stdout. */
export const consoleStoreLogger: StoreLogger = {
  info: (msg, fields) => console.error(JSON.stringify({ time: new Date().toISOString(), level: "info", msg, ...fields })),
  warn: (msg, fields) => console.error(JSON.stringify({ time: new Date().toISOString(), level: "warn", msg, ...fields })),
  error: (msg, fields) => console.error(JSON.stringify({ time: new Date().toISOString(), level: "error", msg, ...fields })),
};

/** Who writes: recorded in metadata.managedFields (the API server's `fieldManager` query parameter). */
export interface WriteOptions {
  fieldManager?: string;
}

export interface ResourceStore {
  get<T extends KubeObject>(kind: KindDescriptor, namespace: string | undefined, name: string): Promise<T | undefined>;
  list<T extends KubeObject>(kind: KindDescriptor, options?: ListOptions): Promise<ListResult<T>>;
  watch<T extends KubeObject>(kind: KindDescriptor, options: WatchOptions, handler: WatchHandler<T>): Watch;
  /** Creates the object; status in the input is ignored for kinds with a status subresource. */
  create<T extends KubeObject>(obj: T, options?: WriteOptions): Promise<T>;
  /**
   * Replaces spec/metadata (labels, annotations, finalizers, ownerReferences). `metadata.resourceVersion`, when
   * set, must equal the stored one (else Conflict). Status is kept as stored. Bumps `generation` on spec change.
   */
  update<T extends KubeObject>(obj: T, options?: WriteOptions): Promise<T>;
  /** Replaces only status (the `/status` subresource). Same optimistic concurrency as update. */
  updateStatus<T extends KubeObject>(obj: T, options?: WriteOptions): Promise<T>;
  patch<T extends KubeObject>(kind: KindDescriptor, namespace: string | undefined, name: string, patch: Patch, options?: { subresource?: "status" } & WriteOptions): Promise<T>;
  /** Deletes, or marks for deletion (deletionTimestamp) while finalizers remain. */
  delete(kind: KindDescriptor, namespace: string | undefined, name: string, options?: { resourceVersion?: string }): Promise<void>;
  close(): Promise<void>;
}
