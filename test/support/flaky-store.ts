// A ResourceStore over a real EmbeddedStore whose watches a test can break, whose lists it can fail or hold, and
// which counts lists (as a network backend could misbehave).
import type { KindDescriptor } from "../../src/api/kinds.ts";
import type { KubeObject } from "../../src/api/meta.ts";
import type { EmbeddedStore } from "../../src/store/embedded.ts";
import { StoreError } from "../../src/store/errors.ts";
import type { ResourceStore, Watch, WatchHandler, WatchOptions } from "../../src/store/types.ts";

/** A store whose watches the test can break, and which counts lists (as a network backend could misbehave). */
export class FlakyStore implements ResourceStore {
  lists = 0;
  /** Lists by kind name: a kind listed twice is a kind held twice. */
  readonly listsByKind = new Map<string, number>();
  /** While set, lists wait for this promise (a slow list, as against a big cluster). */
  listGate: Promise<void> | undefined;
  watchOptions: WatchOptions[] = [];
  failLists = 0;
  private breakers = new Set<(e: unknown) => void>();
  constructor(private readonly inner: EmbeddedStore) {}
  breakWatches(error: unknown = new StoreError("Unavailable", "connection reset")) {
    for (const b of [...this.breakers]) b(error);
  }
  get: ResourceStore["get"] = (...a) => this.inner.get(...a);
  list: ResourceStore["list"] = async (...a) => {
    this.lists++;
    this.listsByKind.set(a[0].kind, (this.listsByKind.get(a[0].kind) ?? 0) + 1);
    if (this.listGate) await this.listGate;
    if (this.failLists > 0) {
      this.failLists--;
      throw new StoreError("Unavailable", "list failed");
    }
    return this.inner.list(...a);
  };
  watch<T extends KubeObject>(kind: KindDescriptor, options: WatchOptions, handler: WatchHandler<T>): Watch {
    this.watchOptions.push({ ...options });
    const inner = this.inner.watch(kind, options, handler);
    let fail!: (e: unknown) => void;
    const broken = new Promise<void>((_, reject) => (fail = reject));
    const breaker = (e: unknown) => {
      inner.stop();
      fail(e);
    };
    this.breakers.add(breaker);
    const done = Promise.race([inner.done, broken]).finally(() => this.breakers.delete(breaker));
    return { stop: () => inner.stop(), done };
  }
  create: ResourceStore["create"] = (o) => this.inner.create(o);
  update: ResourceStore["update"] = (o) => this.inner.update(o);
  updateStatus: ResourceStore["updateStatus"] = (o) => this.inner.updateStatus(o);
  patch: ResourceStore["patch"] = (...a) => this.inner.patch(...a);
  delete: ResourceStore["delete"] = (...a) => this.inner.delete(...a);
  close = () => this.inner.close();
}

