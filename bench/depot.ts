// Benchmark: Depot discovery of a repository with 1,000 GitHub releases (10 pages of 100) against the fake GitHub.
// Reports requests made and wall time for: the bare paginated listing; a Depot's first poll through the controller
// (discovery, constraint filtering, creating a Module with the matching versions, status); a steady-state re-poll
// (nothing changes: no Module write); and the same with `discoverTags` (releases + tags = 20 pages).
//   bun bench/depot.ts [--releases 1000] [--runs 5]
// Needs nothing but Bun; stops by itself.
import { GitHubFake } from "../fixtures/github-fake.ts";
import { OpenTofuRegistryFake } from "../fixtures/opentofu-registry-fake.ts";
import { Depot, Module, type DepotObject, type ModuleObject } from "../src/api/kinds.ts";
import { API_VERSION } from "../src/api/meta.ts";
import { DepotController } from "../src/controllers/depot-controller.ts";
import { ControllerManager } from "../src/controllers/manager.ts";
import { Upstreams } from "../src/controllers/upstreams.ts";
import { silentLogger } from "../src/log.ts";
import { GitHubClient } from "../src/sources/github.ts";
import { EmbeddedStore } from "../src/store/embedded.ts";
import { table, numberArg as arg } from "./support.ts";

const RELEASES = arg("releases", 1000);
const RUNS = arg("runs", 5);
const NS = "bench";

/** Like test/support's waitFor, but polling every millisecond so the timings are not quantised to 50 ms. */
async function waitFor<T>(fn: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await fn();
    if (v) return v;
    await Bun.sleep(1);
  }
  throw new Error(`timed out waiting for ${what}`);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (x: number) => x.toFixed(1);

const github = new GitHubFake();
const registry = new OpenTofuRegistryFake();
await Promise.all([github.start(), registry.start()]);
// Newest first as GitHub lists them; every tenth is a prerelease, and the repo also has 100 plain tags.
github.addRepo("acme", "big", {
  releases: Array.from({ length: RELEASES }, (_, i) => (i % 10 === 9 ? { tag: `v${Math.floor(i / 100)}.${i % 100}.0-rc.1`, prerelease: true } : `v${Math.floor(i / 100)}.${i % 100}.0`)),
  tags: Array.from({ length: 100 }, (_, i) => `v99.${i}.0`),
});

const rows: Record<string, string | number>[] = [];
function record(scenario: string, requests: number[], times: number[], extra: Record<string, string | number> = {}) {
  rows.push({ scenario, "API requests": median(requests), "median ms": ms(median(times)), "min ms": ms(Math.min(...times)), "max ms": ms(Math.max(...times)), ...extra });
}

// 1. The paginated listing alone.
{
  const client = new GitHubClient({ baseUrl: github.url });
  const requests: number[] = [];
  const times: number[] = [];
  let count = 0;
  for (let r = 0; r < RUNS; r++) {
    github.resetStats();
    const t = performance.now();
    count = (await client.listReleases("acme", "big")).length;
    times.push(performance.now() - t);
    requests.push(github.stats.apiRequests);
  }
  record(`listReleases (${count} releases)`, requests, times);
}

// 2–4. Through the controller: an embedded store and the Depot controller alone.
async function throughController(discoverTags: boolean) {
  const store = EmbeddedStore.open(":memory:", { namespaces: [NS] });
  const manager = new ControllerManager(store, { log: silentLogger, resyncMs: 0 });
  manager.add(new DepotController(store, manager, { upstreams: new Upstreams(store, { githubApiUrl: github.url, opentofuRegistryUrl: registry.url }) }));
  await manager.start();
  const first = { requests: [] as number[], times: [] as number[], versions: 0 };
  const steady = { requests: [] as number[], times: [] as number[], writes: 0 };
  for (let r = 0; r < RUNS; r++) {
    const name = `depot-${r}`;
    const moduleName = "big";
    await store.delete(Module, NS, moduleName).catch(() => {});
    github.resetStats();
    const t = performance.now();
    await store.create<DepotObject>({
      apiVersion: API_VERSION,
      kind: "Depot",
      metadata: { name, namespace: NS },
      spec: { global: { storageConfig: { fileSystem: {} } }, moduleConfigs: [{ name: moduleName, repoOwner: "acme", provider: "aws", versionConstraints: ">= 0.0.0", discoverTags }] },
    });
    const depotPolled = async (generation: number) => {
      const d = await store.get<DepotObject>(Depot, NS, name);
      return d?.status?.observedGeneration === generation && d.status.entries?.[0]?.lastSuccessTime ? d : undefined;
    };
    await waitFor(() => depotPolled(1), 60_000, "first poll");
    first.times.push(performance.now() - t);
    first.requests.push(github.stats.apiRequests);
    const module = (await store.get<ModuleObject>(Module, NS, moduleName))!;
    // A Depot writes what it discovered into spec.depotVersions (spec.versions stays the user's).
    first.versions = module.spec.depotVersions?.length ?? 0;
    if (first.versions === 0) throw new Error("the Depot wrote no versions into the Module: the bench measures nothing");

    // A spec change forces a re-poll of the same upstream: nothing new, so the Module must not be rewritten.
    github.resetStats();
    const t2 = performance.now();
    const d = (await store.get<DepotObject>(Depot, NS, name))!;
    d.spec.pollingIntervalMinutes = 60;
    await store.update(d);
    await waitFor(() => depotPolled(2), 60_000, "re-poll");
    steady.times.push(performance.now() - t2);
    steady.requests.push(github.stats.apiRequests);
    if ((await store.get<ModuleObject>(Module, NS, moduleName))!.metadata.resourceVersion !== module.metadata.resourceVersion) steady.writes++;
    await store.delete(Depot, NS, name);
  }
  await manager.stop();
  await store.close();
  const label = discoverTags ? " + discoverTags" : "";
  record(`Depot first poll${label}`, first.requests, first.times, { "Module versions": first.versions });
  record(`Depot re-poll, no change${label}`, steady.requests, steady.times, { "Module writes": steady.writes });
}

await throughController(false);
await throughController(true);
await Promise.all([github.stop(), registry.stop()]);

const filled = rows.map((r) => ({ ...r, "Module versions": r["Module versions"] ?? "", "Module writes": r["Module writes"] ?? "" }));
console.log(`Depot discovery: ${RELEASES} releases (${Math.ceil(RELEASES / 100)} pages of 100), ${RUNS} runs each, fake GitHub on loopback\n`);
console.log(table(filled));
