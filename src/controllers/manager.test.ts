import { afterEach, describe, expect, test } from "bun:test";
import { ConfigMap, Namespace } from "../api/kinds.ts";
import type { KubeObject } from "../api/meta.ts";
import { silentLogger } from "../log.ts";
import { EmbeddedStore } from "../store/embedded.ts";
import { waitFor } from "../../test/support/ports.ts";
import { ControllerManager, type ObjectKey } from "./manager.ts";

const configMap = (name: string, data: Record<string, string> = {}): KubeObject => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: "default" }, data });

let manager: ControllerManager | undefined;
afterEach(async () => {
  await manager?.stop();
  manager = undefined;
});

describe("ControllerManager", () => {
  test("reconciles existing and new objects, one at a time per key, and requeues after", async () => {
    const store = EmbeddedStore.open(":memory:");
    await store.create(configMap("a"));
    const seen: string[] = [];
    let concurrent = 0;
    let maxConcurrent = 0;
    manager = new ControllerManager(store, { log: silentLogger, resyncMs: 0 });
    manager.add({
      name: "cm",
      kind: ConfigMap,
      concurrency: 4,
      async reconcile(key: ObjectKey) {
        concurrent++;
        maxConcurrent = Math.max(maxConcurrent, concurrent);
        seen.push(key.name);
        await Bun.sleep(10);
        concurrent--;
        return key.name === "b" && seen.filter((n) => n === "b").length < 3 ? { requeueAfterMs: 20 } : undefined;
      },
    });
    await manager.start();
    await store.create(configMap("b"));
    await waitFor(() => seen.filter((n) => n === "b").length === 3, 5000, "requeued reconciles");
    expect(seen).toContain("a");
    expect(maxConcurrent).toBeLessThanOrEqual(2);
  });

  test("errors back off; errors carrying retryAt wait until then; success resets", async () => {
    const store = EmbeddedStore.open(":memory:");
    await store.create(configMap("x"));
    const times: number[] = [];
    manager = new ControllerManager(store, { log: silentLogger, resyncMs: 0, backoff: { baseMs: 30, maxMs: 1000 } });
    manager.add({
      name: "flaky",
      kind: ConfigMap,
      async reconcile() {
        times.push(Date.now());
        if (times.length === 1) throw new Error("transient");
        if (times.length === 2) throw Object.assign(new Error("rate limited"), { retryAt: new Date(Date.now() + 150) });
      },
    });
    await manager.start();
    await waitFor(() => times.length === 3, 5000, "three attempts");
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(25);
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(140);
    await Bun.sleep(100);
    expect(times.length).toBe(3);
  });

  test("secondary watches wake the mapped primary objects", async () => {
    const store = EmbeddedStore.open(":memory:");
    await store.create(configMap("owner"));
    const seen: string[] = [];
    manager = new ControllerManager(store, { log: silentLogger, resyncMs: 0 });
    manager.add({
      name: "cm",
      kind: ConfigMap,
      watches: [{ kind: Namespace, map: () => [{ namespace: "default", name: "owner" }] }],
      async reconcile(key) {
        seen.push(key.name);
      },
    });
    await manager.start();
    await waitFor(() => seen.length === 1, 2000, "initial reconcile");
    await store.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "team" } });
    await waitFor(() => seen.length === 2, 2000, "woken by the secondary kind");
  });

  test("stop() lets in-flight work finish within the grace period, and aborts it after", async () => {
    const store = EmbeddedStore.open(":memory:");
    await store.create(configMap("slow"));
    let finished = false;
    let aborted = false;
    manager = new ControllerManager(store, { log: silentLogger, resyncMs: 0, shutdownGraceMs: 50 });
    manager.add({
      name: "slow",
      kind: ConfigMap,
      async reconcile(_key, { signal }) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(() => {
            finished = true;
            resolve();
          }, 2000);
          signal.addEventListener("abort", () => {
            clearTimeout(t);
            aborted = true;
            resolve();
          });
        });
      },
    });
    await manager.start();
    await Bun.sleep(20);
    await manager.stop();
    manager = undefined;
    // stop() returned with the reconcile aborted, not after it ran its 2 s to the end.
    expect(aborted).toBe(true);
    expect(finished).toBe(false);
  });
});
