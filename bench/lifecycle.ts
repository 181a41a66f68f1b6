// Benchmark: what the lifecycle rules cost on the read path. Cold (re-)build of a provider versions document with
// N versions × 4 platforms, with no lifecycle and with 20% of versions yanked and 20% deprecated (the index rebuilds
// it once per change, then serves the memoised bytes).
//   bun bench/lifecycle.ts [--versions 500] [--rounds 50]
import type { ModuleObject, ProviderObject, VersionObject } from "../src/api/kinds.ts";
import { API_VERSION, LABELS } from "../src/api/meta.ts";
import { artifactFileName, providerVersionName } from "../src/api/naming.ts";
import { RegistryIndex } from "../src/server/registry-index.ts";
import { StaticFeed } from "../test/support/static-feed.ts";
import { table, numberArg as arg } from "./support.ts";

const VERSIONS = arg("versions", 500);
const ROUNDS = arg("rounds", 50);
const PLATFORMS = [["linux", "amd64"], ["linux", "arm64"], ["darwin", "amd64"], ["darwin", "arm64"]] as const;

function builds(lifecycle: boolean): VersionObject[] {
  const out: VersionObject[] = [];
  for (let i = 0; i < VERSIONS; i++) {
    const version = `${Math.floor(i / 100)}.${Math.floor(i / 10) % 10}.${i % 10}`;
    for (const [os, arch] of PLATFORMS) {
      out.push({
        apiVersion: API_VERSION,
        kind: "Version",
        metadata: { name: providerVersionName("widget", version, os, arch), namespace: "bench", labels: { [LABELS.provider]: "widget" }, resourceVersion: "1" },
        spec: {
          type: "Provider", version, operatingSystem: os, architecture: arch, fileName: artifactFileName(".zip"), providerConfigRef: { name: "widget" },
          ...(lifecycle && i % 5 === 1 ? { yanked: { reason: "bad build" } } : {}),
          ...(lifecycle && i % 5 === 2 ? { deprecated: { message: "upgrade" } } : {}),
        },
        status: { synced: true, checksum: "x".repeat(44), protocols: ["5.0"], h1: "h1:abc", ...(lifecycle && i % 5 === 1 ? { yankedAt: new Date().toISOString() } : {}) },
      });
    }
  }
  return out;
}

function measure(lifecycle: boolean): number {
  const versions = new StaticFeed<VersionObject>(builds(lifecycle));
  const index = new RegistryIndex({ modules: new StaticFeed<ModuleObject>(), providers: new StaticFeed<ProviderObject>(), versions });
  const first = versions.list()[0]!;
  index.providerVersionsBody("bench", "widget");
  const started = performance.now();
  for (let r = 0; r < ROUNDS; r++) {
    versions.put({ ...first, metadata: { ...first.metadata, resourceVersion: String(r + 2) } }); // invalidates the memo
    index.providerVersionsBody("bench", "widget");
  }
  return (performance.now() - started) / ROUNDS;
}

const header = `ms per rebuild (${VERSIONS} versions × ${PLATFORMS.length} platforms)`;
console.log(
  table([
    { case: "no lifecycle", [header]: measure(false).toFixed(2) },
    { case: "20% yanked, 20% deprecated", [header]: measure(true).toFixed(2) },
  ]),
);
