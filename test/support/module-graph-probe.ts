// Runs `opendepot standalone` in this process (data dir from argv), then prints, as one JSON line, how many modules
// of the large optional packages are loaded once it is ready; then signs once with the data dir's key ring and
// prints the counts again with the signature; in between, how many times the browse catalog was built. Tests read
// these lines (src/roles/lazy-modules.test.ts). Before browsing (the app, Elysia, brings TypeBox), one Module is
// written to a scratch store ("written" line): the kinds' schemas load with that first write. With "metrics" as second argument the role serves /metrics on a
// listener of its own and the "ready" line carries a scrape; without, metrics are off (no admin listener), and after
// signing the probe loads the exposition itself ("enabled" line): the families made before it loaded are all
// exported. Any other arguments are passed to standalone as flags.
import { readFileSync } from "node:fs";
import { parseFlags } from "../../src/cli/flags.ts";
import { silentLogger } from "../../src/log.ts";
import { STANDALONE_FLAGS, runStandalone } from "../../src/roles/standalone.ts";
import { loadSigningKey } from "../../src/roles/signing-key.ts";
import { catalogBuilds } from "../../src/server/browse/catalog.ts";
import { lazyAppLoads } from "../../src/server/lazy-app.ts";
import { freePort } from "./ports.ts";

const dataDir = process.argv[2]!;
const args = process.argv.slice(3);
const withMetrics = args[0] === "metrics";
const PACKAGES = {
  elysia: /node_modules\/elysia\//,
  openpgp: /node_modules\/openpgp\//,
  redis: /node_modules\/(@redis|redis)\//,
  yaml: /node_modules\/yaml\//,
  kubeapi: /\/src\/kubeapi\//,
  controllers: /\/src\/controllers\//,
  uiPages: /\/src\/ui\/pages\/|node_modules\/marked\//,
  jose: /node_modules\/jose\//,
  promClient: /node_modules\/prom-client\//,
  metricsExposition: /\/src\/metrics\/(exposition|process)\.ts$/,
  typebox: /node_modules\/@sinclair\/typebox\//,
  schemas: /\/src\/api\/(types|kind-schemas|validate|meta-schemas|module-docs-schema|scan-types)\.ts$/,
};
const counts = () => {
  const loaded = Object.keys(require.cache);
  return Object.fromEntries(Object.entries(PACKAGES).map(([name, re]) => [name, loaded.filter((k) => re.test(k)).length]));
};
// Built-in modules are not in require.cache: a loaded file that imports node:zlib statically (or requires it) is
// what would load it with the module graph. The lazy readers load it with process.getBuiltinModule, counted here.
const ZLIB_IMPORT = /(?:from\s*|import\s*\(\s*|require\s*\(\s*|import\s+)["'](?:node:)?zlib["']/;
const zlibImporters = () => Object.keys(require.cache).filter((file) => /\.(?:[cm]?js|tsx?)$/.test(file) && ZLIB_IMPORT.test(readFileSync(file, "utf8")));
let zlibLoads = 0;
const getBuiltinModule = process.getBuiltinModule.bind(process);
process.getBuiltinModule = ((id: string) => {
  if (id === "node:zlib" || id === "zlib") zlibLoads++;
  return getBuiltinModule(id);
}) as typeof process.getBuiltinModule;

const extraFlags = withMetrics ? ["--metrics-listen", `127.0.0.1:${freePort()}`] : args;
const standalone = await runStandalone(parseFlags(STANDALONE_FLAGS, ["--listen", `127.0.0.1:${freePort()}`, "--data-dir", dataDir, "--admin-listen", "off", "--log-level", "error", ...extraFlags]));
const ready = await fetch(`${standalone.url}/readyz`);
const atReady = { loaded: counts(), catalogBuilds: catalogBuilds(), appLoads: lazyAppLoads(), zlib: { importers: zlibImporters(), loads: zlibLoads } };
// Protocol answers need neither the app nor the browse catalog; the first browse request builds both, once.
let discovery: Response | undefined;
for (let i = 0; i < 3; i++) await (discovery = await fetch(`${standalone.url}/.well-known/terraform.json`)).arrayBuffer();
const scrape = standalone.metricsUrl ? await (await fetch(standalone.metricsUrl)).text() : undefined;
console.log(JSON.stringify({ phase: "ready", status: ready.status, ...atReady, metricsUrl: standalone.metricsUrl ?? null, scrape }));
// A write of one of our kinds validates it against its schema: TypeBox and the schemas load then, not before.
const { EmbeddedStore } = await import("../../src/store/embedded.ts");
const { API_VERSION } = await import("../../src/api/meta.ts");
const scratch = EmbeddedStore.open(":memory:");
const beforeWrite = counts();
const refused = await scratch.create({ apiVersion: API_VERSION, kind: "Module", metadata: { name: "probe", namespace: "default" }, spec: { moduleConfig: { provider: 7 } } }).then(() => "accepted", (e: Error) => e.message);
await scratch.close();
console.log(JSON.stringify({ phase: "written", before: { typebox: beforeWrite.typebox, schemas: beforeWrite.schemas }, after: { typebox: counts().typebox, schemas: counts().schemas }, refused }));
const afterProtocol = { catalogBuilds: catalogBuilds(), appLoads: lazyAppLoads(), elysia: counts().elysia };
const browse = await fetch(`${standalone.url}/opendepot/ui/v1/resources`);
const again = await fetch(`${standalone.url}/opendepot/ui/v1/namespaces`);
const pagesBefore = counts().uiPages;
const explorer = await fetch(`${standalone.url}/`);
const explorerPage = { status: explorer.status, type: explorer.headers.get("content-type"), pagesBefore, pagesAfter: counts().uiPages };
// The first gzip request for an asset loads node:zlib (once) and compresses it; the bytes inflate to the stylesheet.
const { ASSETS } = await import("../../src/ui/assets.ts");
const zlibBeforeAsset = zlibLoads;
const gzipped = await fetch(`${standalone.url}${ASSETS.css.path}`, { headers: { "accept-encoding": "gzip" }, decompress: false } as RequestInit);
const gzippedAsset = { status: gzipped.status, encoding: gzipped.headers.get("content-encoding"), inflatesToCss: Bun.gunzipSync(new Uint8Array(await gzipped.arrayBuffer())).length === new TextEncoder().encode(ASSETS.css.body).length, zlibLoadsBefore: zlibBeforeAsset, zlibLoadsAfter: zlibLoads };
console.log(JSON.stringify({ phase: "browsed", statuses: [discovery!.status, browse.status, again.status], afterProtocol, catalogBuilds: catalogBuilds(), appLoads: lazyAppLoads(), elysia: (counts().elysia ?? 0) > 0, explorerPage, gzippedAsset }));
const ring = await loadSigningKey({ dataDir, log: silentLogger, reloadIntervalMs: 0 });
const signature = await ring.sign("probe");
console.log(JSON.stringify({ phase: "signed", loaded: counts(), keyId: ring.keyId, publicKeyArmored: ring.publicKeyArmored, signature: Buffer.from(signature).toString("base64") }));
if (!withMetrics) {
  const { metricsResponse } = await import("../../src/metrics/registry.ts");
  const scrape = await (await metricsResponse()).text();
  console.log(JSON.stringify({ phase: "enabled", loaded: counts(), scrape }));
}
await standalone.stop("probe done");
