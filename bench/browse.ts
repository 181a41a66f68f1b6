// Benchmark: the browse API (/opendepot/ui/v1) of a standalone process holding 1,000 modules × 20 versions and
// 200 GroupBindings, called by an OIDC user whose groups select one of the last bindings: p99 with one client and
// throughput with 32 connections for `resources?q=...&page_size=100` and `stats`, next to the module versions
// endpoint (the protocol's hottest read) with the same token.
//   bun bench/browse.ts [--seconds 8] [--connections 32] [--modules 1000] [--versions 20] [--bindings 200]
// Requires wrk (apt-get install wrk). Stops by itself.
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { GroupBindingObject } from "../src/api/kinds.ts";
import { API_VERSION, LABELS, type KubeObject } from "../src/api/meta.ts";
import { EmbeddedStore } from "../src/store/embedded.ts";
import { FixtureOidcProvider } from "../fixtures/oidc-provider.ts";
import { freePort, waitFor } from "../test/support/ports.ts";
import { addModules, scannedLastVersion } from "./standalone-data.ts";
import { rssMiB, table, wrk, numberArg as arg } from "./support.ts";

const SECONDS = arg("seconds", 8);
const CONNECTIONS = arg("connections", 32);
const MODULES = arg("modules", 1000);
const VERSIONS = arg("versions", 20);
const BINDINGS = arg("bindings", 200);
const NS = "bench";
const GLOBAL_NS = "opendepot-system";

async function populate(dataDir: string) {
  const store = EmbeddedStore.open(join(dataDir, "store.db"));
  for (const name of [NS, GLOBAL_NS]) await store.create<KubeObject>({ apiVersion: "v1", kind: "Namespace", metadata: { name, ...(name === NS ? { labels: { [LABELS.public]: "true" } } : {}) } });
  for (let b = 0; b < BINDINGS; b++) {
    await store.create<GroupBindingObject>({
      apiVersion: API_VERSION,
      kind: "GroupBinding",
      metadata: { name: `binding-${String(b).padStart(3, "0")}`, namespace: GLOBAL_NS },
      spec: { expression: `"group-${b}" in groups`, moduleResources: [`module-${b}*`, `shared-${b}-*`], providerResources: [] },
    });
  }
  // Every tenth module is public; the rest need a binding.
  await addModules(store, { ns: NS, modules: MODULES, versions: VERSIONS, labelsOf: (m) => (m % 10 === 0 ? { [LABELS.public]: "true" } : undefined), statusOf: scannedLastVersion(VERSIONS) });
  await store.close();
}

async function main() {
  const dataDir = await mkdtemp(join(tmpdir(), "opendepot-bench-browse-"));
  const t0 = performance.now();
  await populate(dataDir);
  console.log(`populated ${MODULES} modules × ${VERSIONS} versions and ${BINDINGS} GroupBindings in ${Math.round(performance.now() - t0)} ms`);

  const idp = await FixtureOidcProvider.start({ user: { sub: "bench", groups: [] }, clients: [{ id: "bench-ui", redirectUris: "loopback" }] });
  const port = freePort();
  const proc = Bun.spawn(
    ["bun", join(import.meta.dir, "..", "src", "main.ts"), "standalone", "--listen", `127.0.0.1:${port}`, "--data-dir", dataDir, "--controllers", "", "--admin-listen=off", "--oidc-issuer-url", idp.issuer, "--oidc-client-id", "bench-ui", "--namespace", GLOBAL_NS, "--log-level", "error"],
    { stdout: "ignore", stderr: "inherit" },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.ok, 120_000, "registry");
  // Near the end of the name-ordered bindings: the first-match walk evaluates ~190 expressions once per caller.
  const granted = Math.max(0, BINDINGS - 10) % MODULES;
  const token = await idp.mint({ sub: "bench", aud: "bench-ui", groups: [`group-${granted}`, "everyone"] }, { ttlSeconds: 3600 });
  const headers = { authorization: `Bearer ${token}` };

  // A distinct URL per request (an ignored parameter) defeats the per-URL answer memo: the computing path.
  const uncached = join(dataDir, "uncached.lua");
  await Bun.write(uncached, `counter = 0\nrequest = function()\n  counter = counter + 1\n  return wrk.format(nil, wrk.path .. "&nocache=" .. counter)\nend\n`);
  const endpoints: [string, string, string?][] = [
    ["module versions (protocol)", `/opendepot/modules/v1/${NS}/module-${granted}/aws/versions`],
    ["resources?q=module-1&page_size=100", "/opendepot/ui/v1/resources?q=module-1&page_size=100"],
    ["  same, distinct URLs (page built per request)", "/opendepot/ui/v1/resources?q=module-1&page_size=100", uncached],
    ["stats", "/opendepot/ui/v1/stats"],
    ["  same, distinct URLs (serialised per request)", "/opendepot/ui/v1/stats?x=1", uncached],
  ];
  for (const [, path] of endpoints) {
    const r = await fetch(url + path, { headers });
    if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
    const body = (await r.json()) as { totalCount?: number; totalModules?: number };
    if (path.includes("resources")) console.log(`resources?q=module-1 matches ${body.totalCount} visible modules`);
    if (path.endsWith("stats")) console.log(`stats counts ${body.totalModules} visible modules`);
  }

  const rows: Record<string, string | number>[] = [];
  let baseline = 0;
  try {
    for (const [label, path, script] of endpoints) {
      await wrk(url + path, { seconds: 2, connections: CONNECTIONS, headers, script }); // warm-up
      const single = await wrk(url + path, { seconds: SECONDS, connections: 1, headers, script });
      const loaded = await wrk(url + path, { seconds: SECONDS, connections: CONNECTIONS, headers, script });
      if (!baseline) baseline = loaded.requestsPerSec;
      rows.push({
        endpoint: label,
        "p50 ms (1 client)": single.p50ms.toFixed(2),
        "p99 ms (1 client)": single.p99ms.toFixed(2),
        [`req/s (${CONNECTIONS} conns)`]: Math.round(loaded.requestsPerSec),
        [`p99 ms (${CONNECTIONS} conns)`]: loaded.p99ms.toFixed(2),
        "throughput vs module versions": (loaded.requestsPerSec / baseline).toFixed(2),
        errors: single.errors + loaded.errors,
      });
    }
    console.log(table(rows));
    console.log(`\nresident memory after load: ${await rssMiB(proc.pid)} MiB`);
  } finally {
    proc.kill("SIGTERM");
    await proc.exited;
    await idp.stop();
  }
}

await main();
