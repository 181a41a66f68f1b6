// Acceptance: downloads by the real Terraform CLI are counted — in Valkey (two registry processes sharing one, and
// one whose Valkey is killed mid-run and restarted: downloads never fail, counts resume) and in the embedded
// counter file of standalone (surviving a restart) — and read back through the browse API.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { startValkey, type ValkeyPeer } from "../peers/valkey.ts";
import { waitFor, type JsonResponse } from "../support/ports.ts";
import { installSampleModules, installSampleProvider } from "../support/sample-registry.ts";
import { startStandalone, type StandaloneProcess } from "../support/standalone-process.ts";
import { TERRAFORM } from "../support/terraform.ts";
import { createFixtureRegistry } from "./fixture-registry.ts";

const running: StandaloneProcess[] = [];
let valkey: ValkeyPeer;

beforeAll(async () => {
  if (!existsSync(TERRAFORM)) throw new Error(`Terraform CLI not found at ${TERRAFORM}: the acceptance tests need it`);
  valkey = await startValkey({ persist: true });
});
afterAll(async () => {
  for (const p of running) await p.stop();
  await valkey?.stop();
});

async function registry(extra: string[], reuse?: { dataDir: string; manifests: string }) {
  const fixture = reuse ?? (await createFixtureRegistry());
  const p = await startStandalone({ dataDir: fixture.dataDir, manifests: fixture.manifests, extra: ["--controllers", "", ...extra] });
  running.push(p);
  return Object.assign(p, { dataDir: fixture.dataDir, manifests: fixture.manifests });
}

const detail = async (url: string, kind: "module" | "provider", name: string) => (await (await fetch(`${url}/opendepot/ui/v1/resources/default/${kind}/${name}`)) as JsonResponse).json();
const providerCount = async (url: string) => (await detail(url, "provider", "widget")).totalDownloads as number;
const untilCount = (url: string, kind: "module" | "provider", name: string, n: number) =>
  waitFor(async () => (await detail(url, kind, name)).totalDownloads === n, 30_000, `${kind} ${name} at ${url} to show ${n} downloads`, 200);

describe("download statistics from real terraform init runs", () => {
  test("Valkey: counted once per download (never the 204 step), per version and per day; two servers share the counts", async () => {
    await valkey.cli("FLUSHALL");
    const a = await registry(["--stats-url", valkey.url]);
    const b = await registry(["--stats-url", valkey.url]);
    await installSampleProvider(a.url);
    await untilCount(a.url, "provider", "widget", 1);
    await installSampleProvider(b.url);
    await installSampleProvider(b.url);
    // Each server sees all three: its own writes at once, the other's after its next read of Valkey.
    await untilCount(a.url, "provider", "widget", 3);
    await untilCount(b.url, "provider", "widget", 3);
    expect(await valkey.cli("HGET", "stats:version:default:provider:widget:2.1.0", "count")).toBe("3");
    expect(await valkey.cli("GET", "stats:total")).toBe("3");

    // The module: the 204 download step is not a download; the archive fetch is (one per module call terraform makes).
    await installSampleModules(a.url);
    const perInit = await waitFor(async () => (await detail(a.url, "module", "network")).totalDownloads as number, 30_000, "module downloads", 200);
    expect(perInit).toBeGreaterThanOrEqual(1);
    await installSampleModules(b.url);
    await untilCount(a.url, "module", "network", 2 * perInit);
    const d = await detail(a.url, "module", "network");
    expect(d.versions[0]).toMatchObject({ version: "v1.2.0", downloadCount: 2 * perInit });
    expect(d.downloadsSeries.at(-1).count).toBe(2 * perInit);
    const stats = await waitFor(async () => {
      const body = await ((await fetch(`${b.url}/opendepot/ui/v1/stats`)) as JsonResponse).json();
      return body.totalDownloads === 3 + 2 * perInit ? body : undefined;
    }, 30_000, "server b's stats to include a's module downloads", 200);
    expect(stats.mostDownloaded[0]).toMatchObject({ namespace: "default", kind: "provider", name: "widget", version: "2.1.0", downloadCount: 3 });
    expect(stats.downloadsSeries.at(-1).count).toBe(3 + 2 * perInit);
  }, 180_000);

  test("Valkey killed mid-run and restarted: terraform init keeps working, the counts resume (logged once)", async () => {
    await valkey.cli("FLUSHALL");
    const a = await registry(["--stats-url", valkey.url]);
    await installSampleProvider(a.url);
    await untilCount(a.url, "provider", "widget", 1);

    await valkey.kill();
    await installSampleProvider(a.url); // served at full speed, counted in memory
    await installSampleProvider(a.url);
    await waitFor(() => a.logs().some((l) => String(l.msg).includes("statistics store is unreachable")), 15_000, "the outage to be logged");

    await valkey.restart();
    await waitFor(async () => (await valkey.cli("HGET", "stats:version:default:provider:widget:2.1.0", "count")) === "3", 30_000, "the buffered downloads to reach Valkey", 200);
    await installSampleProvider(a.url);
    await untilCount(a.url, "provider", "widget", 4);
    expect(a.logs().filter((l) => String(l.msg).includes("statistics store is unreachable"))).toHaveLength(1);
    expect(a.logs().filter((l) => String(l.msg).includes("statistics store is reachable again"))).toHaveLength(1);
  }, 180_000);

  test("standalone's embedded counters survive a restart; --stats=off counts nothing", async () => {
    const first = await registry([]);
    await installSampleProvider(first.url);
    await untilCount(first.url, "provider", "widget", 1);
    expect(await first.stop()).toBe(0);
    running.splice(running.indexOf(first), 1);

    const again = await registry([], first);
    expect(await providerCount(again.url)).toBe(1);
    await installSampleProvider(again.url);
    await untilCount(again.url, "provider", "widget", 2);
    expect(await again.stop()).toBe(0);
    running.splice(running.indexOf(again), 1);

    const off = await registry(["--stats=off"], first);
    await installSampleProvider(off.url);
    await Bun.sleep(500); // longer than a flush interval: nothing to flush, nothing shown
    expect(await providerCount(off.url)).toBe(0);
  }, 180_000);
});
