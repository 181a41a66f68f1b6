// Version controller: turns a Version into a verified artifact in storage and a status that says so. Adds the
// finalizer (which deletes the stored object when the Version goes away), checks the published object cheaply on
// every reconcile (restoring it when missing or changed), re-hashes it periodically, and honours forceSync.
import { Version, type VersionObject } from "../api/kinds.ts";
import { FINALIZER } from "../api/meta.ts";
import { artifactFileName } from "../api/naming.ts";
import { RepackageError } from "../artifacts/repackage.ts";
import type { Logger } from "../log.ts";
import { DELETION_REQUESTED_BY_ANNOTATION } from "../api/ownership.ts";
import { UpstreamError } from "../sources/http.ts";
import { IntegrityError } from "../sources/opentofu.ts";
import type { ObjectCache } from "../store/multi-namespace-cache.ts";
import type { ResourceStore } from "../store/types.ts";
import type { StorageFor } from "../storage/locate.ts";
import { StorageError } from "../storage/types.ts";
import { ArtifactPublisher, artifactExtension, type Outcome, type PublishedState } from "./artifact-publisher.ts";
import { conditionOf, describeError, readiness, setConditions, type ConditionInput } from "./conditions.ts";
import type { Controller, ControllerManager, ObjectKey, ReconcileContext, ReconcileResult } from "./manager.ts";
import { ModuleSpecError } from "./fetch-module.ts";
import { DOCS_CONDITION, documentModuleVersion, documentStoredModule } from "./module-docs-configmap.ts";
import { saveReadme } from "./readme.ts";
import { recordNotices } from "./version-notices.ts";
import type { Upstreams } from "./upstreams.ts";
import { patchSpec, patchStatusIfChanged, setFinalizers } from "./writes.ts";
import type { ScanReview, VersionScanner } from "./version-scan.ts";

export const VERSION_CONTROLLER = "version";
export const SYNCED_MESSAGE = "Successfully synced version";
/** Synced reasons meaning "upstream's newer bytes were refused; the published artifact is still served". */
const HELD_BACK = new Set(["ImmutableChecksumMismatch", "ScanPolicyViolation", "ScanFailed"]);

export interface VersionControllerOptions {
  storageFor: StorageFor;
  upstreams: Upstreams;
  tmpDir?: string;
  /** Full re-hash of stored objects at this interval (default 24 h). */
  rehashIntervalMs?: number;
  concurrency?: number;
  /** The scan stage (publish gate); absent = scanning off. */
  scanner?: (publisher: ArtifactPublisher, versions: ObjectCache<VersionObject>) => VersionScanner;
}

/** Fold a scan review into a status report: a blocked Version is stored but not synced (and not served). */
function gated(status: Record<string, unknown>, conditions: ConditionInput[], review: ScanReview | undefined): [Record<string, unknown>, ConditionInput[]] {
  if (!review) return [status, conditions];
  const held = review.blocked ? { synced: false, syncStatus: `${review.error ? "Scan failed" : "Scan policy violation"}: ${review.message}` } : {};
  return [{ ...status, ...review.status, ...held }, [...conditions, ...review.conditions]];
}

function specProblem(v: VersionObject): string | undefined {
  if (v.metadata.name.includes(".")) return `Version name '${v.metadata.name}' is invalid: name must not contain '.' characters: rename the resource and reapply`;
  if (v.spec.moduleConfigRef && v.spec.providerConfigRef) return "Only one of 'ModuleConfigRef' or 'ProviderConfigRef' can be provided: both are defined";
  if (v.spec.type === "Module" && !v.spec.moduleConfigRef) return `moduleConfigRef is required for module version '${v.metadata.name}'`;
  if (v.spec.type === "Provider" && !v.spec.providerConfigRef) return `providerConfigRef is required for provider version '${v.metadata.name}'`;
  return undefined;
}

/** What a failure means for the user, as a condition reason. */
function failureReason(e: unknown): string {
  if (e instanceof UpstreamError) return { NotFound: "UpstreamNotFound", RateLimited: "RateLimited", Unauthorized: "UpstreamUnauthorized", Transient: "UpstreamUnavailable", Invalid: "UpstreamInvalid" }[e.kind];
  if (e instanceof IntegrityError) return "UpstreamVerificationFailed";
  if (e instanceof RepackageError) return "InvalidArchive";
  if (e instanceof ModuleSpecError) return "InvalidSpec";
  if (e instanceof StorageError && e.kind === "NotAllowed") return "StorageNotAllowed";
  if (e instanceof StorageError) return e.kind === "Credentials" || e.kind === "Denied" ? "StorageAccessDenied" : "StorageError";
  return "FetchFailed";
}

export class VersionController implements Controller {
  readonly name = VERSION_CONTROLLER;
  readonly kind = Version;
  readonly concurrency: number;
  private readonly versions: ObjectCache<VersionObject>;
  private readonly publisher: ArtifactPublisher;
  private readonly rehashIntervalMs: number;
  private readonly scanner?: VersionScanner;
  private readonly tmpDir?: string;

  constructor(
    private readonly store: ResourceStore,
    manager: ControllerManager,
    options: VersionControllerOptions,
  ) {
    this.versions = manager.cache<VersionObject>(Version);
    this.concurrency = options.concurrency ?? 4;
    this.rehashIntervalMs = options.rehashIntervalMs ?? 24 * 3_600_000;
    this.tmpDir = options.tmpDir;
    this.publisher = new ArtifactPublisher(options.storageFor, options.upstreams, { tmpDir: options.tmpDir, rehashIntervalMs: this.rehashIntervalMs });
    this.scanner = options.scanner?.(this.publisher, this.versions);
  }

  async reconcile(key: ObjectKey, { log, signal }: ReconcileContext): Promise<ReconcileResult | void> {
    // Read fresh, not from the cache: a reconcile woken by one of our own earlier writes may run before the cache
    // has seen the status we wrote last, and acting on that would fetch and upload the artifact a second time.
    if (!this.versions.get(key.namespace, key.name)) return;
    let v = await this.store.get<VersionObject>(Version, key.namespace, key.name);
    if (!v) return;
    if (v.metadata.deletionTimestamp) return this.finalize(v, log);
    if (!v.metadata.finalizers?.includes(FINALIZER)) {
      v = (await setFinalizers(this.store, Version, v, [...(v.metadata.finalizers ?? []), FINALIZER])) as VersionObject | undefined;
      if (!v) return;
    }
    if (await recordNotices(this.store, v, log)) v = (await this.store.get<VersionObject>(Version, key.namespace, key.name)) ?? v;
    const problem = specProblem(v);
    if (problem) return this.report(v, { synced: false, syncStatus: problem }, readiness(false, "InvalidSpec", problem));
    if (!v.spec.fileName) {
      v = (await patchSpec(this.store, Version, v, { fileName: artifactFileName(artifactExtension(v)) })) as VersionObject | undefined;
      if (!v) return;
    }

    let published: PublishedState;
    try {
      const checked = await this.publisher.check(v, log);
      published = checked.state;
      if (published === "intact" && !v.spec.forceSync) {
        const verified = { verifiedPin: checked.pin, ...(checked.pin !== v.status?.verifiedPin || this.rehashDue(v) ? { verifiedAt: now() } : {}) };
        // A refused immutable re-fetch stays reported until a later fetch matches again: the artifact is served,
        // but upstream no longer produces it, and the user should know.
        const diverged = HELD_BACK.has(v.status?.conditions?.find((c) => c.type === "Synced")?.reason ?? "");
        const review = await this.scanner?.review(v, { fileName: v.spec.fileName!, checksum: v.status!.checksum! }, { force: false, log, signal });
        if (diverged && !review) await patchStatusIfChanged(this.store, Version, v, { synced: true, ...verified });
        else if (diverged) await this.report(v, ...gated({ synced: true, ...verified }, [], review));
        else {
          const docs = await this.documentIfUndocumented(v, log);
          await this.report(v, ...gated({ synced: true, syncStatus: SYNCED_MESSAGE, ...verified }, [...readiness(true, "Synced", SYNCED_MESSAGE), ...(docs ? [docs] : [])], review));
        }
        if (review?.error) throw review.error; // retried with backoff; the artifact is not fetched again
        return { requeueAfterMs: Math.min(this.rehashIntervalMs, review?.requeueAfterMs ?? Infinity) };
      }
    } catch (e) {
      // Outside the storage policy: nothing was contacted and no credential loaded; the user must change the field.
      if (e instanceof StorageError && e.kind === "NotAllowed") return this.report(v, { synced: false, syncStatus: describeError(e) }, readiness(false, "StorageNotAllowed", describeError(e)));
      if (e instanceof StorageError && e.kind === "Invalid") return this.report(v, { synced: false, syncStatus: describeError(e) }, readiness(false, "InvalidSpec", describeError(e)));
      throw e;
    }
    if (published === "missing" || published === "corrupt") log.warn("restoring artifact", { reason: published });

    let outcome: Outcome;
    try {
      outcome = await this.publisher.fetchAndStore(v, published, signal);
    } catch (e) {
      await this.reportFailure(v, e, published === "intact");
      throw e; // backoff; an UpstreamError with retryAt (rate limit) is retried at that time instead
    }
    const review = await this.apply(v, outcome, published, log, signal);
    if (review?.error) throw review.error;
    return { requeueAfterMs: Math.min(this.rehashIntervalMs, review?.requeueAfterMs ?? Infinity) };
  }

  /** Module Versions published before docs existed get them once, from the stored archive. */
  private async documentIfUndocumented(v: VersionObject, log: Logger): Promise<ConditionInput | undefined> {
    if (v.spec.type !== "Module" || conditionOf(v.status?.conditions, DOCS_CONDITION)) return undefined;
    return documentStoredModule(this.store, v, this.publisher.locate(v), artifactExtension(v) === ".zip" ? "zip" : "tar.gz", log, this.tmpDir);
  }

  /**
   * Each Version's re-hash comes due a little earlier than the interval, by a fixed share (0–50 %) derived from its
   * uid: Versions verified together (a first sync, a restart) drift apart, so the scrub runs continuously at a
   * bounded rate instead of re-reading every object in one burst, and each is still visited within the interval.
   */
  private rehashDue(v: VersionObject): boolean {
    const spread = (parseInt((v.metadata.uid ?? "").replace(/-/g, "").slice(-6) || "0", 16) / 0xffffff) * 0.5;
    return !(Date.parse(v.status?.verifiedAt ?? "") > Date.now() - this.rehashIntervalMs * (1 - spread));
  }

  private async apply(v: VersionObject, outcome: Outcome, published: PublishedState, log: Logger, signal: AbortSignal): Promise<ScanReview | undefined> {
    const { fetched } = outcome;
    if (outcome.kind === "immutable-refused") {
      const message = `version is marked immutable: archive checksum doesn't match existing checksum: got '${outcome.newChecksum}'`;
      log.warn("immutable version changed upstream; keeping the published artifact", { newChecksum: outcome.newChecksum });
      await this.report(v, { synced: published === "intact", syncStatus: message }, [
        { type: "Ready", status: published === "intact" ? "True" : "False", reason: "ImmutableChecksumMismatch", message },
        { type: "Synced", status: "False", reason: "ImmutableChecksumMismatch", message },
      ]);
      if (v.spec.forceSync) await patchSpec(this.store, Version, v, { forceSync: false });
      return undefined;
    }
    // Different bytes replacing served ones (a moved tag, forceSync): they are scanned before they are adopted, and a
    // gate that holds them back leaves the published artifact served, as an immutable refusal does.
    let review: ScanReview | undefined;
    if (outcome.kind === "published" && outcome.replacedFileName && published === "intact" && v.status?.synced === true) {
      review = await this.scanner?.review(v, { fileName: fetched.fileName, checksum: outcome.checksum }, { force: true, log, signal });
      if (review?.blocked) return this.refuseReplacement(v, fetched.fileName, review, log);
    }
    let current = v;
    if (outcome.kind === "published" && outcome.replacedFileName && fetched.fileName !== v.spec.fileName) {
      current = ((await patchSpec(this.store, Version, v, { fileName: fetched.fileName })) as VersionObject | undefined) ?? v;
    }
    const readmeRef = fetched.readme ? await saveReadme(this.store, current, fetched.readme) : undefined;
    const docs = fetched.moduleSources ? await documentModuleVersion(this.store, current, fetched.moduleSources, log) : undefined;
    const checksum = outcome.kind === "published" ? outcome.checksum : v.status!.checksum!;
    // New bytes (or forceSync) are scanned before the status that would let the server serve them is written.
    // "unchanged": the re-fetched copy matched and was dropped; the published object is the one to scan.
    const scanned = outcome.kind === "unchanged" ? current.spec.fileName! : fetched.fileName;
    review ??= await this.scanner?.review(current, { fileName: scanned, checksum }, { force: true, log, signal });
    await this.report(
      current,
      ...gated({
        synced: true,
        syncStatus: SYNCED_MESSAGE,
        checksum,
        archiveSizeBytes: fetched.put.size,
        verifiedPin: outcome.kind === "published" ? fetched.put.pin : v.status?.verifiedPin,
        verifiedAt: now(),
        ...(fetched.protocols ? { protocols: fetched.protocols } : {}),
        ...(fetched.h1 ? { h1: fetched.h1 } : {}),
        ...(readmeRef ? { readmeConfigMapRef: readmeRef } : {}),
      }, [...readiness(true, "Synced", SYNCED_MESSAGE), ...(docs ? [docs] : [])], review),
    );
    if (outcome.kind === "published" && outcome.replacedFileName && outcome.replacedFileName !== fetched.fileName) {
      await this.publisher.removeReplaced(v, outcome.replacedFileName, log);
    }
    if (current.spec.forceSync) await patchSpec(this.store, Version, current, { forceSync: false });
    log.info("version synced", { checksum, size: fetched.put.size, source: fetched.source, fileName: fetched.fileName, outcome: outcome.kind, ...(review ? { scan: review.message, blocked: review.blocked } : {}) });
    return review;
  }

  /** Keep serving the published artifact; drop the re-fetched one the scan gate holds back, and say why. */
  private async refuseReplacement(v: VersionObject, fileName: string, review: ScanReview, log: Logger): Promise<undefined> {
    await this.publisher.removeReplaced(v, fileName, log);
    const reason = review.error ? "ScanFailed" : "ScanPolicyViolation";
    const message = `the re-fetched archive ${review.error ? "could not be scanned" : "is refused by the scan policy"}; the published one stays served: ${review.message}`;
    log.warn("re-fetched archive held back by the scan gate; keeping the published artifact", { message });
    await this.report(v, { synced: true }, [{ type: "Synced", status: "False", reason, message }]);
    if (v.spec.forceSync) await patchSpec(this.store, Version, v, { forceSync: false });
    return undefined;
  }

  private async reportFailure(v: VersionObject, e: unknown, stillServed: boolean): Promise<void> {
    const what = v.spec.type === "Module" ? "module archive" : "provider archive";
    // A storage failure (a full disk, denied credentials) is not an upstream one: say which side failed.
    const message = `Failed to ${e instanceof StorageError ? "store" : "retrieve"} ${what}: ${describeError(e)}`;
    const reason = failureReason(e);
    await this.report(v, { synced: stillServed, syncStatus: message }, [
      { type: "Ready", status: stillServed ? "True" : "False", reason, message },
      { type: "Synced", status: "False", reason, message },
    ]);
  }

  private report(v: VersionObject, status: Record<string, unknown>, conditions: ConditionInput[]): Promise<void> {
    return patchStatusIfChanged(this.store, Version, v, {
      ...status,
      observedGeneration: v.metadata.generation,
      conditions: setConditions(v.status?.conditions, conditions, v.metadata.generation),
    });
  }

  /** The finalizer: delete the stored object, then let the Version go. */
  private async finalize(v: VersionObject, log: Logger): Promise<void> {
    if (!v.metadata.finalizers?.includes(FINALIZER)) return;
    if (v.spec.fileName) {
      try {
        const { storage, key } = this.publisher.locate(v);
        await storage.delete(key);
        // Who asked: the owner whose change made its Module/Provider controller delete it (docs/ownership.md), or a
        // direct delete of the Version (kubectl delete, or its Module/Provider deleted and garbage-collected).
        const requestedBy = v.metadata.annotations?.[DELETION_REQUESTED_BY_ANNOTATION] ?? "a direct delete of the Version or of its owner";
        log.info("artifact deleted", { fileName: v.spec.fileName, requestedBy });
      } catch (e) {
        // A refused storage target was never written to by us: nothing to delete there.
        if (!(e instanceof StorageError && (e.kind === "Invalid" || e.kind === "NotAllowed"))) throw e; // retried with backoff; Version stays until done
      }
    }
    await setFinalizers(this.store, Version, v, (v.metadata.finalizers ?? []).filter((f) => f !== FINALIZER));
  }
}

const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
