// Depot controller: polls each entry's upstream (GitHub releases/tags for modules, the OpenTofu registry for
// providers), filters by the entry's Terraform-style constraint and merges the result into a Module or Provider,
// which the Module/Provider controllers turn into Versions and the Version controller into artifacts.
//
// Scheduling is per entry, kept in status.entries[].nextPollTime: an entry is polled when the Depot's spec changed
// (generation), when its interval is up (pollingIntervalMinutes; no polling when unset), or when its retry time
// after a failure has come (exponential backoff capped by the interval; a rate limit's reset time). Reconciles in
// between (resyncs, our own status writes) poll nothing and write nothing. One entry's failure (bad constraint,
// upstream 404/5xx, rate limit) is reported on that entry and never blocks the others; a failed or empty upstream
// answer never changes a Module's or Provider's versions.
import { Depot, Module, Provider, type DepotObject } from "../api/kinds.ts";
import { LABELS, type KubeObject } from "../api/meta.ts";
import { ownerNameFrom } from "../api/naming.ts";
import type { DepotEntryStatus } from "../api/types.ts";
import type { Logger } from "../log.ts";
import type { ObjectCache } from "../store/multi-namespace-cache.ts";
import type { ResourceStore } from "../store/types.ts";
import { describeError, readiness, setConditions } from "./conditions.ts";
import { applyEntry, releaseManaged } from "./depot-apply.ts";
import { recordDepotPoll } from "../metrics/controllers.ts";
import { classifyFailure, discoverModule, discoverProvider, type Discovery } from "./depot-discovery.ts";
import { entryKey, resolveEntries, type DepotEntry, type InvalidEntry } from "./depot-entries.ts";
import type { Controller, ControllerManager, ObjectKey, ReconcileContext, ReconcileResult } from "./manager.ts";
import type { Upstreams } from "./upstreams.ts";
import { patchStatusIfChanged } from "./writes.ts";

export const DEPOT_CONTROLLER = "depot";

export interface DepotControllerOptions {
  upstreams: Upstreams;
  /** Length of one `pollingIntervalMinutes` minute (tests shorten it; default 60 s). */
  minuteMs?: number;
  /** First retry delay after a failed poll, doubled per consecutive failure (default 30 s). */
  backoffBaseMs?: number;
  /** Longest retry delay when the Depot has no polling interval (default 15 min). */
  backoffMaxMs?: number;
  /** Entries of one Depot polled at the same time (default 4). */
  entryConcurrency?: number;
  now?: () => number;
}

interface Memo {
  uid: string;
  generation: number | undefined;
  entries: Map<string, DepotEntryStatus>;
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
const isoMs = (ms: number) => new Date(ms).toISOString();
const time = (s: string | undefined) => (s ? Date.parse(s) : NaN);

export class DepotController implements Controller {
  readonly name = DEPOT_CONTROLLER;
  readonly kind = Depot;
  readonly concurrency = 2;
  private readonly depots: ObjectCache<DepotObject>;
  private readonly modules: ObjectCache<KubeObject>;
  private readonly providers: ObjectCache<KubeObject>;
  private readonly memo = new Map<string, Memo>();
  private readonly minuteMs: number;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  private readonly entryConcurrency: number;
  private readonly now: () => number;

  constructor(
    private readonly store: ResourceStore,
    manager: ControllerManager,
    private readonly options: DepotControllerOptions,
  ) {
    this.depots = manager.cache<DepotObject>(Depot);
    this.modules = manager.cache(Module);
    this.providers = manager.cache(Provider);
    this.minuteMs = options.minuteMs ?? 60_000;
    this.backoffBaseMs = options.backoffBaseMs ?? 30_000;
    this.backoffMaxMs = options.backoffMaxMs ?? 15 * 60_000;
    this.entryConcurrency = options.entryConcurrency ?? 4;
    this.now = options.now ?? Date.now;
  }

  async reconcile(key: ObjectKey, { log }: ReconcileContext): Promise<ReconcileResult | void> {
    const memoKey = `${key.namespace}/${key.name}`;
    const depot = this.depots.get(key.namespace, key.name);
    if (!depot || depot.metadata.deletionTimestamp) {
      // Nothing to clean up: managed Modules/Providers carry no ownerReference and stay.
      this.memo.delete(memoKey);
      return;
    }
    const generation = depot.metadata.generation;
    const memo = this.memo.get(memoKey);
    // Our own last results are fresher than the cache (which may not have seen our last status write yet).
    const fresh = memo !== undefined && memo.uid === depot.metadata.uid ? memo : undefined;
    const prior = fresh ? fresh.entries : new Map((depot.status?.entries ?? []).map((e) => [entryKey(e), e]));
    const specChanged = fresh ? fresh.generation !== generation : depot.status?.observedGeneration !== generation;
    const now = this.now();
    const intervalMs = depot.spec.pollingIntervalMinutes ? depot.spec.pollingIntervalMinutes * this.minuteMs : undefined;

    const { entries, invalid, order } = resolveEntries(depot);
    const due = entries.filter((e) => {
      const prev = prior.get(entryKey(e));
      return specChanged || !prev || !prev.lastPollTime || time(prev.nextPollTime) <= now;
    });
    const results = new Map<string, DepotEntryStatus>();
    if (due.length) {
      const polled = await this.pollAll(depot, due, prior, now, intervalMs, log);
      for (const [k, v] of polled) results.set(k, v);
    }
    const byKey = new Map<string, DepotEntryStatus>();
    for (const e of entries) byKey.set(entryKey(e), results.get(entryKey(e)) ?? prior.get(entryKey(e))!);
    for (const bad of invalid) byKey.set(entryKey(bad), invalidStatus(bad, prior.get(entryKey(bad))));
    const statuses = new Map(order.map((k) => [k, byKey.get(k)!]));
    this.memo.set(memoKey, { uid: depot.metadata.uid ?? "", generation, entries: statuses });

    try {
      await this.releaseRemoved(depot, [...entries, ...invalid.filter((i) => i.named)], log);
    } catch (e) {
      // Retried with backoff; the status still reports this poll's results, and why the Depot is not Ready.
      await this.writeStatus(depot, [...statuses.values()], `could not release resources removed from the Depot: ${describeError(e)}`).catch((statusError) => log.warn("could not report the failure in status", { error: statusError }));
      throw e;
    }
    await this.writeStatus(depot, [...statuses.values()]);

    const next = [...statuses.values()].map((s) => time(s.nextPollTime)).filter((t) => Number.isFinite(t));
    if (next.length) return { requeueAfterMs: Math.max(0, Math.min(...next) - this.now()) };
  }

  /** Polls the due entries, a few at a time; a GitHub rate limit defers the remaining GitHub entries of its client. */
  private async pollAll(depot: DepotObject, due: DepotEntry[], prior: Map<string, DepotEntryStatus>, now: number, intervalMs: number | undefined, log: Logger) {
    const out = new Map<string, DepotEntryStatus>();
    const limited = new Map<string, Date>();
    const queue = [...due];
    const worker = async () => {
      for (let entry = queue.shift(); entry; entry = queue.shift()) {
        const prev = prior.get(entryKey(entry));
        const client = entry.kind === "Module" ? `github/${entry.authenticated ? "app" : "anonymous"}` : "opentofu";
        const blockedUntil = limited.get(client);
        if (blockedUntil && blockedUntil.getTime() > this.now()) {
          const message = `not polled: ${client === "opentofu" ? "the OpenTofu registry" : "GitHub"} is rate limiting this controller until ${blockedUntil.toISOString()}`;
          out.set(entryKey(entry), this.failed(entry, prev, now, intervalMs, { reason: "RateLimited", message, retryAt: blockedUntil }));
          continue;
        }
        try {
          const discovery = await this.discover(depot, entry);
          const applied = await applyEntry(this.store, depot, entry, discovery, (name) => this.depots.get(depot.metadata.namespace, name) !== undefined);
          if (applied.action !== "unchanged") {
            log.info("depot entry applied", { entry: entryKey(entry), action: applied.action, added: applied.added, removed: applied.removed });
          }
          out.set(entryKey(entry), {
            kind: entry.kind,
            name: entry.name,
            ready: true,
            reason: discovery.found === 0 ? "NoUpstreamVersions" : "Discovered",
            lastPollTime: iso(now),
            lastSuccessTime: iso(now),
            ...(intervalMs ? { nextPollTime: isoMs(now + intervalMs) } : {}),
            versionsFound: discovery.found,
            versionsMatched: discovery.matched.length,
          });
          recordDepotPoll(entry.kind, "Discovered");
        } catch (e) {
          const failure = classifyFailure(e);
          recordDepotPoll(entry.kind, failure.reason);
          if (failure.retryAt) limited.set(client, failure.retryAt);
          log.warn("depot entry poll failed", { entry: entryKey(entry), reason: failure.reason, error: failure.message });
          out.set(entryKey(entry), this.failed(entry, prev, now, intervalMs, failure));
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.entryConcurrency, due.length) }, worker));
    return out;
  }

  private async discover(depot: DepotObject, entry: DepotEntry): Promise<Discovery> {
    if (entry.kind === "Provider") return discoverProvider(entry, this.options.upstreams.opentofu);
    const github = await this.options.upstreams.github(depot.metadata.namespace ?? "default", entry.authenticated);
    return discoverModule(entry, github);
  }

  private failed(entry: DepotEntry, prev: DepotEntryStatus | undefined, now: number, intervalMs: number | undefined, f: { reason: string; message: string; retryAt?: Date }): DepotEntryStatus {
    const failures = (prev?.ready === false ? (prev.failures ?? 0) : 0) + 1;
    const backoff = Math.min(this.backoffBaseMs * 2 ** Math.min(failures - 1, 20), intervalMs ?? this.backoffMaxMs);
    // A rate limit is retried when it resets (plus a little slack for clock skew), whatever the interval says.
    const retryAt = f.retryAt ? Math.max(f.retryAt.getTime() + 250, now) : now + backoff;
    // The API refused the Module/Provider as invalid: the same write would be refused again, so it waits for an
    // edit of the Depot (or its polling interval) instead of retrying.
    const permanent = f.reason === "InvalidResource";
    return {
      kind: entry.kind,
      name: entry.name,
      ready: false,
      reason: f.reason,
      error: f.message,
      lastPollTime: iso(now),
      ...(prev?.lastSuccessTime ? { lastSuccessTime: prev.lastSuccessTime } : {}),
      ...(permanent ? (intervalMs ? { nextPollTime: isoMs(now + intervalMs) } : {}) : { nextPollTime: isoMs(retryAt) }),
      failures,
      ...(prev?.versionsFound !== undefined ? { versionsFound: prev.versionsFound } : {}),
      ...(prev?.versionsMatched !== undefined ? { versionsMatched: prev.versionsMatched } : {}),
    };
  }

  /** Modules/Providers still labelled for this Depot whose entry is gone from its spec stop being Depot-managed. */
  private async releaseRemoved(depot: DepotObject, current: { kind: string; name: string }[], log: Logger): Promise<void> {
    const wanted = new Set(current.map((e) => `${e.kind}/${e.name}`));
    for (const cache of [this.modules, this.providers]) {
      for (const obj of cache.list(depot.metadata.namespace)) {
        if (ownerNameFrom(obj.metadata, LABELS.depot) !== depot.metadata.name || wanted.has(`${obj.kind}/${obj.metadata.name}`)) continue;
        await releaseManaged(this.store, obj);
        log.info("released resource no longer in the Depot", { kind: obj.kind, name: obj.metadata.name });
      }
    }
  }

  private async writeStatus(depot: DepotObject, entries: DepotEntryStatus[], releaseFailure?: string): Promise<void> {
    const managedBy = (e: DepotEntryStatus) => {
      if (e.lastSuccessTime) return true;
      const cache = e.kind === "Module" ? this.modules : this.providers;
      const managed = cache.get(depot.metadata.namespace, e.name);
      return managed !== undefined && ownerNameFrom(managed.metadata, LABELS.depot) === depot.metadata.name;
    };
    const failing = entries.filter((e) => !e.ready);
    const counts = `${entries.filter((e) => e.kind === "Module").length} module and ${entries.filter((e) => e.kind === "Provider").length} provider entries`;
    const reasons = new Set(failing.map((e) => e.reason));
    const ready = failing.length === 0 && !releaseFailure;
    const reason = releaseFailure ? "ReleaseFailed" : ready ? (entries.length ? "Discovered" : "NoEntries") : reasons.size === 1 ? [...reasons][0]! : "EntriesFailed";
    const message = releaseFailure
      ? releaseFailure
      : ready
        ? `${counts}; all polled successfully`
        : `${failing.length} of ${entries.length} entries failed (existing versions kept): ${failing.map((e) => `${e.kind} ${e.name}: ${e.reason}: ${e.error ?? ""}`).join("; ")}`;
    await patchStatusIfChanged(this.store, Depot, depot, {
      modules: entries.filter((e) => e.kind === "Module" && managedBy(e)).map((e) => e.name),
      providers: entries.filter((e) => e.kind === "Provider" && managedBy(e)).map((e) => e.name),
      entries,
      observedGeneration: depot.metadata.generation,
      conditions: setConditions(depot.status?.conditions, readiness(ready, reason, message), depot.metadata.generation),
    });
  }
}

function invalidStatus(bad: InvalidEntry, prev: DepotEntryStatus | undefined): DepotEntryStatus {
  return {
    kind: bad.kind,
    name: bad.name,
    ready: false,
    reason: bad.reason,
    error: bad.error,
    ...(prev?.lastSuccessTime ? { lastSuccessTime: prev.lastSuccessTime } : {}),
    ...(prev?.versionsFound !== undefined ? { versionsFound: prev.versionsFound } : {}),
    ...(prev?.versionsMatched !== undefined ? { versionsMatched: prev.versionsMatched } : {}),
  };
}
