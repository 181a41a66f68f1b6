// Benchmark: the registry's hot read paths under concurrent load, next to nginx serving the same JSON bytes from
// disk, plus the resident memory of a standalone process holding 1,000 modules × 20 versions.
//   bun bench/registry.ts [--seconds 8] [--connections 32]
// Requires wrk and nginx (apt-get install wrk nginx-light). Stops by itself.
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ModuleObject, ProviderObject, VersionObject } from "../src/api/kinds.ts";
import { API_VERSION, LABELS } from "../src/api/meta.ts";
import { artifactFileName, moduleVersionName, providerVersionName } from "../src/api/naming.ts";
import { EmbeddedStore } from "../src/store/embedded.ts";
import { freePort, waitFor } from "../test/support/ports.ts";
import { rssMiB, startNginx, table, wrk } from "./support.ts";

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const SECONDS = arg("seconds", 8);
const CONNECTIONS = arg("connections", 32);
const MODULES = arg("modules", 1000);
const VERSIONS = arg("versions", 20);

const checksum = (seed: string) => new Bun.CryptoHasher("sha256").update(seed).digest("base64");

async function populate(dataDir: string) {
  const store = EmbeddedStore.open(join(dataDir, "store.db"));
  const ns = "bench";
  for (let m = 0; m < MODULES; m++) {
    const name = `module-${m}`;
    await store.create<ModuleObject>({ apiVersion: API_VERSION, kind: "Module", metadata: { name, namespace: ns }, spec: { moduleConfig: { provider: "aws", repoOwner: "acme" }, versions: [] } });
    for (let v = 0; v < VERSIONS; v++) {
      const version = `1.${v}.0`;
      const created = await store.create<VersionObject>({
        apiVersion: API_VERSION,
        kind: "Version",
        metadata: { name: moduleVersionName(name, version), namespace: ns, labels: { [LABELS.module]: name, [LABELS.namespace]: ns } },
        spec: { type: "Module", version, fileName: artifactFileName(".zip"), moduleConfigRef: { name } },
      });
      await store.updateStatus({ ...created, status: { synced: true, checksum: checksum(`${name}${version}`), syncStatus: "Successfully synced version" } });
    }
  }
  await store.create<ProviderObject>({ apiVersion: API_VERSION, kind: "Provider", metadata: { name: "widget", namespace: ns }, spec: { providerConfig: {}, versions: [] } });
  for (const [os, arch] of [["linux", "amd64"], ["darwin", "arm64"]] as const) {
    for (let v = 0; v < VERSIONS; v++) {
      const version = `2.${v}.0`;
      const created = await store.create<VersionObject>({
        apiVersion: API_VERSION,
        kind: "Version",
        metadata: { name: providerVersionName("widget", version, os, arch), namespace: ns, labels: { [LABELS.provider]: "widget", [LABELS.namespace]: ns } },
        spec: { type: "Provider", version, operatingSystem: os, architecture: arch, fileName: artifactFileName(".zip"), providerConfigRef: { name: "widget" } },
      });
      await store.updateStatus({ ...created, status: { synced: true, checksum: checksum(`widget${version}${os}`), protocols: ["5.0"] } });
    }
  }
  await store.close();
}

async function main() {
  const dataDir = await mkdtemp(join(tmpdir(), "opendepot-bench-"));
  const t0 = performance.now();
  await populate(dataDir);
  console.log(`populated ${MODULES} modules × ${VERSIONS} versions in ${Math.round(performance.now() - t0)} ms`);

  const port = freePort();
  const proc = Bun.spawn(["bun", join(import.meta.dir, "..", "src", "main.ts"), "standalone", "--listen", `127.0.0.1:${port}`, "--data-dir", dataDir, "--controllers", ""], {
    stdout: "ignore",
    stderr: "inherit",
  });
  const url = `http://127.0.0.1:${port}`;
  const startedAt = performance.now();
  await waitFor(async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.ok, 120_000, "registry");
  const startupMs = Math.round(performance.now() - startedAt);
  Bun.gc(true);
  const idleRss = await rssMiB(proc.pid);

  const versionsPath = "/opendepot/modules/v1/bench/module-500/aws/versions";
  const metadataPath = "/opendepot/providers/v1/bench/widget/2.10.0/download/linux/amd64";
  const versionsBody = await (await fetch(url + versionsPath)).text();
  const metadataBody = await (await fetch(url + metadataPath)).text();
  const nginx = await startNginx({ "versions.json": versionsBody, "metadata.json": metadataBody });

  const rows: Record<string, string | number>[] = [];
  try {
    for (const [label, path, file] of [["module versions", versionsPath, "/versions.json"], ["provider metadata", metadataPath, "/metadata.json"]] as const) {
      await wrk(url + path, { seconds: 2, connections: CONNECTIONS }); // warm-up
      const ours = await wrk(url + path, { seconds: SECONDS, connections: CONNECTIONS });
      const ref = await wrk(nginx.url + file, { seconds: SECONDS, connections: CONNECTIONS });
      rows.push({
        endpoint: label,
        "opendepot req/s": Math.round(ours.requestsPerSec),
        "nginx req/s": Math.round(ref.requestsPerSec),
        "throughput ratio": (ours.requestsPerSec / ref.requestsPerSec).toFixed(2),
        "opendepot p99 ms": ours.p99ms.toFixed(2),
        "nginx p99 ms": ref.p99ms.toFixed(2),
        "p99 ratio": (ours.p99ms / ref.p99ms).toFixed(2),
        errors: ours.non2xx,
      });
    }
    const loadedRss = await rssMiB(proc.pid);
    console.log(table(rows));
    console.log(`\nresident memory with ${MODULES} modules × ${VERSIONS} versions: ${idleRss} MiB after start (${startupMs} ms to ready), ${loadedRss} MiB after load`);
  } finally {
    await nginx.stop();
    proc.kill("SIGTERM");
    await proc.exited;
  }
}

await main();
