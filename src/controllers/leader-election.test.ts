import { afterEach, describe, expect, test } from "bun:test";
import { Lease } from "../api/kinds.ts";
import type { KubeObject } from "../api/meta.ts";
import type { LeaseSpec } from "./leader-election.ts";
import { createLogger } from "../log.ts";
import { EmbeddedStore } from "../store/embedded.ts";
import { waitFor } from "../../test/support/ports.ts";
import { LeaderElector } from "./leader-election.ts";

const electors: LeaderElector[] = [];
afterEach(async () => {
  await Promise.all(electors.splice(0).map((e) => e.stop()));
  for (const k of Object.keys(took)) delete took[k];
});

/** How each candidate took the lease ("created", "released", "expired"), from its "became leader" log lines. */
const took: Record<string, unknown[]> = {};

function elector(store: EmbeddedStore, identity: string, events: string[]) {
  const log = createLogger({
    level: "info",
    write: (line) => {
      const record = JSON.parse(line) as { msg: string; took?: unknown };
      if (record.msg === "became leader") (took[identity] ??= []).push(record.took);
    },
  });
  const e = new LeaderElector({
    store,
    namespace: "opendepot-system",
    name: "opendepot-version",
    identity,
    leaseDurationMs: 600,
    renewDeadlineMs: 400,
    retryPeriodMs: 50,
    log,
    onStartedLeading: () => void events.push(`${identity} leads`),
    onStoppedLeading: () => void events.push(`${identity} lost`),
  });
  electors.push(e);
  return e;
}

describe("LeaderElector", () => {
  test("exactly one of two candidates leads, and the Lease says who", async () => {
    const store = EmbeddedStore.open(":memory:", { namespaces: ["opendepot-system"] });
    const events: string[] = [];
    const a = elector(store, "a", events);
    const b = elector(store, "b", events);
    a.start();
    b.start();
    await waitFor(() => a.isLeader || b.isLeader, 2000, "a leader");
    await Bun.sleep(300);
    expect([a.isLeader, b.isLeader].filter(Boolean)).toHaveLength(1);
    const lease = (await store.get<KubeObject & { spec: Required<LeaseSpec> }>(Lease, "opendepot-system", "opendepot-version"))!;
    expect(lease.spec.holderIdentity).toBe(a.isLeader ? "a" : "b");
    expect(lease.spec.renewTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  });

  test("a released lease is taken over at once; a dead leader's lease after it expires", async () => {
    const store = EmbeddedStore.open(":memory:", { namespaces: ["opendepot-system"] });
    const events: string[] = [];
    const a = elector(store, "a", events);
    a.start();
    await waitFor(() => a.isLeader, 2000, "a leads");
    const b = elector(store, "b", events);
    b.start();
    await Bun.sleep(200);
    expect(b.isLeader).toBe(false);
    await a.stop(); // SIGTERM: release
    await waitFor(() => b.isLeader, 2000, "b takes over");
    expect(took.a).toEqual(["created"]);
    expect(took.b).toEqual(["released"]); // taken because a gave it up, not because it ran out

    // b "dies" (stops renewing without releasing): c waits for the lease to expire.
    const c = elector(store, "c", events);
    c.start();
    (b as unknown as { stopped: boolean }).stopped = true;
    await waitFor(() => c.isLeader, 3000, "c takes over after expiry");
    expect(took.c).toEqual(["expired"]); // b never released: c had to wait for the lease to run out
    const lease = (await store.get<KubeObject & { spec: Required<LeaseSpec> }>(Lease, "opendepot-system", "opendepot-version"))!;
    expect(lease.spec.leaseTransitions).toBeGreaterThanOrEqual(1);
  });

  test("a leader that cannot renew within the deadline steps down", async () => {
    const store = EmbeddedStore.open(":memory:", { namespaces: ["opendepot-system"] });
    const events: string[] = [];
    const a = elector(store, "a", events);
    a.start();
    await waitFor(() => a.isLeader, 2000, "a leads");
    // Another writer takes the lease over (as after a network partition): a must notice and stop.
    const lease = (await store.get<KubeObject & { spec: LeaseSpec }>(Lease, "opendepot-system", "opendepot-version"))!;
    await store.update({ ...lease, spec: { ...lease.spec, holderIdentity: "intruder", renewTime: new Date(Date.now() + 60_000).toISOString() } });
    await waitFor(() => events.includes("a lost"), 2000, "a steps down");
    expect(a.isLeader).toBe(false);
  });
});
