// Watches of the embedded store: a ring buffer of recent events (the watch cache an API server keeps) and the
// per-watch delivery queues. Each watch delivers asynchronously and in order; a throwing handler is logged and
// never affects the store or the other watches.
import { apiVersionOf, type KindDescriptor } from "../api/kinds.ts";
import type { KubeObject } from "../api/meta.ts";
import { StoreError, gone } from "./errors.ts";
import { parseSelector, type LabelSelector } from "./selector.ts";
import type { StoreLogger, Watch, WatchEvent, WatchHandler, WatchOptions } from "./types.ts";

/** One committed change. `old` is the object before the change (for label-selector transitions). */
export interface StoredEvent {
  rev: number;
  kindKey: string;
  namespace: string;
  type: "ADDED" | "MODIFIED" | "DELETED";
  object: KubeObject;
  old?: KubeObject;
}


export interface WatchRequest {
  kindKey: string;
  descriptor: KindDescriptor;
  options: WatchOptions;
  /** The objects to announce as ADDED when the watch has no resourceVersion; read at subscription time. */
  snapshot: () => KubeObject[];
}

/** Fixed-capacity circular buffer of events in revision order. */
class EventRing {
  private readonly buf: (StoredEvent | undefined)[];
  private start = 0;
  private count = 0;
  /** Every event with rev > completeAfter is in the ring. */
  completeAfter: number;

  constructor(readonly capacity: number, currentRev: number) {
    this.buf = new Array(capacity);
    this.completeAfter = currentRev;
  }

  push(e: StoredEvent): void {
    if (this.count === this.capacity) {
      this.completeAfter = this.buf[this.start]!.rev;
      this.buf[this.start] = e;
      this.start = (this.start + 1) % this.capacity;
    } else {
      this.buf[(this.start + this.count) % this.capacity] = e;
      this.count++;
    }
  }

  *after(rev: number): Generator<StoredEvent> {
    for (let i = 0; i < this.count; i++) {
      const e = this.buf[(this.start + i) % this.capacity]!;
      if (e.rev > rev) yield e;
    }
  }
}

export class WatchHub {
  private readonly ring: EventRing;
  private readonly watches = new Set<HubWatch>();

  constructor(
    capacity: number,
    private currentRev: number,
    private readonly log: StoreLogger,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`event buffer size must be a positive integer, got ${capacity}`);
    this.ring = new EventRing(capacity, currentRev);
  }

  /** Record committed events (in revision order) and hand them to the matching watches. */
  publish(events: StoredEvent[]): void {
    for (const e of events) {
      this.ring.push(e);
      this.currentRev = e.rev;
      for (const w of this.watches) w.offer(e);
    }
  }

  open<T extends KubeObject>(req: WatchRequest, handler: WatchHandler<T>): Watch {
    const w = new HubWatch(req, handler as WatchHandler, this.log, () => this.currentRev, (x) => this.watches.delete(x));
    let selector: LabelSelector;
    try {
      selector = parseSelector(req.options.labelSelector);
    } catch (e) {
      w.fail(e);
      return w;
    }
    w.selector = selector;
    const rvText = req.options.resourceVersion;
    if (rvText !== undefined && rvText !== "" && rvText !== "0") {
      if (!/^[0-9]+$/.test(rvText)) {
        w.fail(new StoreError("Invalid", `invalid resourceVersion "${rvText}"`));
        return w;
      }
      const rv = Number(rvText);
      if (rv < this.ring.completeAfter) {
        w.fail(gone(rvText));
        return w;
      }
      for (const e of this.ring.after(rv)) w.offer(e);
    } else {
      // No resourceVersion (or "0"): the current state as ADDED events, then changes, like the API server.
      for (const obj of req.snapshot()) w.offerAdded(obj);
    }
    this.watches.add(w);
    w.startBookmarks();
    return w;
  }

  /** Ends every watch (store closing): their `done` resolves. */
  stopAll(): void {
    for (const w of [...this.watches]) w.stop();
  }
}

class HubWatch implements Watch {
  readonly done: Promise<void>;
  selector!: LabelSelector;
  private resolve!: () => void;
  private reject!: (e: unknown) => void;
  private queue: WatchEvent[] = [];
  private head = 0;
  private scheduled = false;
  private stopped = false;
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly req: WatchRequest,
    private readonly handler: WatchHandler,
    private readonly log: StoreLogger,
    private readonly currentRev: () => number,
    private readonly unregister: (w: HubWatch) => void,
  ) {
    this.done = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    // A watch whose owner never looks at `done` must not turn a Gone into an unhandled rejection.
    this.done.catch(() => {});
  }

  offerAdded(obj: KubeObject): void {
    if (this.inNamespace(obj) && this.selector.matches(obj.metadata.labels)) this.enqueue({ type: "ADDED", object: obj });
  }

  /** Translate a store event into what this watch sees, including moves into and out of its label selector. */
  offer(e: StoredEvent): void {
    if (this.stopped || e.kindKey !== this.req.kindKey) return;
    const ns = this.req.options.namespace;
    if (this.req.descriptor.namespaced && ns && e.namespace !== ns) return;
    const now = this.selector.matches(e.object.metadata.labels);
    const before = e.old !== undefined && this.selector.matches(e.old.metadata.labels);
    switch (e.type) {
      case "ADDED":
        if (now) this.enqueue({ type: "ADDED", object: e.object });
        return;
      case "DELETED":
        if (now) this.enqueue({ type: "DELETED", object: e.object });
        return;
      case "MODIFIED":
        if (now && before) this.enqueue({ type: "MODIFIED", object: e.object });
        else if (now) this.enqueue({ type: "ADDED", object: e.object });
        else if (before) {
          // Like the API server: the last state that matched, stamped with the revision of the change.
          const last = structuredClone(e.old!);
          last.metadata.resourceVersion = String(e.rev);
          this.enqueue({ type: "DELETED", object: last });
        }
    }
  }

  startBookmarks(): void {
    const every = this.req.options.bookmarkIntervalMs;
    if (!every || every <= 0) return;
    const d = this.req.descriptor;
    this.timer = setInterval(() => {
      // Queued behind every event already offered, so the bookmark never overtakes an event it covers.
      this.enqueue({ type: "BOOKMARK", object: { apiVersion: apiVersionOf(d), kind: d.kind, metadata: { resourceVersion: String(this.currentRev()) } } as KubeObject });
    }, every);
    this.timer.unref?.();
  }

  stop(): void {
    if (this.stopped) return;
    this.end();
    this.resolve();
  }

  fail(error: unknown): void {
    if (this.stopped) return;
    this.end();
    this.reject(error);
  }

  private end(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.queue = [];
    this.head = 0;
    this.unregister(this);
  }

  private inNamespace(obj: KubeObject): boolean {
    const ns = this.req.options.namespace;
    return !this.req.descriptor.namespaced || !ns || obj.metadata.namespace === ns;
  }

  private enqueue(event: WatchEvent): void {
    if (this.stopped) return;
    this.queue.push(event);
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  private handlerFailed(e: unknown): void {
    this.log.error("watch handler failed", { kind: this.req.descriptor.kind, error: e instanceof Error ? e.message : String(e) });
  }

  private flush(): void {
    this.scheduled = false;
    while (!this.stopped && this.head < this.queue.length) {
      const event = this.queue[this.head++]!;
      // Every watch gets its own copy: handlers may keep or mutate what they receive.
      const copy: WatchEvent = { type: event.type, object: structuredClone(event.object) };
      try {
        const r = this.handler(copy) as unknown;
        if (r instanceof Promise) r.catch((e: unknown) => this.handlerFailed(e));
      } catch (e) {
        this.handlerFailed(e);
      }
    }
    if (this.head >= this.queue.length) {
      this.queue = [];
      this.head = 0;
    }
  }
}
