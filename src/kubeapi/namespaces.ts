// The namespace lifecycle of the API server and its namespace controller: deleting a Namespace marks it
// Terminating (a `kubernetes` finalizer holds it), refuses new content in it, and shortly afterwards deletes
// everything inside (honouring the contents' own finalizers); once it is empty the Namespace goes. Namespaces left
// Terminating by a restart are resumed.
import { ALL_KINDS, Namespace } from "../api/kinds.ts";
import type { KubeObject } from "../api/meta.ts";
import type { Logger } from "../log.ts";
import { isConflict, isNotFound } from "../store/errors.ts";
import type { ResourceStore } from "../store/types.ts";

export const NAMESPACE_FINALIZER = "kubernetes";
const POLL_MS = 1000;

export class NamespaceLifecycle {
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private stopped = false;

  constructor(
    private readonly store: ResourceStore,
    private readonly log: Logger,
    /** Delay before the contents go, so that `kubectl delete -f` of a file listing the namespace first still finds them. */
    private readonly graceMs = 2000,
  ) {}

  async isTerminating(namespace: string | undefined): Promise<boolean> {
    if (!namespace) return false;
    const ns = await this.store.get<KubeObject>(Namespace, undefined, namespace);
    return !!ns?.metadata.deletionTimestamp;
  }

  /** Mark `ns` Terminating and schedule its emptying; returns the Namespace as it now is. */
  async beginDeletion(ns: KubeObject, preconditionRv?: string): Promise<KubeObject> {
    const name = ns.metadata.name;
    if (!ns.metadata.deletionTimestamp) {
      const next = structuredClone(ns);
      next.metadata.finalizers = [...new Set([...(next.metadata.finalizers ?? []), NAMESPACE_FINALIZER])];
      next.status = { ...(next.status as object), phase: "Terminating" };
      if (preconditionRv) next.metadata.resourceVersion = preconditionRv;
      await this.store.update(next);
      await this.store.delete(Namespace, undefined, name);
    }
    this.schedule(name, this.graceMs);
    return (await this.store.get<KubeObject>(Namespace, undefined, name)) ?? ns;
  }

  /** Pick up namespaces a previous process left Terminating. */
  async resume(): Promise<void> {
    const { items } = await this.store.list<KubeObject>(Namespace, {});
    for (const ns of items) if (ns.metadata.deletionTimestamp && ns.metadata.finalizers?.includes(NAMESPACE_FINALIZER)) this.schedule(ns.metadata.name, 0);
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  private schedule(name: string, delayMs: number): void {
    if (this.stopped || this.timers.has(name)) return;
    const timer = setTimeout(() => {
      this.timers.delete(name);
      this.finalize(name).then(
        (done) => done || this.schedule(name, POLL_MS),
        (e) => {
          this.log.warn("namespace deletion failed; retrying", { namespace: name, error: e });
          this.schedule(name, POLL_MS);
        },
      );
    }, delayMs);
    timer.unref?.();
    this.timers.set(name, timer);
  }

  /** Delete what is left in the namespace; when nothing is, release the Namespace. True when finished. */
  private async finalize(name: string): Promise<boolean> {
    const ns = await this.store.get<KubeObject>(Namespace, undefined, name);
    if (!ns || !ns.metadata.deletionTimestamp) return true;
    let remaining = 0;
    for (const kind of ALL_KINDS) {
      if (!kind.namespaced) continue;
      const { items } = await this.store.list<KubeObject>(kind, { namespace: name });
      for (const o of items) {
        // Whatever carries finalizers stays (Terminating) until its controller lets go.
        if (o.metadata.finalizers?.length) remaining++;
        if (o.metadata.deletionTimestamp) continue;
        await this.store.delete(kind, name, o.metadata.name).catch((e) => {
          if (!isNotFound(e)) throw e;
        });
      }
    }
    if (remaining > 0) {
      // Deleted now or waiting for their own finalizers: look again shortly.
      return false;
    }
    const next = structuredClone(ns);
    next.metadata.finalizers = (next.metadata.finalizers ?? []).filter((f) => f !== NAMESPACE_FINALIZER);
    try {
      await this.store.update(next);
    } catch (e) {
      if (isNotFound(e)) return true;
      if (isConflict(e)) return false;
      throw e;
    }
    this.log.info("namespace deleted", { namespace: name });
    return true;
  }
}
