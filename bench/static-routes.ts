// Benchmark: what a rebuild of the native route table (--static-routes) costs with every document of a large
// catalog in it — N modules × M versions, each module's versions list asked once (so all N lists are held), plus the
// provider metadata of P builds — in-process, on a real Bun listener: the whole rebuild (answers + Bun's reload) and
// the reload alone, and the resident memory the held table adds.
//   bun bench/static-routes.ts [--modules 1000] [--versions 20] [--builds 40] [--rebuilds 5]
import type { ModuleObject, ProviderObject, VersionObject } from "../src/api/kinds.ts";
import { API_VERSION, LABELS } from "../src/api/meta.ts";
import { artifactFileName, moduleVersionName, providerVersionName } from "../src/api/naming.ts";
import { SigningKey } from "../src/artifacts/signing.ts";
import { silentLogger } from "../src/log.ts";
import { runtime } from "../src/runtime/index.ts";
import { ArtifactDelivery } from "../src/server/artifact-delivery.ts";
import { anonymousGatekeeper, type ServerContext } from "../src/server/context.ts";
import { createFastPath } from "../src/server/fast-path.ts";
import { RegistryIndex } from "../src/server/registry-index.ts";
import { StaticRoutes } from "../src/server/static-routes.ts";
import { UrlSigner } from "../src/server/url-signer.ts";
import { FilesystemStorage } from "../src/storage/filesystem.ts";
import { StaticFeed } from "../test/support/static-feed.ts";
import { median, numberArg as arg, type RatioRow } from "./support.ts";

const checksum = (seed: string) => new Bun.CryptoHasher("sha256").update(seed).digest("base64");
const ns = "bench";

interface Sizes {
  modules: number;
  versions: number;
  builds: number;
  rebuilds: number;
}

/** The rebuild figures, as rows of the registry bench's ratio table; the RSS one from child processes (below). */
export async function staticRebuildCost(o: Sizes): Promise<RatioRow[]> {
  const { rows } = await measure(o, true);
  // Resident memory: the same catalog asked in full by two fresh processes, one without the table and one with it
  // (in one process, freed startup garbage hides the table's pages), interleaved, medians of 3.
  const rss: Record<"plain" | "table", number[]> = { plain: [], table: [] };
  for (let round = 0; round < 3; round++) {
    for (const mode of ["plain", "table"] as const) {
      const args = ["bun", import.meta.path, "--child", mode, ...Object.entries(o).flatMap(([k, v]) => [`--${k}`, String(v)])];
      const out = await new Response(Bun.spawn(args, { stdout: "pipe", stderr: "inherit" }).stdout).text();
      rss[mode].push(Number(/rss (\S+)/.exec(out)?.[1]));
    }
  }
  const plain = median(rss.plain);
  const table = median(rss.table);
  rows.push({ measure: `static routes RSS, every document asked, without → with the table (MiB)`, ours: table.toFixed(1), reference: plain.toFixed(1), ratio: `+${(table - plain).toFixed(1)}` });
  return rows;
}

async function measure(o: Sizes, withTable: boolean): Promise<{ rows: RatioRow[]; rss: number }> {
  const modules = new StaticFeed<ModuleObject>();
  const providers = new StaticFeed<ProviderObject>([{ apiVersion: API_VERSION, kind: "Provider", metadata: { name: "widget", namespace: ns }, spec: { providerConfig: {}, versions: [] } }]);
  const versions = new StaticFeed<VersionObject>();
  for (let m = 0; m < o.modules; m++) {
    const name = `module-${m}`;
    modules.put({ apiVersion: API_VERSION, kind: "Module", metadata: { name, namespace: ns }, spec: { moduleConfig: { provider: "aws" }, versions: [] } });
    for (let v = 0; v < o.versions; v++) {
      const version = `1.${v}.0`;
      versions.put({ apiVersion: API_VERSION, kind: "Version", metadata: { name: moduleVersionName(name, version), namespace: ns, labels: { [LABELS.module]: name } }, spec: { type: "Module", version, fileName: artifactFileName(".zip"), moduleConfigRef: { name } }, status: { synced: true, checksum: checksum(name + version) } });
    }
  }
  const builds: string[] = [];
  for (let b = 0; b < o.builds; b++) {
    const [version, os, arch] = [`2.${b >> 1}.0`, b % 2 ? "darwin" : "linux", b % 2 ? "arm64" : "amd64"] as const;
    versions.put({ apiVersion: API_VERSION, kind: "Version", metadata: { name: providerVersionName("widget", version, os, arch), namespace: ns, labels: { [LABELS.provider]: "widget" } }, spec: { type: "Provider", version, operatingSystem: os, architecture: arch, fileName: artifactFileName(".zip"), providerConfigRef: { name: "widget" } }, status: { synced: true, checksum: checksum(version + os), protocols: ["5.0"] } });
    builds.push(`/opendepot/providers/v1/${ns}/widget/${version}/download/${os}/${arch}`);
  }
  const index = new RegistryIndex({ modules, providers, versions });
  const ctx: ServerContext = {
    index,
    delivery: new ArtifactDelivery(() => new FilesystemStorage("/nonexistent"), silentLogger),
    urls: new UrlSigner(new Uint8Array(32).fill(1), 900),
    signer: await SigningKey.generate({ name: "Bench", email: "bench@example.com", rsaBits: 2048 }),
    gatekeeper: anonymousGatekeeper,
    log: silentLogger,
    ready: () => true,
  };
  const rss = async () => {
    for (let i = 0; i < 3; i++) {
      Bun.gc(true);
      await Bun.sleep(50);
    }
    return process.memoryUsage().rss / 1048576;
  };
  const routes = new StaticRoutes(ctx, {}, [modules, providers, versions], { maxLists: o.modules + 1, maxMetadata: o.builds });
  const served = runtime.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("not found", { status: 404 }) });
  const reloads: number[] = [];
  routes.attach({
    setStaticRoutes(table) {
      const t = performance.now();
      served.setStaticRoutes!(table);
      reloads.push(performance.now() - t);
    },
  });
  // Every document asked once through the fast path (what clients asking the whole catalog would do): first without
  // the table (the documents the fetch path memoises anyway), then with it, so the RSS difference is the table's.
  const plain = createFastPath(ctx);
  const request = new Request("http://bench.test/");
  const askAll = (fast: typeof plain) => {
    for (let m = 0; m < o.modules; m++) fast(request, `/opendepot/modules/v1/${ns}/module-${m}/aws/versions`, "id");
    fast(request, `/opendepot/providers/v1/${ns}/widget/versions`, "id");
    for (const b of builds) fast(request, b, "id");
  };
  askAll(plain);
  if (withTable) askAll(routes.watch(plain));
  await routes.settled();
  const entries = routes.size;
  const resident = await rss();
  // Rebuilds after an index change (one Version touched): the whole table is answered again and reloaded.
  const total: number[] = [];
  const reload: number[] = [];
  const touched = versions.list()[0]!;
  for (let i = 0; i < (withTable ? o.rebuilds : 0); i++) {
    versions.put({ ...touched, metadata: { ...touched.metadata, annotations: { round: String(i) } } });
    await routes.reflects(index.changes);
    total.push(routes.lastRebuildMs);
    reload.push(reloads.at(-1)!);
  }
  routes.stop();
  await served.stop(true);
  index.close();
  const what = `${entries} entries (${o.modules} lists of ${o.versions} versions, ${o.builds} metadata)`;
  const rows = withTable
    ? [
        { measure: `static routes rebuild, ${what} (ms, median of ${o.rebuilds})`, ours: median(total).toFixed(1), reference: "-", ratio: "-" },
        { measure: `static routes reload alone (Bun server.reload), ${what} (ms)`, ours: median(reload).toFixed(1), reference: "-", ratio: "-" },
      ]
    : [];
  return { rows, rss: resident };
}

const sizes = (): Sizes => ({ modules: arg("modules", 1000), versions: arg("versions", 20), builds: arg("builds", 40), rebuilds: arg("rebuilds", 5) });
const child = process.argv.indexOf("--child");
if (import.meta.main && child > 0) {
  const { rss } = await measure({ ...sizes(), rebuilds: 0 }, process.argv[child + 1] === "table");
  console.log(`rss ${rss.toFixed(1)}`);
  process.exit(0);
} else if (import.meta.main) {
  const rows = await staticRebuildCost(sizes());
  for (const r of rows) console.log(`${r.measure}: ${r.ours}${r.reference === "-" ? "" : ` (without: ${r.reference}, ${r.ratio})`}`);
  process.exit(0);
}
