// Benchmark: the Registry Explorer. Server render time of its pages over 1,000 modules (in process, the same
// handler the listener calls, body included; p50/p99 over repeated requests), then Debian Chromium on loopback
// for a first visit of `/`: bytes transferred (document + assets, from the Resource Timing API) and the paint
// timings (first paint, first contentful paint) and DOMContentLoaded from performance entries.
//   bun bench/ui.ts [--modules 1000] [--versions 5] [--requests 2000] [--visits 5]
import { mkdtemp } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { LABELS, type KubeObject } from "../src/api/meta.ts";
import { silentLogger } from "../src/log.ts";
import { startRegistryServer } from "../src/roles/registry-server.ts";
import { storageFactory } from "../src/storage/factory.ts";
import { EmbeddedStore } from "../src/store/embedded.ts";
import { uiFromFlags } from "../src/roles/ui-flags.ts";
import { launchChromium } from "../test/ui/browser.ts";
import { addModules, scannedLastVersion } from "./standalone-data.ts";
import { table, numberArg as arg } from "./support.ts";

const MODULES = arg("modules", 1000);
const VERSIONS = arg("versions", 5);
const REQUESTS = arg("requests", 2000);
const VISITS = arg("visits", 5);
const NS = "bench";

const root = await mkdtemp(join(tmpdir(), "opendepot-bench-ui-"));
const store = EmbeddedStore.open(join(root, "store.db"));
await store.create<KubeObject>({ apiVersion: "v1", kind: "Namespace", metadata: { name: NS, labels: { [LABELS.public]: "true" } } });
await addModules(store, { ns: NS, modules: MODULES, versions: VERSIONS, labelsOf: () => ({ [LABELS.public]: "true" }), statusOf: scannedLastVersion(VERSIONS) });
const server = await startRegistryServer({
  store,
  storageFor: storageFactory({ defaultRoot: join(root, "artifacts") }),
  signer: { keyId: "0", publicKeyArmored: "", sign: async () => new Uint8Array([0x88]) },
  urlKey: new Uint8Array(32).fill(1),
  urlTtlSeconds: 600,
  log: silentLogger,
  ui: (await uiFromFlags({}))!,
});

const percentile = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;
const rows: Record<string, string | number>[] = [];
for (const path of ["/", "/?q=module-99", "/?sort_by=latest_version&sort_dir=desc&page=20", `/${NS}/module/module-5`, `/${NS}/module/module-5?tab=versions`, "/stats", "/depots"]) {
  const once = async () => {
    const started = performance.now();
    const r = await server.handle(new Request(`http://127.0.0.1${path}`));
    const body = await r.text();
    if (r.status !== 200) throw new Error(`${path}: ${r.status} ${body.slice(0, 200)}`);
    return { ms: performance.now() - started, bytes: body.length };
  };
  for (let i = 0; i < 200; i++) await once();
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < REQUESTS; i++) {
    const t = await once();
    times.push(t.ms);
    bytes = t.bytes;
  }
  rows.push({ page: path, "p50 ms": percentile(times, 50).toFixed(3), "p99 ms": percentile(times, 99).toFixed(3), "HTML bytes": bytes });
}
console.log(`\nServer render, ${MODULES} modules (load average ${loadavg().map((l) => l.toFixed(1)).join(" ")}) × ${VERSIONS} versions, ${REQUESTS} requests each (in process, body included)`);
console.log(table(rows));

const http = server.listen("127.0.0.1", 0);
const url = http.url.toString().replace(/\/$/, "");
const browser = await launchChromium();
const visits: { bytes: number; documentBytes: number; fp: number; fcp: number; dcl: number }[] = [];
for (let i = 0; i < VISITS; i++) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } }); // fresh: a first visit
  const page = await context.newPage();
  await page.goto(`${url}/`, { waitUntil: "load" });
  // A function, not a string: Playwright compiles a string predicate in the page with eval, which the Explorer's
  // CSP (script-src 'self') refuses whenever the predicate is not already true at its first check.
  await page.waitForFunction(() => performance.getEntriesByType("paint" as Parameters<typeof performance.getEntriesByType>[0]).some((p) => p.name === "first-contentful-paint"));
  visits.push(
    (await page.evaluate(`(() => {
      const nav = performance.getEntriesByType("navigation")[0];
      const res = performance.getEntriesByType("resource");
      const paint = Object.fromEntries(performance.getEntriesByType("paint").map((p) => [p.name, p.startTime]));
      return { bytes: nav.transferSize + res.reduce((n, r) => n + r.transferSize, 0), documentBytes: nav.transferSize, fp: paint["first-paint"] ?? NaN, fcp: paint["first-contentful-paint"], dcl: nav.domContentLoadedEventEnd };
    })()`)) as (typeof visits)[number],
  );
  await context.close();
}
await browser.close();
const median = (k: keyof (typeof visits)[number]) => percentile(visits.map((v) => v[k]).filter((x) => Number.isFinite(x)), 50) ?? NaN;
console.log(`\nFirst visit of / in Chromium on loopback (median of ${VISITS} fresh contexts)`);
console.log(table([{ "transferred bytes": median("bytes"), "document bytes": median("documentBytes"), "first paint ms": median("fp").toFixed(1), "first contentful paint ms": median("fcp").toFixed(1), "DOMContentLoaded ms": median("dcl").toFixed(1) }]));
await http.stop(true);
await server.stop();
await store.close();
process.exit(0);
