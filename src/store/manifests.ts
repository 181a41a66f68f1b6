// The manifests directory of standalone mode, applied like `kubectl apply --prune`: every document is created or
// brought up to date (spec-like fields, labels, annotations; status stays the controllers', and so do the fields
// controllers own in declared objects, CONTROLLER_OWNED: a Depot's spec.depotVersions and label), and objects that
// came from THIS directory but are no longer in it are deleted. Objects applied from another directory (the flag
// pointed elsewhere before) or created through the API are never pruned; `prune: false` prunes nothing. Edits are
// picked up while running through fs.watch and, because fs.watch misses events on some filesystems (network
// mounts, ConfigMap volumes), a periodic stat scan.
import { watch, type FSWatcher } from "node:fs";
import { readFile, realpath } from "node:fs/promises";
import { join, resolve } from "node:path";
import { APPLIED_FROM_ANNOTATION, type KubeObject } from "../api/meta.ts";
import { APPLIED_FROM_DIRECTORY_ANNOTATION, CONTROLLER_OWNED } from "../api/ownership.ts";
import { isAlreadyExists, isConflict, isNotFound, StoreError } from "./errors.ts";
import { MANIFEST_KINDS, MAX_MANIFEST_BYTES, issue, listManifestFiles, objectKey, objectRef, parseManifestFile, type ManifestDocument, type ManifestFile, type ManifestIssue } from "./manifest-parse.ts";
import { deepEqual } from "./patch.ts";
import { consoleStoreLogger, type ResourceStore, type StoreLogger } from "./types.ts";

export type { ManifestIssue } from "./manifest-parse.ts";

export interface ManifestLoaderOptions {
  log?: StoreLogger;
  /** Called once per problem found by a scan; defaults to log.warn. */
  report?: (issue: ManifestIssue) => void;
  /** Fallback stat scan interval (default 2000 ms; 0 turns it off). */
  rescanIntervalMs?: number;
  /** Quiet time after a filesystem event before rescanning (default 200 ms). */
  debounceMs?: number;
  /** Use fs.watch (default true). */
  watch?: boolean;
  /** Delete objects this directory applied and no longer declares (default true). */
  prune?: boolean;
}

export interface ManifestResult {
  applied: number;
  unchanged: number;
  deleted: number;
  /** Objects applied from another manifests directory (or by an older version that did not record it): kept. */
  keptFromElsewhere: number;
  errors: ManifestIssue[];
}

const OWNED_ELSEWHERE = new Set(["apiVersion", "kind", "metadata", "status"]);
const MAX_CONFLICT_RETRIES = 5;
const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

export class ManifestLoader {
  private readonly log: StoreLogger;
  private readonly report: (issue: ManifestIssue) => void;
  private last: ManifestResult | undefined;
  private fingerprint: string | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private watcher: FSWatcher | undefined;
  private interval: ReturnType<typeof setInterval> | undefined;
  private debounce: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  private storeFailed = false;
  private started = false;
  private directory: string;
  /** Directories other than ours that objects were applied from, reported once. */
  private readonly reportedElsewhere = new Set<string>();

  constructor(
    private readonly store: ResourceStore,
    directory: string,
    private readonly options: ManifestLoaderOptions = {},
  ) {
    this.directory = resolve(directory);
    this.log = options.log ?? consoleStoreLogger;
    this.report = options.report ?? ((i) => this.log.warn("invalid manifest", { problem: i.text }));
  }

  /** Apply the directory once, then keep following it. Resolves with the initial result. */
  async start(): Promise<ManifestResult> {
    const first = !this.started;
    this.started = true;
    // The directory's identity is its real path, so that ./registry and /abs/registry are the same directory.
    if (first) this.directory = await realpath(this.directory).catch(() => this.directory);
    if (first && this.options.prune === false) this.log.info("manifests: pruning is off; objects removed from the directory are kept", { directory: this.directory });
    const result = await this.rescan();
    if (this.stopped || !first) return result;
    if (this.options.watch !== false) this.startWatcher();
    const every = this.options.rescanIntervalMs ?? 2000;
    if (every > 0) {
      this.interval = setInterval(() => void this.rescan({ onlyIfChanged: true }), every);
      this.interval.unref?.();
    }
    return result;
  }

  /** Scan and apply now (serialized with running scans). `onlyIfChanged` skips the work when no file changed. */
  rescan(options: { onlyIfChanged?: boolean } = {}): Promise<ManifestResult> {
    const run = this.chain.then(() => this.scan(!options.onlyIfChanged));
    this.chain = run.catch(() => {});
    return run;
  }

  lastResult(): ManifestResult | undefined {
    return this.last;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.interval) clearInterval(this.interval);
    if (this.debounce) clearTimeout(this.debounce);
    this.watcher?.close();
    await this.chain;
  }

  private startWatcher(): void {
    const onEvent = () => {
      if (this.stopped) return;
      if (this.debounce) clearTimeout(this.debounce);
      this.debounce = setTimeout(() => void this.rescan(), this.options.debounceMs ?? 200);
      this.debounce.unref?.();
    };
    try {
      this.watcher = watch(this.directory, { recursive: true, persistent: false }, onEvent);
      this.watcher.on("error", (e) => {
        this.log.warn("watching the manifests directory failed; relying on periodic rescans", { directory: this.directory, error: errorText(e) });
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch (e) {
      this.log.warn("cannot watch the manifests directory; relying on periodic rescans", { directory: this.directory, error: errorText(e) });
    }
  }

  private async scan(force: boolean): Promise<ManifestResult> {
    if (this.stopped && this.last) return this.last;
    let files: ManifestFile[];
    try {
      files = await listManifestFiles(this.directory);
    } catch (e) {
      // Never prune on an unreadable directory: a remount in progress must not wipe the registry.
      this.fingerprint = undefined;
      return this.finish({ applied: 0, unchanged: 0, deleted: 0, keptFromElsewhere: 0, errors: [issue(this.directory, undefined, undefined, `cannot read the manifests directory: ${errorText(e)}`)] });
    }
    const fingerprint = files.map((f) => `${f.rel}\u0000${f.size}\u0000${f.mtimeMs}\u0000${f.ino}`).join("\n");
    if (!force && this.last && fingerprint === this.fingerprint) return this.last;
    this.fingerprint = fingerprint;
    this.storeFailed = false;

    const result: ManifestResult = { applied: 0, unchanged: 0, deleted: 0, keptFromElsewhere: 0, errors: [] };
    // Files with any problem keep every object they applied before: last good wins over a half-broken edit.
    const protectedFiles = new Set<string>();
    const fail = (file: string, i: ManifestIssue) => {
      result.errors.push(i);
      protectedFiles.add(file);
    };
    const desired = new Map<string, ManifestDocument>();
    for (const f of files) {
      const display = join(this.directory, f.rel);
      // Refused before it is read: a 50 MB manifest must not cost 50 MB (or a gigabyte once parsed) of memory.
      if (f.size > MAX_MANIFEST_BYTES) {
        fail(f.rel, issue(display, undefined, undefined, `file is ${f.size} bytes, more than the limit of ${MAX_MANIFEST_BYTES}; nothing in it was applied`));
        continue;
      }
      let text: string;
      try {
        text = await readFile(f.path, "utf8");
      } catch (e) {
        fail(f.rel, issue(display, undefined, undefined, `cannot read: ${errorText(e)}`));
        continue;
      }
      const { documents, issues } = parseManifestFile(display, f.rel, text);
      for (const i of issues) fail(f.rel, i);
      for (const doc of documents) {
        doc.object.metadata.annotations = { ...doc.object.metadata.annotations, [APPLIED_FROM_DIRECTORY_ANNOTATION]: this.directory };
        const first = desired.get(doc.key);
        if (first) fail(doc.file, issue(display, doc.doc, undefined, `${doc.ref} is already defined in ${join(this.directory, first.file)} doc ${first.doc}`));
        else desired.set(doc.key, doc);
      }
    }

    // Namespaces first so that what lives in them can follow; then file and document order.
    const order = [...desired.values()].sort((a, b) => rank(a) - rank(b) || (a.file < b.file ? -1 : a.file > b.file ? 1 : a.doc - b.doc));
    for (const doc of order) {
      if (this.stopped) break;
      try {
        const outcome = await this.applyOne(doc);
        result[outcome]++;
        if (outcome === "applied") this.log.info("manifest applied", { object: doc.ref, file: doc.file });
      } catch (e) {
        if (!(e instanceof StoreError && e.reason === "Invalid")) this.storeFailed = true;
        const display = join(this.directory, doc.file);
        const causes = e instanceof StoreError ? e.causes : [];
        if (causes.length) for (const c of causes) fail(doc.file, issue(display, doc.doc, c.field || undefined, c.message));
        else fail(doc.file, issue(display, doc.doc, undefined, errorText(e)));
      }
    }
    if (!this.stopped) await this.prune(desired, protectedFiles, result);
    // A rejected write may succeed later (conflicts, a namespace created meanwhile): let the periodic scan retry
    // it. Broken files are not retried until they change, so their problems are reported once per edit.
    if (this.storeFailed) this.fingerprint = undefined;
    return this.finish(result);
  }

  private finish(result: ManifestResult): ManifestResult {
    for (const i of result.errors) {
      try {
        this.report(i);
      } catch (e) {
        this.log.error("manifest report callback failed", { error: errorText(e) });
      }
    }
    this.last = result;
    return result;
  }

  /** Create, or update what the manifest owns, retrying when a controller wrote in between. */
  private async applyOne(doc: ManifestDocument): Promise<"applied" | "unchanged"> {
    const d = doc.descriptor;
    const { name, namespace } = doc.object.metadata;
    for (let attempt = 0; attempt < MAX_CONFLICT_RETRIES; attempt++) {
      const current = await this.store.get(d, namespace, name);
      if (!current) {
        try {
          await this.store.create(structuredClone(doc.object));
          return "applied";
        } catch (e) {
          if (isAlreadyExists(e)) continue;
          throw e;
        }
      }
      const next = desiredFrom(current, doc.object);
      if (deepEqual(next, current)) return "unchanged";
      try {
        await this.store.update(next);
        return "applied";
      } catch (e) {
        if (isConflict(e)) continue;
        throw e;
      }
    }
    throw new Error(`gave up after ${MAX_CONFLICT_RETRIES} conflicting writes; will retry on the next change`);
  }

  /** Delete what came from this directory and is no longer in it; Namespaces last. */
  private async prune(desired: Map<string, ManifestDocument>, protectedFiles: Set<string>, result: ManifestResult): Promise<void> {
    for (const d of [...MANIFEST_KINDS].sort((a, b) => rank({ descriptor: b }) - rank({ descriptor: a }))) {
      let items: KubeObject[];
      try {
        items = (await this.store.list(d)).items;
      } catch (e) {
        this.storeFailed = true;
        result.errors.push(issue(this.directory, undefined, undefined, `cannot list ${d.plural} to prune: ${errorText(e)}`));
        continue;
      }
      for (const obj of items) {
        const from = obj.metadata.annotations?.[APPLIED_FROM_ANNOTATION];
        const { name, namespace } = obj.metadata;
        if (from === undefined || obj.metadata.deletionTimestamp) continue;
        if (desired.has(objectKey(d, namespace, name))) continue;
        const fromDirectory = obj.metadata.annotations?.[APPLIED_FROM_DIRECTORY_ANNOTATION];
        if (fromDirectory !== this.directory) {
          result.keptFromElsewhere++;
          this.reportElsewhere(fromDirectory, objectRef(d, namespace, name), from);
          continue;
        }
        if (protectedFiles.has(from) || this.options.prune === false) continue;
        try {
          await this.store.delete(d, namespace, name);
          result.deleted++;
          this.log.info("manifest object deleted", { object: objectRef(d, namespace, name), file: from });
        } catch (e) {
          if (isNotFound(e)) continue;
          this.storeFailed = true;
          result.errors.push(issue(join(this.directory, from), undefined, undefined, `cannot delete ${objectRef(d, namespace, name)}: ${errorText(e)}`));
        }
      }
    }
  }

  private reportElsewhere(directory: string | undefined, object: string, file: string): void {
    const key = directory ?? "";
    if (this.reportedElsewhere.has(key)) return;
    this.reportedElsewhere.add(key);
    if (directory) {
      this.log.warn("manifests directory changed: objects applied from the previous directory are kept, not pruned (delete them with kubectl if unwanted)", { directory: this.directory, previous: directory, example: object });
    } else {
      this.log.warn("objects applied from a manifests directory that was not recorded are kept, not pruned (delete them with kubectl if unwanted)", { directory: this.directory, example: object, file });
    }
  }
}

const rank = (doc: { descriptor: { kind: string } }) => (doc.descriptor.kind === "Namespace" ? 0 : 1);

/** The stored object with the manifest's fields, labels and annotations; status and server metadata kept. */
function desiredFrom(current: KubeObject, manifest: KubeObject): KubeObject {
  const next: KubeObject = { apiVersion: current.apiVersion, kind: current.kind, metadata: structuredClone(current.metadata) };
  for (const [k, v] of Object.entries(manifest)) if (!OWNED_ELSEWHERE.has(k)) next[k] = structuredClone(v);
  if (current.status !== undefined) next.status = structuredClone(current.status);
  for (const key of ["labels", "annotations"] as const) {
    const value = manifest.metadata[key];
    const kept: Record<string, string> = {};
    for (const owned of CONTROLLER_OWNED[key]) {
      const have = current.metadata[key]?.[owned];
      if (have !== undefined && value?.[owned] === undefined) kept[owned] = have;
    }
    const merged = { ...structuredClone(value ?? {}), ...kept };
    if (Object.keys(merged).length) next.metadata[key] = merged;
    else delete next.metadata[key];
  }
  // A Depot's list (and any other controller-owned spec field) stays unless the manifest itself sets it.
  const currentSpec = current.spec as Record<string, unknown> | undefined;
  const nextSpec = next.spec as Record<string, unknown> | undefined;
  if (currentSpec && nextSpec) for (const f of CONTROLLER_OWNED.spec) if (nextSpec[f] === undefined && currentSpec[f] !== undefined) nextSpec[f] = structuredClone(currentSpec[f]);
  return next;
}
