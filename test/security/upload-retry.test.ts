// Finding (Low): a retry after a failed upload re-downloaded the whole upstream artifact. Replayed with the real
// publisher against the OpenTofu registry fake and filesystem storage that is down for the first two uploads (a
// fault like a full disk or an unreachable bucket): the provider is downloaded once, verified once, and stored by
// the third attempt; the kept file is gone afterwards.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { VersionObject } from "../../src/api/kinds.ts";
import { API_VERSION } from "../../src/api/meta.ts";
import { artifactFileName } from "../../src/api/naming.ts";
import { ArtifactPublisher } from "../../src/controllers/artifact-publisher.ts";
import { Upstreams } from "../../src/controllers/upstreams.ts";
import { silentLogger } from "../../src/log.ts";
import { EmbeddedStore } from "../../src/store/embedded.ts";
import { FilesystemStorage } from "../../src/storage/filesystem.ts";
import { StorageError, type ArtifactStorage } from "../../src/storage/types.ts";
import { startSampleUpstreams, type SampleUpstreams } from "../../fixtures/upstream-fakes.ts";
import { SecurityTally } from "./capture.ts";

const tally = new SecurityTally("upload retries");
const root = mkdtempSync(join(tmpdir(), "opendepot-sec-retry-"));
let upstreams: SampleUpstreams;
beforeAll(async () => {
  upstreams = await startSampleUpstreams();
});
afterAll(async () => {
  tally.print({ upstreamDownloads: upstreams?.opentofu.stats.downloads ?? -1 });
  await upstreams?.stop();
  rmSync(root, { recursive: true, force: true });
});

/** Real filesystem storage whose first `failures` uploads fail as an outage would. */
function flaky(failures: number): ArtifactStorage {
  const fs = new FilesystemStorage(join(root, "artifacts"));
  let left = failures;
  return Object.assign(Object.create(fs) as ArtifactStorage, {
    put: async (key: string, body: ReadableStream<Uint8Array>, o?: Parameters<ArtifactStorage["put"]>[2]) => {
      if (left-- > 0) {
        await body.cancel();
        throw new StorageError("Transient", "storage unavailable (injected)");
      }
      return fs.put(key, body, o);
    },
  });
}

describe("a failed upload is retried from the kept download", () => {
  test("three attempts, one upstream download", async () => {
    const store = EmbeddedStore.open(":memory:", { log: silentLogger });
    const work = join(root, "work");
    const storage = flaky(2);
    const publisher = new ArtifactPublisher(() => storage, new Upstreams(store, { opentofuRegistryUrl: upstreams.opentofu.url }), { tmpDir: work, rehashIntervalMs: 86_400_000 });
    const v: VersionObject = {
      apiVersion: API_VERSION,
      kind: "Version",
      metadata: { name: "aws-5-80-0-linux-amd64", namespace: "default", uid: crypto.randomUUID() },
      spec: { type: "Provider", version: "5.80.0", operatingSystem: "linux", architecture: "amd64", providerConfigRef: { name: "aws", namespace: "hashicorp" }, fileName: artifactFileName(".zip") },
    } as VersionObject;
    mkdirSync(work, { recursive: true });
    upstreams.opentofu.stats.downloads = 0;
    for (let attempt = 1; attempt <= 2; attempt++) {
      tally.tried++;
      await expect(publisher.fetchAndStore(v, "absent", new AbortController().signal)).rejects.toThrow("injected");
      expect(publisher.kept.size).toBe(1);
      expect(readdirSync(work).filter((f) => f.startsWith("opendepot-provider-"))).toHaveLength(1);
    }
    tally.tried++;
    const outcome = await publisher.fetchAndStore(v, "absent", new AbortController().signal);
    expect(outcome.kind).toBe("published");
    expect(upstreams.opentofu.stats.downloads).toBe(1);
    expect(publisher.kept.size).toBe(0);
    expect(readdirSync(work).filter((f) => f.startsWith("opendepot-provider-"))).toEqual([]);
    expect(existsSync(join(root, "artifacts", "default", "providers", v.metadata.name, v.spec.fileName!))).toBe(true);
    await store.close();
  }, 60_000);
});
