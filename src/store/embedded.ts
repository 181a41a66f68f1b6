// The embedded ResourceStore: Kubernetes API semantics on a local bun:sqlite file, for standalone mode and tests.
// One monotonically increasing revision (like etcd's) numbers every change and is persisted, so resourceVersions
// keep growing across restarts. All writes run synchronously inside one sqlite transaction each, which serializes
// them; events are published only after commit.
import { ALL_KINDS, Namespace, type KindDescriptor } from "../api/kinds.ts";
import type { KubeObject } from "../api/meta.ts";
import type { SqlDatabase } from "../runtime/index.ts";
import { StoreError, alreadyExists, conflict, invalid, notFound } from "./errors.ts";
import { WatchHub, type StoredEvent } from "./embedded-watch.ts";
import { checkObject, descriptorOf, loadedSchemaChecks, schemaChecksFor } from "./object-checks.ts";
import { applyPatch } from "./patch.ts";
import { deepEqual, isPlainObject } from "../kits/json.ts";
import { parseSelector } from "./selector.ts";
import { recordUpdate } from "./managed-fields.ts";
import { diskFull, isDiskFull, openSqliteFile } from "./sqlite-file.ts";
import { consoleStoreLogger, type WriteOptions, type ListOptions, type ListResult, type Patch, type ResourceStore, type StoreLogger, type Watch, type WatchHandler, type WatchOptions } from "./types.ts";

export interface EmbeddedStoreOptions {
  /** How many recent events are kept for watches that resume from a resourceVersion (default 10 000). */
  eventBufferSize?: number;
  log?: StoreLogger;
  /**
   * Namespaces to create at open besides those every cluster has (CLUSTER_NAMESPACES), e.g. the server's own.
   * Like the API server, the store refuses namespaced objects in a namespace that does not exist.
   */
  namespaces?: string[];
  /**
   * false: no cluster namespaces at open and no namespace check, for tests of the store's own mechanics that
   * count revisions from an empty store. Everything else runs with the API server's rule (the default).
   */
  requireNamespaces?: boolean;
}

/** The namespaces a new Kubernetes cluster starts with. */
export const CLUSTER_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease"] as const;


const SCHEMA = `
CREATE TABLE IF NOT EXISTS objects (
  kind TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL, uid TEXT NOT NULL, data TEXT NOT NULL,
  PRIMARY KEY (kind, namespace, name)
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS objects_by_uid ON objects (uid);
-- Who owns whom, so that deleting an owner finds its dependents without scanning every object.
CREATE TABLE IF NOT EXISTS owner_refs (
  owner_uid TEXT NOT NULL, kind TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
  PRIMARY KEY (owner_uid, kind, namespace, name)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS owner_refs_by_dependent ON owner_refs (kind, namespace, name);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
`;

/** Metadata only the store sets; ignored on input. */
const SERVER_FIELDS = ["uid", "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds"] as const;

const kindKey = (d: KindDescriptor) => (d.group ? `${d.plural}.${d.group}` : d.plural);
const DESCRIPTORS = new Map(ALL_KINDS.map((d) => [kindKey(d), d]));
/** RFC 3339 with second precision, as Kubernetes writes timestamps. */
const now = () => new Date().toISOString().replace(/\.\d+Z$/, "Z");

interface Tx {
  rev: number;
  events: StoredEvent[];
}

export class EmbeddedStore implements ResourceStore {
  private rev: number;
  private closed = false;
  private readonly hub: WatchHub;
  private readonly q;
  private readonly requireNamespaces: boolean;

  private constructor(private readonly db: SqlDatabase, options: EmbeddedStoreOptions) {
    db.exec(SCHEMA);
    this.q = {
      get: db.prepare<{ data: string }, [string, string, string]>("SELECT data FROM objects WHERE kind = ? AND namespace = ? AND name = ?"),
      listAll: db.prepare<{ data: string }, [string]>("SELECT data FROM objects WHERE kind = ? ORDER BY namespace, name"),
      listNs: db.prepare<{ data: string }, [string, string]>("SELECT data FROM objects WHERE kind = ? AND namespace = ? ORDER BY name"),
      put: db.prepare("INSERT INTO objects (kind, namespace, name, uid, data) VALUES (?, ?, ?, ?, ?) ON CONFLICT (kind, namespace, name) DO UPDATE SET uid = excluded.uid, data = excluded.data"),
      del: db.prepare("DELETE FROM objects WHERE kind = ? AND namespace = ? AND name = ?"),
      uidExists: db.prepare<{ one: number }, [string]>("SELECT 1 AS one FROM objects WHERE uid = ?"),
      putOwner: db.prepare("INSERT OR IGNORE INTO owner_refs (owner_uid, kind, namespace, name) VALUES (?, ?, ?, ?)"),
      delOwners: db.prepare("DELETE FROM owner_refs WHERE kind = ? AND namespace = ? AND name = ?"),
      dependents: db.prepare<{ kind: string; namespace: string; name: string }, [string]>("SELECT kind, namespace, name FROM owner_refs WHERE owner_uid = ?"),
      getRev: db.prepare<{ value: string }, []>("SELECT value FROM meta WHERE key = 'revision'"),
      setRev: db.prepare("INSERT INTO meta (key, value) VALUES ('revision', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"),
    };
    this.rev = Number(this.q.getRev.get()?.value ?? 0);
    this.hub = new WatchHub(options.eventBufferSize ?? 10_000, this.rev, options.log ?? consoleStoreLogger);
    this.requireNamespaces = options.requireNamespaces !== false;
    if (this.requireNamespaces) for (const name of new Set([...CLUSTER_NAMESPACES, ...(options.namespaces ?? [])])) this.ensureNamespace(name);
  }

  /** Create Namespace `name` unless it exists (Active, labelled as the API server labels every Namespace). */
  private ensureNamespace(name: string): void {
    if (this.read(Namespace, "", name)) return;
    const ns: KubeObject = { apiVersion: "v1", kind: "Namespace", metadata: { name, labels: { "kubernetes.io/metadata.name": name } }, spec: { finalizers: ["kubernetes"] }, status: { phase: "Active" } };
    checkObject(ns, Namespace);
    this.write((tx) => {
      ns.metadata.uid = crypto.randomUUID();
      ns.metadata.creationTimestamp = now();
      ns.metadata.generation = 1;
      this.put(tx, Namespace, ns, undefined);
    });
  }

  /** Open (creating if needed) the store in a sqlite file, or a throwaway one with ":memory:". One process per file. */
  static open(path: string | ":memory:", options: EmbeddedStoreOptions = {}): EmbeddedStore {
    // WAL: readers never block the writer; NORMAL sync is durable across process crashes (not power loss).
    const store = new EmbeddedStore(openSqliteFile(path, options.log ?? consoleStoreLogger), options);
    store.path = path;
    return store;
  }

  private path = ":memory:";

  /** The latest committed revision. */
  get resourceVersion(): string {
    return String(this.rev);
  }

  async get<T extends KubeObject>(kind: KindDescriptor, namespace: string | undefined, name: string): Promise<T | undefined> {
    this.ensureOpen();
    return this.read(kind, this.nsOf(kind, namespace), name) as T | undefined;
  }

  async list<T extends KubeObject>(kind: KindDescriptor, options: ListOptions = {}): Promise<ListResult<T>> {
    this.ensureOpen();
    const selector = parseSelector(options.labelSelector);
    const items = this.scan(kind, options.namespace).filter((o) => selector.matches(o.metadata.labels));
    return { items: items as T[], resourceVersion: String(this.rev) };
  }

  watch<T extends KubeObject>(kind: KindDescriptor, options: WatchOptions, handler: WatchHandler<T>): Watch {
    if (this.closed) {
      const done = Promise.reject(new StoreError("Unavailable", "the store is closed"));
      done.catch(() => {});
      return { stop() {}, done };
    }
    return this.hub.open({ kindKey: kindKey(kind), descriptor: kind, options, snapshot: () => this.scan(kind, options.namespace) }, handler);
  }

  async create<T extends KubeObject>(input: T, options: WriteOptions = {}): Promise<T> {
    const d = descriptorOf(input);
    await schemaChecksFor(d);
    const obj = structuredClone(input) as KubeObject;
    const meta = obj.metadata;
    const ns = this.nsOf(d, meta.namespace);
    if (d.namespaced) meta.namespace = ns;
    else delete meta.namespace;
    for (const f of SERVER_FIELDS) delete meta[f];
    // Status belongs to the status subresource: a create cannot set it.
    if (d.status) delete obj.status;
    checkObject(obj, d);
    return this.write((tx) => {
      if (d.namespaced && this.requireNamespaces && !this.read(Namespace, "", ns)) throw notFound("Namespace", undefined, ns);
      if (this.read(d, ns, meta.name)) throw alreadyExists(d.kind, ns || undefined, meta.name);
      meta.uid = crypto.randomUUID();
      meta.creationTimestamp = now();
      meta.generation = 1;
      if (options.fieldManager && meta.managedFields === undefined) meta.managedFields = recordUpdate(undefined, obj, options.fieldManager, !!d.status, meta.creationTimestamp);
      this.put(tx, d, obj, undefined);
      return structuredClone(obj) as T;
    });
  }

  async update<T extends KubeObject>(input: T, options: WriteOptions = {}): Promise<T> {
    const d = descriptorOf(input);
    await schemaChecksFor(d);
    const next = structuredClone(input) as KubeObject;
    const ns = this.nsOf(d, next.metadata.namespace);
    return this.write((tx) => {
      const stored = this.mustRead(d, ns, next.metadata.name);
      this.checkPreconditions(d, stored, next);
      copyMeta(stored, next, [...SERVER_FIELDS, "name", "namespace"]);
      if (d.status) keepStatus(next, stored);
      return this.replace(tx, d, stored, next, options.fieldManager) as T;
    });
  }

  async updateStatus<T extends KubeObject>(input: T, options: WriteOptions = {}): Promise<T> {
    const d = descriptorOf(input);
    if (!d.status) throw new StoreError("Invalid", `${d.kind} has no status subresource`);
    await schemaChecksFor(d);
    const ns = this.nsOf(d, input.metadata.namespace);
    return this.write((tx) => {
      const stored = this.mustRead(d, ns, input.metadata.name);
      this.checkPreconditions(d, stored, input);
      return this.replaceStatus(tx, d, stored, input.status, options.fieldManager) as T;
    });
  }

  async patch<T extends KubeObject>(kind: KindDescriptor, namespace: string | undefined, name: string, patch: Patch, options: { subresource?: "status" } & WriteOptions = {}): Promise<T> {
    if (options.subresource === "status" && !kind.status) throw new StoreError("Invalid", `${kind.kind} has no status subresource`);
    await schemaChecksFor(kind);
    const ns = this.nsOf(kind, namespace);
    return this.write((tx) => {
      const stored = this.mustRead(kind, ns, name);
      const patched = applyPatch(structuredClone(stored), patch);
      if (!isPlainObject(patched) || !isPlainObject(patched.metadata)) throw new StoreError("Invalid", "the patched object must be an object with metadata");
      const next = patched as KubeObject;
      // A resourceVersion or uid left in the patched object is a precondition, as in the Kubernetes API.
      this.checkPreconditions(kind, stored, next);
      if (next.metadata.name !== stored.metadata.name || (next.metadata.namespace ?? "") !== (stored.metadata.namespace ?? "")) {
        throw invalid(kind.kind, name, [{ field: "metadata.name", message: "name and namespace cannot be changed" }]);
      }
      if (options.subresource === "status") return this.replaceStatus(tx, kind, stored, next.status, options.fieldManager) as T;
      next.apiVersion = stored.apiVersion;
      next.kind = stored.kind;
      copyMeta(stored, next, SERVER_FIELDS);
      if (kind.status) keepStatus(next, stored);
      return this.replace(tx, kind, stored, next, options.fieldManager) as T;
    });
  }

  async delete(kind: KindDescriptor, namespace: string | undefined, name: string, options: { resourceVersion?: string } = {}): Promise<void> {
    const ns = this.nsOf(kind, namespace);
    this.write((tx) => {
      const stored = this.mustRead(kind, ns, name);
      if (options.resourceVersion && options.resourceVersion !== stored.metadata.resourceVersion) throw conflict(kind.kind, name);
      this.deleteObject(tx, kind, stored);
    });
  }

  /**
   * Give SQLite's page cache back (PRAGMA shrink_memory): after the caches' first lists it holds about 2 MiB of pages
   * that serving, which answers from the caches, never reads again. Later reads refill it as needed.
   */
  releaseMemory(): void {
    if (!this.closed) this.db.exec("PRAGMA shrink_memory");
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.hub.stopAll();
    this.db.close();
  }

  // ---- internals ----

  private write<R>(fn: (tx: Tx) => R): R {
    this.ensureOpen();
    const tx: Tx = { rev: this.rev, events: [] };
    let result: R;
    try {
      result = this.db.transaction(() => {
        const r = fn(tx);
        if (tx.rev !== this.rev) this.q.setRev.run(String(tx.rev));
        return r;
      });
    } catch (e) {
      if (isDiskFull(e)) throw diskFull(this.path, e);
      throw e;
    }
    this.rev = tx.rev;
    this.hub.publish(tx.events);
    return result;
  }

  /** Store `obj` at a new revision and record the event. */
  private put(tx: Tx, d: KindDescriptor, obj: KubeObject, old: KubeObject | undefined): void {
    const meta = obj.metadata;
    const ns = meta.namespace ?? "";
    meta.resourceVersion = String(++tx.rev);
    const key = kindKey(d);
    this.q.put.run(key, ns, meta.name, meta.uid!, JSON.stringify(obj));
    this.q.delOwners.run(key, ns, meta.name);
    for (const ref of meta.ownerReferences ?? []) this.q.putOwner.run(ref.uid, key, ns, meta.name);
    tx.events.push({ rev: tx.rev, kindKey: key, namespace: ns, type: old ? "MODIFIED" : "ADDED", object: obj, old });
  }

  /** Commit an update: bump generation on spec change, skip no-ops, finish a deletion whose last finalizer went. */
  private replace(tx: Tx, d: KindDescriptor, stored: KubeObject, next: KubeObject, manager?: string): KubeObject {
    checkObject(next, d);
    const finalizers = next.metadata.finalizers ?? [];
    if (stored.metadata.deletionTimestamp) {
      const added = finalizers.filter((f) => !(stored.metadata.finalizers ?? []).includes(f));
      if (added.length) throw invalid(d.kind, stored.metadata.name, [{ field: "metadata.finalizers", message: `no new finalizers can be added while the object is being deleted: ${added.join(", ")}` }]);
    }
    if (!deepEqual(stored.spec, next.spec)) next.metadata.generation = (stored.metadata.generation ?? 0) + 1;
    next.metadata.resourceVersion = stored.metadata.resourceVersion;
    // managedFields the writer set itself (server-side apply) are kept; otherwise the writer owns what it changed.
    if (manager && deepEqual(next.metadata.managedFields, stored.metadata.managedFields)) {
      const recorded = recordUpdate(stored, next, manager, !!d.status, now());
      if (recorded === undefined) delete next.metadata.managedFields;
      else next.metadata.managedFields = recorded;
    }
    // Like the API server: an update that changes nothing writes nothing and keeps the resourceVersion.
    if (deepEqual(stored, next)) return stored;
    if (next.metadata.deletionTimestamp && finalizers.length === 0) return structuredClone(this.remove(tx, d, next));
    this.put(tx, d, next, stored);
    return structuredClone(next);
  }

  private replaceStatus(tx: Tx, d: KindDescriptor, stored: KubeObject, status: unknown, manager?: string): KubeObject {
    const next = structuredClone(stored);
    if (status === undefined) delete next.status;
    else next.status = structuredClone(status);
    if (manager) {
      const recorded = recordUpdate(stored, next, manager, !!d.status, now());
      if (recorded !== undefined) next.metadata.managedFields = recorded;
    }
    const errors = d.spec ? loadedSchemaChecks().validateStatus(next, d) : [];
    if (errors.length) throw invalid(d.kind, stored.metadata.name, errors);
    if (deepEqual(stored, next)) return stored;
    this.put(tx, d, next, stored);
    return structuredClone(next);
  }

  /** Delete now, or mark for deletion while finalizers remain. */
  private deleteObject(tx: Tx, d: KindDescriptor, stored: KubeObject): void {
    if (stored.metadata.finalizers?.length) {
      if (stored.metadata.deletionTimestamp) return;
      const next = structuredClone(stored);
      next.metadata.deletionTimestamp = now();
      next.metadata.deletionGracePeriodSeconds = 0;
      this.put(tx, d, next, stored);
      return;
    }
    this.remove(tx, d, stored);
  }

  /**
   * Remove the row, then collect garbage like the Kubernetes garbage collector (background propagation):
   * dependents left with no live owner are deleted (honouring their finalizers); dependents that still have a
   * live owner only lose the dangling reference.
   */
  private remove(tx: Tx, d: KindDescriptor, obj: KubeObject): KubeObject {
    const key = kindKey(d);
    const ns = obj.metadata.namespace ?? "";
    const uid = obj.metadata.uid!;
    this.q.del.run(key, ns, obj.metadata.name);
    this.q.delOwners.run(key, ns, obj.metadata.name);
    const final = structuredClone(obj);
    final.metadata.resourceVersion = String(++tx.rev);
    tx.events.push({ rev: tx.rev, kindKey: key, namespace: ns, type: "DELETED", object: final, old: final });
    for (const dep of this.q.dependents.all(uid)) {
      const depKind = DESCRIPTORS.get(dep.kind);
      const depObj = depKind && this.read(depKind, dep.namespace, dep.name);
      if (!depKind || !depObj) continue;
      const remaining = (depObj.metadata.ownerReferences ?? []).filter((r) => r.uid !== uid);
      if (remaining.some((r) => this.q.uidExists.get(r.uid))) {
        const next = structuredClone(depObj);
        next.metadata.ownerReferences = remaining;
        this.put(tx, depKind, next, depObj);
      } else {
        this.deleteObject(tx, depKind, depObj);
      }
    }
    return final;
  }

  private checkPreconditions(d: KindDescriptor, stored: KubeObject, input: KubeObject): void {
    const { resourceVersion, uid } = input.metadata;
    if (resourceVersion && resourceVersion !== stored.metadata.resourceVersion) throw conflict(d.kind, stored.metadata.name);
    if (uid && uid !== stored.metadata.uid) throw conflict(d.kind, stored.metadata.name);
  }

  private nsOf(d: KindDescriptor, namespace: string | undefined): string {
    return d.namespaced ? namespace || "default" : "";
  }

  private read(d: KindDescriptor, ns: string, name: string): KubeObject | undefined {
    const row = this.q.get.get(kindKey(d), ns, name);
    return row ? (JSON.parse(row.data) as KubeObject) : undefined;
  }

  private mustRead(d: KindDescriptor, ns: string, name: string): KubeObject {
    const obj = this.read(d, ns, name);
    if (!obj) throw notFound(d.kind, ns || undefined, name);
    return obj;
  }

  private scan(d: KindDescriptor, namespace: string | undefined): KubeObject[] {
    const rows = d.namespaced && namespace ? this.q.listNs.all(kindKey(d), namespace) : this.q.listAll.all(kindKey(d));
    return rows.map((r) => JSON.parse(r.data) as KubeObject);
  }

  private ensureOpen(): void {
    if (this.closed) throw new StoreError("Unavailable", "the store is closed");
  }
}

/** Server-owned metadata always comes from the stored object, whatever the input says. */
function copyMeta(from: KubeObject, to: KubeObject, fields: readonly string[]): void {
  const src = from.metadata as Record<string, unknown>;
  const dst = to.metadata as Record<string, unknown>;
  for (const f of fields) {
    if (src[f] === undefined) delete dst[f];
    else dst[f] = src[f];
  }
}

function keepStatus(next: KubeObject, stored: KubeObject): void {
  if (stored.status === undefined) delete next.status;
  else next.status = stored.status;
}
