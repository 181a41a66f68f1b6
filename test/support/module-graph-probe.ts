// Runs `opendepot standalone` in this process (data dir from argv), then prints, as one JSON line, how many modules
// of the large optional packages are loaded once it is ready; then signs once with the data dir's key ring and
// prints the counts again with the signature. Tests read these lines (src/roles/lazy-modules.test.ts).
// With "metrics" as second argument the role serves /metrics on a listener of its own and the "ready" line carries
// a scrape; without, metrics are off (no admin listener), and after signing the probe loads the exposition itself
// ("enabled" line): the families made before it loaded are all exported.
import { parseFlags } from "../../src/cli/flags.ts";
import { silentLogger } from "../../src/log.ts";
import { STANDALONE_FLAGS, runStandalone } from "../../src/roles/standalone.ts";
import { loadSigningKey } from "../../src/roles/signing-key.ts";
import { freePort } from "./ports.ts";

const dataDir = process.argv[2]!;
const withMetrics = process.argv[3] === "metrics";
const PACKAGES = {
  openpgp: /node_modules\/openpgp\//,
  redis: /node_modules\/(@redis|redis)\//,
  yaml: /node_modules\/yaml\//,
  kubeapi: /\/src\/kubeapi\//,
  promClient: /node_modules\/prom-client\//,
  metricsExposition: /\/src\/metrics\/(exposition|process)\.ts$/,
};
const counts = () => {
  const loaded = Object.keys(require.cache);
  return Object.fromEntries(Object.entries(PACKAGES).map(([name, re]) => [name, loaded.filter((k) => re.test(k)).length]));
};

const metricsFlags = withMetrics ? ["--metrics-listen", `127.0.0.1:${freePort()}`] : [];
const standalone = await runStandalone(parseFlags(STANDALONE_FLAGS, ["--listen", `127.0.0.1:${freePort()}`, "--data-dir", dataDir, "--admin-listen", "off", ...metricsFlags, "--log-level", "error"]));
const ready = await fetch(`${standalone.url}/readyz`);
const loadedAtReady = counts();
for (let i = 0; i < 3; i++) await (await fetch(`${standalone.url}/.well-known/terraform.json`)).arrayBuffer();
const scrape = standalone.metricsUrl ? await (await fetch(standalone.metricsUrl)).text() : undefined;
console.log(JSON.stringify({ phase: "ready", status: ready.status, loaded: loadedAtReady, metricsUrl: standalone.metricsUrl ?? null, scrape }));
const ring = await loadSigningKey({ dataDir, log: silentLogger, reloadIntervalMs: 0 });
const signature = await ring.sign("probe");
console.log(JSON.stringify({ phase: "signed", loaded: counts(), keyId: ring.keyId, publicKeyArmored: ring.publicKeyArmored, signature: Buffer.from(signature).toString("base64") }));
if (!withMetrics) {
  const { metricsResponse } = await import("../../src/metrics/registry.ts");
  const scrape = await (await metricsResponse()).text();
  console.log(JSON.stringify({ phase: "enabled", loaded: counts(), scrape }));
}
await standalone.stop("probe done");
