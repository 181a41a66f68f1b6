// Where standalone's startup time and memory go, phase by phase, in one process (each phase after a full GC):
// the module graph, reading every object from the store, the shared caches, then the whole role to ready.
//   bun bench/startup-profile.ts [<data-dir populated by bench/standalone-data.ts>] [--controllers module,provider] [--types]
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { populateStandalone } from "./standalone-data.ts";
import { numberArg as arg, table } from "./support.ts";

const rss = () => Math.round((process.memoryUsage().rss / 1048576) * 10) / 10;
const heap = () => Math.round((process.memoryUsage().heapUsed / 1048576) * 10) / 10;
const rows: Record<string, string | number>[] = [];
let last = performance.now();
const phase = (name: string) => {
  const ms = performance.now() - last;
  Bun.gc(true);
  rows.push({ phase: name, ms: ms.toFixed(0), "RSS after GC (MiB)": rss(), "JS heap used (MiB)": heap() });
  last = performance.now();
};

let dataDir = process.argv[2] && !process.argv[2].startsWith("--") ? process.argv[2] : undefined;
if (!dataDir) {
  dataDir = await mkdtemp(join(tmpdir(), "opendepot-startup-profile-"));
  await populateStandalone(dataDir, arg("modules", 1000), arg("versions", 20));
  console.log(`populated ${dataDir}`);
}
last = performance.now();
phase("bun itself");
const { runStandalone, STANDALONE_FLAGS } = await import("../src/roles/standalone.ts");
const { parseFlags } = await import("../src/cli/flags.ts");
phase("module graph of the standalone role");
const { EmbeddedStore } = await import("../src/store/embedded.ts");
const { Version } = await import("../src/api/kinds.ts");
const store = EmbeddedStore.open(join(dataDir, "store.db"), { namespaces: ["bench"] });
let items = (await store.list(Version)).items;
phase(`store: list ${items.length} Versions (held)`);
items = [];
await store.close();
phase("store closed, list dropped");
const { freePort } = await import("../test/support/ports.ts");
const controllersAt = process.argv.indexOf("--controllers");
const controllers = controllersAt > 0 ? process.argv[controllersAt + 1]! : "";
const s = await runStandalone(parseFlags(STANDALONE_FLAGS, ["--listen", `127.0.0.1:${freePort()}`, "--data-dir", dataDir, "--admin-listen", "off", "--controllers", controllers, "--log-level", "error"]));
phase("runStandalone to listening (caches, index, keys, server)");
console.log(table(rows));
if (process.argv.includes("--types")) {
  const { heapStats } = await import("bun:jsc");
  const counts = Object.entries(heapStats().objectTypeCounts).sort((a, b) => b[1] - a[1]).slice(0, 15);
  console.log(table(counts.map(([type, n]) => ({ type, objects: n }))));
}
await s.stop("done");
