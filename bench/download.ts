// Benchmark: proxied downloads from filesystem storage, the registry (`opendepot standalone`, its real listener, a
// signed archive URL) next to nginx sendfile serving the very same file (a hard link of the stored artifact).
//   bun bench/download.ts [--mib 1024] [--concurrent 50] [--concurrent-mib 100] [--many 200] [--many-mib 8] [--rounds 5]
//                         [--big-blocks 3]   (ABBA blocks of the large download per round)
//                         [--registry-root /work/main]   (another checkout's server, for a before/after comparison;
//                                                         a comma list runs them side by side in the small downloads)
//                         [--only small|large] [--small-kib 64,1024] [--seconds 3] [--connections 16]
// One large download, N concurrent downloads of a smaller one (aggregate throughput), and `--many` concurrent clients
// that must all complete. Every body is checked (size and status per transfer; SHA-256 once per server), both servers
// are shown to serve the same inode, nginx errors are counted like ours, and the server's resident memory is read
// settled before and after, plus its peak while downloads run. Requires curl and nginx. Stops by itself.
// Small downloads (bench/download-small.ts): wrk keep-alive GETs of a 64 KiB and a 1 MiB archive, req/s and server
// CPU µs per request against nginx (and against another checkout given in --registry-root).
// Fairness on a shared machine: one discarded warm-up transfer per server and kind, then ABBA blocks (ours-nginx-
// nginx-ours, reversed every other block), so that load drifting during a block weighs on both sides alike; a
// block's ratio is its two of ours against its two of nginx's. The table gives the median of blocks (one per round;
// `--big-blocks` per round for the single large download, whose blocks are short), every block, each side's best
// transfer, and the load average before and after.
import { chmod, link, mkdir, mkdtemp, rm, stat } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import type { ModuleObject, VersionObject } from "../src/api/kinds.ts";
import { API_VERSION, LABELS } from "../src/api/meta.ts";
import { artifactFileName, moduleVersionName } from "../src/api/naming.ts";
import { EmbeddedStore } from "../src/store/embedded.ts";
import { FilesystemStorage } from "../src/storage/filesystem.ts";
import { locateArtifact } from "../src/storage/locate.ts";
import { generatedBytes } from "../test/support/download-server.ts";
import { freePort, waitFor } from "../test/support/ports.ts";
import { readFile } from "node:fs/promises";
import { benchSmallDownloads, type SmallTarget } from "./download-small.ts";
import { cpuMicros, median, numberArg as arg, rssMiB, settledRssMiB, startNginxIn, summarize, table, type RatioRow } from "./support.ts";

const MIB = 1024 * 1024;
const BIG_MIB = arg("mib", 1024);
const CONCURRENT = arg("concurrent", 50);
const CONCURRENT_MIB = arg("concurrent-mib", 100);
const MANY = arg("many", 200);
const MANY_MIB = arg("many-mib", 8);
const ROUNDS = arg("rounds", 5);
/** ABBA blocks of the single large download per round: one takes ~2 s, so it can afford more samples for its median. */
const BIG_BLOCKS = arg("big-blocks", 3);
const NS = "bench";
/** Other checkouts' servers for a before/after comparison (e.g. --registry-root /work/main,.); default this one. */
const REGISTRY_ROOTS = (() => {
  const i = process.argv.indexOf("--registry-root");
  return i > 0 ? process.argv[i + 1]!.split(",").map((r) => (r === "." ? join(import.meta.dir, "..") : r)) : [join(import.meta.dir, "..")];
})();
const REGISTRY_ROOT = REGISTRY_ROOTS[0]!;
const stringArg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : fallback;
};
/** Which parts run: the large downloads (1 GiB, concurrent) and/or the small keep-alive ones. */
const ONLY = stringArg("only", "large,small").split(",");
const SMALL_SIZES = stringArg("small-kib", "64,1024").split(",").map((k) => Number(k) * 1024);

interface Artifact {
  version: string;
  size: number;
  sha256: string;
  file: string;
}

async function populate(dataDir: string, sizes: (readonly [string, number])[]): Promise<Artifact[]> {
  const store = EmbeddedStore.open(join(dataDir, "store.db"), { namespaces: [NS] });
  const storage = new FilesystemStorage(join(dataDir, "artifacts"));
  await store.create<ModuleObject>({ apiVersion: API_VERSION, kind: "Module", metadata: { name: "big", namespace: NS }, spec: { moduleConfig: { provider: "aws", repoOwner: "acme" }, versions: [] } });
  const out: Artifact[] = [];
  for (const [version, bytes] of sizes) {
    const created = await store.create<VersionObject>({
      apiVersion: API_VERSION,
      kind: "Version",
      metadata: { name: moduleVersionName("big", version), namespace: NS, labels: { [LABELS.module]: "big", [LABELS.namespace]: NS } },
      spec: { type: "Module", version, fileName: artifactFileName(".zip"), moduleConfigRef: { name: "big", fileFormat: "zip" } },
    });
    const { key } = locateArtifact(created, () => storage);
    const put = await storage.put(key, generatedBytes(bytes, Math.max(1, Math.round(bytes / MIB))), { size: bytes });
    await store.updateStatus<VersionObject>({ ...created, status: { synced: true, syncStatus: "Successfully synced version", checksum: put.sha256, archiveSizeBytes: put.size } });
    out.push({ version, size: put.size, sha256: Buffer.from(put.sha256, "base64").toString("hex"), file: join(dataDir, "artifacts", key) });
  }
  await store.close();
  return out;
}

/** nginx (one worker, sendfile) over a world-readable root holding hard links to the artifacts. */
async function startNginxOver(files: Record<string, string>) {
  const dir = await mkdtemp(join(tmpdir(), "opendepot-nginx-dl-"));
  await chmod(dir, 0o755);
  const root = join(dir, "root");
  await mkdir(root, { mode: 0o755 });
  await chmod(root, 0o755);
  for (const [name, file] of Object.entries(files)) {
    await link(file, join(root, name));
    const [a, b] = await Promise.all([stat(file), stat(join(root, name))]);
    if (a.ino !== b.ino || a.dev !== b.dev) throw new Error(`nginx's ${name} is not the registry's inode`);
  }
  const nginx = await startNginxIn(dir, root, { defaultType: "application/zip", workerConnections: 4096 });
  return {
    url: nginx.url,
    pid: nginx.pid,
    stop: async () => {
      await nginx.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function startRegistry(dataDir: string, root = REGISTRY_ROOT) {
  const port = freePort();
  const proc = Bun.spawn(["bun", join(root, "src", "main.ts"), "standalone", "--listen", `127.0.0.1:${port}`, "--data-dir", dataDir, "--controllers", "", "--admin-listen", "off"], {
    stdout: "ignore",
    stderr: "inherit",
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${url}/healthz`).catch(() => undefined))?.ok, 30_000, "registry");
  return { url, pid: proc.pid, stop: async () => { proc.kill("SIGTERM"); await proc.exited; } };
}

async function archiveUrl(registry: string, version: string): Promise<string> {
  const r = await waitFor(async () => {
    const res = await fetch(`${registry}/opendepot/modules/v1/${NS}/big/aws/${version}/download`);
    await res.arrayBuffer();
    return res.status === 204 ? res : undefined;
  }, 30_000, `version ${version}`);
  return new URL(r.headers.get("x-terraform-get")!, registry).toString();
}

interface Transfers {
  seconds: number;
  /** Transfers that did not answer 200 with exactly the expected number of bytes. */
  errors: number;
  bytes: number;
  peakRssMiB: number;
  cpuSeconds: number;
}

/** `count` parallel GETs of url by one curl process (bodies to /dev/null), checking status and size of each. */
async function download(url: string, count: number, size: number, pid: number): Promise<Transfers> {
  const args = ["curl", "-s", "--parallel", "--parallel-max", String(Math.max(1, count)), "--parallel-immediate"];
  for (let i = 0; i < count; i++) args.push("-o", "/dev/null", "-w", "%{http_code} %{size_download}\\n", url);
  const base = await rssMiB(pid);
  let peak = base;
  const sampler = setInterval(async () => (peak = Math.max(peak, await rssMiB(pid).catch(() => peak))), 100);
  const cpu0 = await cpuMicros(pid);
  const t0 = performance.now();
  const proc = Bun.spawn(args, { stdout: "pipe", stderr: "pipe" });
  const out = await new Response(proc.stdout).text();
  await proc.exited;
  const seconds = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  const cpuSeconds = ((await cpuMicros(pid)) - cpu0) / 1e6;
  const lines = out.split("\n").filter(Boolean);
  const ok = lines.filter((l) => l === `200 ${size}`).length;
  return { seconds, errors: count - ok, bytes: ok * size, peakRssMiB: peak - base, cpuSeconds };
}

/** One GET streamed into SHA-256 (curl | sha256sum): the served bytes are the stored ones. */
async function sha256Of(url: string): Promise<string> {
  const proc = Bun.spawn(["sh", "-c", `curl -s "$0" | sha256sum`, url], { stdout: "pipe" });
  const out = await new Response(proc.stdout).text();
  await proc.exited;
  return out.split(" ")[0]!;
}

/** The small keep-alive downloads: every registry root given, side by side with nginx, over one data directory. */
async function mainSmall() {
  const dataDir = await mkdtemp(join(tmpdir(), "opendepot-bench-dls-"));
  const artifacts = await populate(dataDir, SMALL_SIZES.map((bytes, i) => [`4.${i}.0`, bytes] as const));
  const nginx = await startNginxOver(Object.fromEntries(artifacts.map((a) => [`${a.size}.zip`, a.file])));
  const registries: Awaited<ReturnType<typeof startRegistry>>[] = [];
  try {
    // One after the other: the first start generates the shared signing keys, the next ones read them.
    for (const root of REGISTRY_ROOTS) registries.push(await startRegistry(dataDir, root));
    const targets: SmallTarget[] = [];
    for (const [i, r] of registries.entries()) {
      const urls = new Map<number, string>();
      for (const a of artifacts) urls.set(a.size, await archiveUrl(r.url, a.version));
      targets.push({ name: `registry ${REGISTRY_ROOTS[i]}`, pid: r.pid, urls });
    }
    targets.push({ name: "nginx", pid: nginx.pid, urls: new Map(artifacts.map((a) => [a.size, `${nginx.url}/${a.size}.zip`])) });
    const expected = new Map(await Promise.all(artifacts.map(async (a) => [a.size, new Uint8Array(await readFile(a.file))] as const)));
    await benchSmallDownloads(targets, { sizes: SMALL_SIZES, seconds: arg("seconds", 3), rounds: ROUNDS, connections: arg("connections", 16), expected });
  } finally {
    for (const r of registries) await r.stop();
    await nginx.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function main() {
  const dataDir = await mkdtemp(join(tmpdir(), "opendepot-bench-dl-"));
  const [big, mid, small] = await populate(dataDir, [["1.0.0", BIG_MIB * MIB], ["2.0.0", CONCURRENT_MIB * MIB], ["3.0.0", MANY_MIB * MIB]]);
  const nginx = await startNginxOver({ "big.zip": big!.file, "mid.zip": mid!.file, "small.zip": small!.file });
  const registry = await startRegistry(dataDir);
  try {
    const ours = { big: await archiveUrl(registry.url, big!.version), mid: await archiveUrl(registry.url, mid!.version), small: await archiveUrl(registry.url, small!.version) };
    const ref = { big: `${nginx.url}/big.zip`, mid: `${nginx.url}/mid.zip`, small: `${nginx.url}/small.zip` };
    // The first download of each artifact hashes it in full (the pin check); do that before measuring.
    for (const u of Object.values(ours)) await (await fetch(u, { method: "HEAD" })).arrayBuffer();
    for (const [name, a] of [["big", big!], ["mid", mid!], ["small", small!]] as const) {
      for (const [who, url] of [["registry", ours[name]], ["nginx", ref[name]]] as const) {
        const got = await sha256Of(url);
        if (got !== a.sha256) throw new Error(`${who} serves ${name} with SHA-256 ${got}, expected ${a.sha256}`);
      }
    }
    const kinds = [["big", 1, big!, "big"], ["mid", CONCURRENT, mid!, "mid"], ["many", MANY, small!, "small"]] as const;
    const rssStart = await settledRssMiB(registry.pid);
    for (const [, count, a, key] of kinds) {
      await download(ours[key], count, a.size, registry.pid);
      await download(ref[key], count, a.size, nginx.pid);
    }
    const rssBefore = await settledRssMiB(registry.pid);
    const loadBefore = loadavg();
    const runs: Record<string, { ours: Transfers[]; ref: Transfers[]; ratios: number[] }> = { big: { ours: [], ref: [], ratios: [] }, mid: { ours: [], ref: [], ratios: [] }, many: { ours: [], ref: [], ratios: [] } };
    const mbps = (t: Transfers) => t.bytes / 1e6 / t.seconds;
    for (let round = 0; round < ROUNDS; round++) {
      for (const [kind, count, a, key] of kinds) {
        const us = () => download(ours[key], count, a.size, registry.pid);
        const them = () => download(ref[key], count, a.size, nginx.pid);
        const r = runs[kind]!;
        for (let block = 0; block < (kind === "big" ? BIG_BLOCKS : 1); block++) {
          const mine: Transfers[] = [];
          const theirs: Transfers[] = [];
          // ABBA, BAAB: a neighbour's burst of load, or a drift across the block, lands on both sides alike.
          for (const side of (round + block) % 2 === 0 ? ["us", "them", "them", "us"] : ["them", "us", "us", "them"]) {
            if (side === "us") mine.push(await us());
            else theirs.push(await them());
          }
          r.ours.push(...mine);
          r.ref.push(...theirs);
          const sum = (ts: Transfers[]) => ts.reduce((s, t) => s + mbps(t), 0);
          r.ratios.push(sum(mine) / sum(theirs));
        }
      }
      console.error(`bench: round ${round + 1}/${ROUNDS} done`);
    }
    const loadAfter = loadavg();
    const rssAfter = await settledRssMiB(registry.pid);

    const label: Record<string, string> = {
      big: `1 × ${BIG_MIB} MiB`,
      mid: `${CONCURRENT} concurrent × ${CONCURRENT_MIB} MiB`,
      many: `${MANY} concurrent × ${MANY_MIB} MiB`,
    };
    const cpuPerGB = (t: Transfers) => t.cpuSeconds / (t.bytes / 1e9);
    const rows = Object.entries(runs).map(([kind, r]) => {
      const ratios = r.ratios;
      const cpuOurs = median(r.ours.map(cpuPerGB));
      const cpuRef = median(r.ref.map(cpuPerGB));
      return {
        download: label[kind]!,
        "registry MB/s (median)": median(r.ours.map(mbps)).toFixed(0),
        "nginx MB/s (median)": median(r.ref.map(mbps)).toFixed(0),
        "best ours/nginx": `${Math.max(...r.ours.map(mbps)).toFixed(0)}/${Math.max(...r.ref.map(mbps)).toFixed(0)}`,
        "ratio (median of ABBA blocks)": median(ratios).toFixed(2),
        "ratio per block": ratios.map((x) => x.toFixed(2)).join(" "),
        "errors ours/nginx": `${r.ours.reduce((s, t) => s + t.errors, 0)}/${r.ref.reduce((s, t) => s + t.errors, 0)}`,
        "server CPU s/GB ours/nginx": `${cpuOurs.toFixed(3)}/${cpuRef.toFixed(3)}`,
        "CPU ratio": (cpuOurs / cpuRef).toFixed(2),
        "peak RSS +MiB ours": Math.max(...r.ours.map((t) => t.peakRssMiB)).toFixed(1),
      };
    });
    console.log(table(rows));
    console.log(`\nregistry RSS settled: ${rssStart} MiB before the warm-up, ${rssBefore} MiB after it, ${rssAfter} MiB after the rounds (${(rssAfter - rssBefore).toFixed(1)} MiB over the rounds, ${(rssAfter - rssStart).toFixed(1)} MiB in all)`);
    console.log(`load average (1/5/15 min): ${loadBefore.map((x) => x.toFixed(2)).join(" ")} before, ${loadAfter.map((x) => x.toFixed(2)).join(" ")} after`);
    const summary: RatioRow[] = rows.map((row) => ({
      measure: `download ${row.download} MB/s vs nginx sendfile (peak RSS +${row["peak RSS +MiB ours"]} MiB, errors ${row["errors ours/nginx"]})`,
      ours: row["registry MB/s (median)"],
      reference: row["nginx MB/s (median)"],
      ratio: row["ratio (median of ABBA blocks)"],
    }));
    for (const row of rows) summary.push({ measure: `download ${row.download}: server CPU s per GB, registry vs nginx (lower is better)`, ours: row["server CPU s/GB ours/nginx"].split("/")[0]!, reference: row["server CPU s/GB ours/nginx"].split("/")[1]!, ratio: row["CPU ratio"] });
    summary.push({ measure: "download: registry RSS settled after the rounds − before the warm-up (MiB)", ours: String(rssAfter), reference: String(rssStart), ratio: (rssAfter - rssStart).toFixed(1) });
    await summarize("download", summary);
  } finally {
    await registry.stop();
    await nginx.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

if (ONLY.includes("large")) await main();
if (ONLY.includes("small")) await mainSmall();
