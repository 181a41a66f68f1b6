// A real OpenStack Swift with the s3api middleware (SigV4-verifying S3 API) on loopback, for the S3 backend tests.
// Everything (configs, rings, the one storage device) lives in a temp dir; Debian's /etc/swift/swift.conf is only
// read by swift at import time, before our swift_dir takes over. Installed by .ci/install/swift.sh.
import { AwsClient } from "aws4fetch";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { existsSync } from "node:fs";
import { runtime, type ChildProcess } from "../../src/runtime/index.ts";
import { captureTail, freePort, stopProcess, waitUntil } from "./net.ts";

export interface SwiftPeer {
  /** S3 endpoint, e.g. http://127.0.0.1:PORT (path-style). */
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** A bucket created at start. */
  bucket: string;
  stop(): Promise<void>;
}

const SERVERS = ["account", "container", "object"] as const;

function which(cmd: string): string {
  const path = runtime.which(cmd) ?? (existsSync(`/usr/bin/${cmd}`) ? `/usr/bin/${cmd}` : undefined);
  if (!path) throw new Error(`${cmd} not found: run .ci/install/swift.sh (apt: swift-proxy swift-account swift-container swift-object memcached)`);
  return path;
}

async function run(argv: string[], cwd: string): Promise<void> {
  const proc = runtime.spawn(argv, { cwd });
  const [code] = await Promise.all([proc.exited, new Response(proc.stdout).arrayBuffer()]);
  // swift-ring-builder exits 1 for warnings ("rebalance" on a 1-device ring); only >1 is an error.
  if (code > 1) throw new Error(`${argv.join(" ")} failed (${code}): ${await new Response(proc.stderr).text()}`);
}

export async function startSwift(options: { bucket?: string } = {}): Promise<SwiftPeer> {
  const dir = await mkdtemp(join(tmpdir(), "opendepot-swift-"));
  const procs: ChildProcess[] = [];
  const stop = async () => {
    for (const p of procs.reverse()) await stopProcess(p);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const ports = { proxy: await freePort(), memcached: await freePort(), account: await freePort(), container: await freePort(), object: await freePort() };
    await mkdir(join(dir, "srv", "d1"), { recursive: true });
    await mkdir(join(dir, "run"), { recursive: true });
    await writeFile(join(dir, "swift.conf"), `[swift-hash]\nswift_hash_path_suffix = opendepot-test\nswift_hash_path_prefix = opendepot-test\n\n[storage-policy:0]\nname = Policy-0\ndefault = yes\n`);
    // Swift switches to `user` at start: the current user, so that it works as root (CI) and as anyone else.
    const user = userInfo().username;
    const common = `[DEFAULT]\nswift_dir = ${dir}\ndevices = ${join(dir, "srv")}\nmount_check = false\nbind_ip = 127.0.0.1\nworkers = 0\nuser = ${user}\nlog_level = WARNING\n`;
    // The three rings are independent: build them in parallel (each swift-ring-builder call is a python start-up).
    await Promise.all(
      SERVERS.map(async (server) => {
        await writeFile(
          join(dir, `${server}-server.conf`),
          `${common}bind_port = ${ports[server]}\n\n[pipeline:main]\npipeline = ${server}-server\n\n[app:${server}-server]\nuse = egg:swift#${server}\n`,
        );
        const builder = join(dir, `${server}.builder`);
        await run([which("swift-ring-builder"), builder, "create", "6", "1", "1"], dir);
        await run([which("swift-ring-builder"), builder, "add", `r1z1-127.0.0.1:${ports[server]}/d1`, "1"], dir);
        await run([which("swift-ring-builder"), builder, "rebalance"], dir);
      }),
    );
    await writeFile(
      join(dir, "proxy-server.conf"),
      `[DEFAULT]\nswift_dir = ${dir}\nbind_ip = 127.0.0.1\nbind_port = ${ports.proxy}\nworkers = 0\nuser = ${user}\nlog_level = WARNING\n\n` +
        `[pipeline:main]\npipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk s3api tempauth copy slo dlo proxy-logging proxy-server\n\n` +
        `[app:proxy-server]\nuse = egg:swift#proxy\naccount_autocreate = true\nallow_account_management = true\n\n` +
        `[filter:tempauth]\nuse = egg:swift#tempauth\nuser_test_tester = testing .admin\n\n` +
        `[filter:s3api]\nuse = egg:swift#s3api\nlocation = us-east-1\n\n` +
        `[filter:cache]\nuse = egg:swift#memcache\nmemcache_servers = 127.0.0.1:${ports.memcached}\n\n` +
        ["catch_errors", "gatekeeper", "healthcheck", "proxy-logging", "listing_formats", "bulk", "copy", "slo", "dlo"]
          .map((f) => `[filter:${f}]\nuse = egg:swift#${f.replace("-", "_")}\n`)
          .join("\n"),
    );
    const spawn = (argv: string[]) => {
      const p = runtime.spawn(argv, { cwd: dir });
      procs.push(p);
      captureTail(p.stdout); // drained, so a chatty server never blocks on a full pipe
      const tail = captureTail(p.stderr);
      return () => (p.exitCode !== null ? `${argv[0]} exit ${p.exitCode}: ${tail()}` : undefined);
    };
    const deadChecks = [spawn([which("memcached"), "-l", "127.0.0.1", "-p", String(ports.memcached), "-U", "0", "-m", "64", ...(process.getuid?.() === 0 ? ["-u", "root"] : [])])];
    for (const server of SERVERS) deadChecks.push(spawn([which(`swift-${server}-server`), join(dir, `${server}-server.conf`)]));
    deadChecks.push(spawn([which("swift-proxy-server"), join(dir, "proxy-server.conf")]));
    const isDead = () => deadChecks.map((d) => d()).find((x) => x);

    const endpoint = `http://127.0.0.1:${ports.proxy}`;
    const peer = { endpoint, region: "us-east-1", accessKeyId: "test:tester", secretAccessKey: "testing", bucket: options.bucket ?? "opendepot-test", stop };
    const aws = new AwsClient({ accessKeyId: peer.accessKeyId, secretAccessKey: peer.secretAccessKey, service: "s3", region: peer.region, retries: 0 });
    // Ready = the whole chain (proxy → tempauth → account/container servers) accepts a signed bucket creation.
    await waitUntil(
      "swift",
      async () => {
        const res = await aws.fetch(`${endpoint}/${peer.bucket}`, { method: "PUT", signal: AbortSignal.timeout(5000) });
        await res.arrayBuffer();
        return res.ok;
      },
      60_000,
      isDead,
    );
    return peer;
  } catch (e) {
    await stop();
    throw e;
  }
}
