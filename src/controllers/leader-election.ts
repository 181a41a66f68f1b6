// Leader election on a coordination.k8s.io/v1 Lease, with client-go's semantics: acquire when the lease is free or
// expired, renew every retry period, give up leadership when renewing fails for longer than the renew deadline,
// and release the lease on shutdown so another replica takes over at once. Works on any ResourceStore.
import { hostname } from "node:os";
import { Lease } from "../api/kinds.ts";
import type { KubeObject } from "../api/meta.ts";
import { uuidv7 } from "../api/uuid.ts";
import type { Logger } from "../log.ts";
import { isAlreadyExists, isConflict, isNotFound } from "../store/errors.ts";
import type { ResourceStore } from "../store/types.ts";

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}
type LeaseObject = KubeObject & { spec?: LeaseSpec };

export interface LeaderElectionOptions {
  store: ResourceStore;
  namespace: string;
  name: string;
  identity?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  log: Logger;
  onStartedLeading: () => void | Promise<void>;
  /** Called when leadership is lost (not on a voluntary release); the process should stop its work. */
  onStoppedLeading: () => void | Promise<void>;
  now?: () => number;
}

/** MicroTime, as the API server formats it. */
const microTime = (ms: number) => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");

export class LeaderElector {
  readonly identity: string;
  private readonly leaseMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryMs: number;
  private readonly now: () => number;
  private leading = false;
  private stopped = false;
  private lastRenew = 0;
  private failure: string | undefined;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;

  constructor(private readonly o: LeaderElectionOptions) {
    this.identity = o.identity ?? `${hostname()}_${uuidv7()}`;
    this.leaseMs = o.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = o.renewDeadlineMs ?? 10_000;
    this.retryMs = o.retryPeriodMs ?? 2_000;
    this.now = o.now ?? Date.now;
    if (!(this.leaseMs > this.renewDeadlineMs && this.renewDeadlineMs > this.retryMs)) {
      throw new Error("leader election needs lease duration > renew deadline > retry period");
    }
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** Why the last acquire/renew attempt failed (e.g. the Lease's namespace does not exist); undefined when it worked. */
  get lastError(): string | undefined {
    return this.failure;
  }

  start(): void {
    this.loop ??= this.tick();
  }

  private async tick(): Promise<void> {
    while (!this.stopped) {
      try {
        const held = await this.tryAcquireOrRenew();
        this.failure = undefined;
        if (held) {
          this.lastRenew = this.now();
          if (!this.leading) {
            this.leading = true;
            this.o.log.info("became leader", { lease: `${this.o.namespace}/${this.o.name}`, identity: this.identity, took: held });
            await this.o.onStartedLeading();
          }
        } else if (this.leading) await this.lose("lease is held by another replica");
      } catch (error) {
        this.failure = error instanceof Error ? error.message : String(error);
        this.o.log.warn("leader election attempt failed", { lease: this.o.name, error });
        if (this.leading && this.now() - this.lastRenew > this.renewDeadlineMs) await this.lose("could not renew the lease within the renew deadline");
      }
      if (this.stopped) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.retryMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  private async lose(reason: string): Promise<void> {
    this.leading = false;
    this.o.log.error("lost leadership", { lease: this.o.name, reason });
    await this.o.onStoppedLeading();
  }

  /**
   * One attempt. Returns how the lease is held now — "created" (no Lease existed), "renewed" (ours already),
   * "released" (the previous holder gave it up on shutdown) or "expired" (the previous holder stopped renewing) —
   * or false when another replica holds it. How a lease was taken is logged, so a failover can be told apart.
   */
  private async tryAcquireOrRenew(): Promise<false | "created" | "renewed" | "released" | "expired"> {
    const { store, namespace, name } = this.o;
    const now = this.now();
    const lease = await store.get<LeaseObject>(Lease, namespace, name);
    const spec: LeaseSpec = { holderIdentity: this.identity, leaseDurationSeconds: Math.ceil(this.leaseMs / 1000), renewTime: microTime(now) };
    if (!lease) {
      try {
        await store.create<LeaseObject>({ apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name, namespace }, spec: { ...spec, acquireTime: microTime(now), leaseTransitions: 0 } });
        return "created";
      } catch (e) {
        if (isAlreadyExists(e)) return false;
        throw e;
      }
    }
    const current = lease.spec ?? {};
    const mine = current.holderIdentity === this.identity;
    const expiresAt = Date.parse(current.renewTime ?? "") + (current.leaseDurationSeconds ?? 0) * 1000;
    const free = !current.holderIdentity || !(expiresAt > now);
    if (!mine && !free) return false;
    const next: LeaseSpec = mine
      ? { ...current, ...spec }
      : { ...spec, acquireTime: microTime(now), leaseTransitions: (current.leaseTransitions ?? 0) + (current.holderIdentity ? 1 : 0) };
    try {
      await store.update<LeaseObject>({ ...lease, spec: next });
      return mine ? "renewed" : current.holderIdentity ? "expired" : "released";
    } catch (e) {
      if (isConflict(e) || isNotFound(e)) return false;
      throw e;
    }
  }

  /** Stop electing; when leading, release the lease (empty holder) so a standby takes over immediately. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop?.catch(() => {});
    if (!this.leading) return;
    this.leading = false;
    try {
      const lease = await this.o.store.get<LeaseObject>(Lease, this.o.namespace, this.o.name);
      if (lease?.spec?.holderIdentity === this.identity) {
        await this.o.store.update<LeaseObject>({ ...lease, spec: { ...lease.spec, holderIdentity: "", leaseDurationSeconds: 1, renewTime: microTime(this.now()) } });
        this.o.log.info("released leadership", { lease: this.o.name });
      }
    } catch (error) {
      this.o.log.warn("could not release the lease; it will expire", { lease: this.o.name, error });
    }
  }
}
