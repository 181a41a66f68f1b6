// Benchmark: upload and download one large object (1 GiB by default) through every storage backend the tests run
// (filesystem; S3 on Swift s3api; Azure on Azurite; GCS on the JSON-API fake in a separate process), reporting
// throughput and the peak growth of this process's resident memory (sampled every 100 ms), which must stay flat.
//   bun bench/storage.ts [--mib 1024] [--backends filesystem,s3,azure,gcs]
// Data is generated on the fly (no fixture on disk). Starts and stops its own peers; stops by itself.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startAzurite } from "../test/peers/azurite.ts";
import { startSwift } from "../test/peers/swift.ts";
import { AzureBlobStorage } from "../src/storage/azure.ts";
import { staticAwsCredentials } from "../src/storage/credentials/aws.ts";
import { parseServiceAccountKey, serviceAccountCredentials } from "../src/storage/credentials/gcp.ts";
import { FilesystemStorage } from "../src/storage/filesystem.ts";
import { GcsStorage } from "../src/storage/gcs.ts";
import { S3Storage } from "../src/storage/s3.ts";
import type { ArtifactStorage } from "../src/storage/types.ts";
import { table } from "./support.ts";

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : fallback;
};
const MIB = Number(arg("mib", "1024"));
const BACKENDS = arg("backends", "filesystem,s3,azure,gcs").split(",");
const SIZE = MIB * 1024 * 1024;
const DEADLINE_MS = 20 * 60_000;

interface Backend {
  storage: ArtifactStorage;
  stop(): Promise<void>;
}

async function backend(name: string): Promise<Backend> {
  switch (name) {
    case "filesystem": {
      const dir = await mkdtemp(join(tmpdir(), "bench-fs-"));
      return { storage: new FilesystemStorage(dir), stop: () => rm(dir, { recursive: true, force: true }) };
    }
    case "s3": {
      const p = await startSwift();
      const credentials = staticAwsCredentials({ accessKeyId: p.accessKeyId, secretAccessKey: p.secretAccessKey });
      return { storage: new S3Storage({ bucket: p.bucket, region: p.region, endpoint: p.endpoint, forcePathStyle: true, credentials }), stop: p.stop };
    }
    case "azure": {
      const p = await startAzurite();
      const credential = { kind: "sharedKey" as const, key: { accountName: p.accountName, accountKey: p.accountKey }, source: "azurite key" };
      return { storage: new AzureBlobStorage({ accountUrl: p.accountUrl, accountName: p.accountName, credential }), stop: p.stop };
    }
    case "gcs": {
      // The fake runs in its own process so that its buffers do not count against ours.
      const proc = Bun.spawn(["bun", join(import.meta.dir, "..", "fixtures", "gcs-fake.ts")], { stdout: "pipe", stderr: "inherit" });
      const reader = proc.stdout.getReader();
      const { value } = await reader.read();
      reader.releaseLock();
      const info = JSON.parse(new TextDecoder().decode(value).split("\n")[0]!) as { url: string; key: unknown };
      const key = parseServiceAccountKey("bench key", JSON.stringify(info.key));
      return {
        storage: new GcsStorage({ bucket: "bench", endpoint: info.url, credentials: serviceAccountCredentials(key) }),
        stop: async () => {
          proc.kill("SIGTERM");
          await proc.exited;
        },
      };
    }
    default:
      throw new Error(`unknown backend ${name}`);
  }
}

/** SIZE bytes from one 1 MiB pattern, produced on demand (pull) in 64 KiB chunks like a network body. */
function generated(): ReadableStream<Uint8Array> {
  const block = new Uint8Array(1024 * 1024);
  crypto.getRandomValues(block.subarray(0, 65536));
  for (let i = 65536; i < block.length; i++) block[i] = block[i - 65536]! ^ (i & 0xff);
  let sent = 0;
  return new ReadableStream<Uint8Array>(
    {
      pull(c) {
        if (sent >= SIZE) return c.close();
        const n = Math.min(65536, SIZE - sent);
        const at = sent % block.length;
        c.enqueue(block.slice(at, at + n));
        sent += n;
      },
    },
    { highWaterMark: 0 },
  );
}

/** Runs `work` while sampling RSS every 100 ms; returns seconds taken and peak RSS above the starting point. */
async function measured<T>(work: () => Promise<T>): Promise<{ seconds: number; peakMiB: number; result: T }> {
  Bun.gc(true);
  const base = process.memoryUsage().rss;
  let peak = base;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100);
  const t0 = performance.now();
  try {
    const result = await work();
    peak = Math.max(peak, process.memoryUsage().rss);
    return { seconds: (performance.now() - t0) / 1000, peakMiB: (peak - base) / 1024 / 1024, result };
  } finally {
    clearInterval(timer);
  }
}

async function drain(body: ReadableStream<Uint8Array>): Promise<{ bytes: number; sha256: string }> {
  const hasher = new Bun.CryptoHasher("sha256");
  let bytes = 0;
  for await (const chunk of body) {
    hasher.update(chunk);
    bytes += chunk.byteLength;
  }
  return { bytes, sha256: hasher.digest("base64") };
}

const rows: Record<string, string | number>[] = [];
const deadline = setTimeout(() => {
  console.error(`bench: still running after ${DEADLINE_MS / 60000} min, giving up`);
  process.exit(2);
}, DEADLINE_MS);

for (const name of BACKENDS) {
  let b: Backend | undefined;
  try {
    b = await backend(name);
    const key = "bench/team/providers/big/0190f3c1-7c2a-7b6e-9c1d-3a4b5c6d7e8f.zip";
    const up = await measured(() => b!.storage.put(key, generated()));
    const down = await measured(async () => drain((await b!.storage.get(key)).body));
    const ok = down.result.bytes === SIZE && down.result.sha256 === up.result.sha256;
    await b.storage.delete(key);
    rows.push({
      backend: name,
      "size MiB": MIB,
      "upload MB/s": (SIZE / 1e6 / up.seconds).toFixed(0),
      "upload peak RSS +MiB": up.peakMiB.toFixed(1),
      "download MB/s": (SIZE / 1e6 / down.seconds).toFixed(0),
      "download peak RSS +MiB": down.peakMiB.toFixed(1),
      "bytes+sha256": ok ? "ok" : "MISMATCH",
    });
    console.error(`bench: ${name} done`);
  } catch (e) {
    rows.push({ backend: name, "size MiB": MIB, "upload MB/s": "error", "upload peak RSS +MiB": "-", "download MB/s": "-", "download peak RSS +MiB": "-", "bytes+sha256": String(e).slice(0, 60) });
  } finally {
    await b?.stop().catch(() => {});
  }
}
clearTimeout(deadline);
console.log(table(rows));
