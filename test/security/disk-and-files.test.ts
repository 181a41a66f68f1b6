// Findings (Medium): a full disk prevented restart (every start rewrote the kubeconfig and died on ENOSPC, leaving
// kubeconfig.<pid>.tmp); store.db was world-readable in a pre-created 0755 data dir; a same-size, same-mtime
// rewrite of an artifact kept being served. Replayed with a real standalone process on a small tmpfs (mounting one
// needs root, as CI runs here), real files, and the filesystem backend.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, statSync, utimesSync, writeSync, closeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "../../src/log.ts";
import { EmbeddedStore } from "../../src/store/embedded.ts";
import { storageFactory } from "../../src/storage/factory.ts";
import { FilesystemStorage } from "../../src/storage/filesystem.ts";
import { streamOf } from "../../src/storage/conformance.ts";
import { publishSampleRegistry } from "../support/sample-registry.ts";
import { startStandalone, type StandaloneProcess } from "../support/standalone-process.ts";
import type { JsonResponse } from "../support/ports.ts";
import { SecurityTally } from "./capture.ts";

const tally = new SecurityTally("disk and files");
const root = mkdtempSync(join(tmpdir(), "opendepot-sec-disk-"));
afterAll(() => {
  tally.print();
  rmSync(root, { recursive: true, force: true });
});

describe("store file permissions", () => {
  test("store.db in a pre-created 0755 dir is created 0600; an existing 0644 one (and -wal/-shm) is tightened", async () => {
    const dir = join(root, "perm");
    mkdirSync(dir, { mode: 0o755 });
    chmodSync(dir, 0o755);
    const fresh = EmbeddedStore.open(join(dir, "store.db"), { log: silentLogger });
    await fresh.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "team-a" } });
    for (const f of readdirSync(dir)) expect(statSync(join(dir, f)).mode & 0o777, f).toBe(0o600);
    await fresh.close();
    chmodSync(join(dir, "store.db"), 0o644);
    const again = EmbeddedStore.open(join(dir, "store.db"), { log: silentLogger });
    for (const f of readdirSync(dir)) expect(statSync(join(dir, f)).mode & 0o777, f).toBe(0o600);
    await again.close();
  });
});

describe("same-size, same-mtime corruption", () => {
  test("dd conv=notrunc + touch -d changes the pin (ctime), so the object is no longer trusted", async () => {
    const storage = new FilesystemStorage(join(root, "pin"));
    const key = "team-a/modules/vpc/0190a0b0-0000-7000-8000-000000000000.zip";
    await storage.put(key, streamOf(new TextEncoder().encode("the verified bytes of an archive")));
    const path = join(root, "pin", key);
    const when = new Date("2026-01-01T00:00:00Z");
    utimesSync(path, when, when);
    const verified = await storage.head(key);
    const before = statSync(path, { bigint: true });
    await Bun.sleep(20); // ctime granularity
    const fd = openSync(path, "r+");
    writeSync(fd, Buffer.from("THE"), 0, 3, 0); // dd conv=notrunc: same size, in place
    closeSync(fd);
    utimesSync(path, when, when); // touch -d: mtime put back
    const after = statSync(path, { bigint: true });
    // What the old pin (inode, size, mtime) saw: nothing changed.
    expect([after.ino, after.size, after.mtimeNs]).toEqual([before.ino, before.size, before.mtimeNs]);
    tally.tried++;
    const head = await storage.head(key);
    expect(head?.pin).not.toBe(verified?.pin);
    tally.refused++;
    // An untouched object keeps its pin across reads (no false alarms).
    const other = "team-a/modules/vpc/0190a0b0-0000-7000-8000-000000000001.zip";
    const p2 = await storage.put(other, streamOf(new Uint8Array(100)));
    await (await storage.get(other)).body.cancel();
    expect((await storage.head(other))?.pin).toBe(p2.pin);
  });
});

describe("a full disk", () => {
  const mnt = join(root, "full");
  let sp: StandaloneProcess | undefined;
  let mounted = false;

  beforeAll(async () => {
    if (process.getuid?.() !== 0) throw new Error("this test mounts a tmpfs and must run as root (as CI does)");
    mkdirSync(mnt);
    const m = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", mnt]);
    if (m.exitCode !== 0) throw new Error(`mount tmpfs failed: ${m.stderr.toString()}`);
    mounted = true;
    const dataDir = join(mnt, "data");
    mkdirSync(dataDir);
    const store = EmbeddedStore.open(join(dataDir, "store.db"), { log: silentLogger });
    await publishSampleRegistry(store, storageFactory({ defaultRoot: join(dataDir, "artifacts") }), { namespace: "default" });
    await store.close();
    // First start writes keys, certificates and the kubeconfig; then the disk fills up.
    sp = await startStandalone({ dataDir, admin: true, extra: ["--controllers", ""] });
    expect(await sp.stop()).toBe(0);
    const fill = openSync(join(mnt, "filler"), "w");
    for (const chunk of [1024 * 1024, 4096, 1]) {
      for (;;) {
        try {
          writeSync(fill, new Uint8Array(chunk));
        } catch {
          break; // ENOSPC at this chunk size: go smaller
        }
      }
    }
    closeSync(fill);
    sp = await startStandalone({ dataDir, admin: true, extra: ["--controllers", ""] });
  }, 90_000);

  afterAll(async () => {
    await sp?.stop();
    if (mounted) Bun.spawnSync(["umount", mnt]);
  });

  test("standalone starts, serves downloads and the admin API reads; writes answer 503 'disk full'", async () => {
    const dataDir = join(mnt, "data");
    expect(readdirSync(dataDir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
    const versions = (await (await fetch(`${sp!.url}/opendepot/modules/v1/default/network/aws/versions`)).json()) as { modules: { versions: { version: string }[] }[] };
    const version = versions.modules[0]!.versions[0]!.version;
    const dl = await fetch(`${sp!.url}/opendepot/modules/v1/default/network/aws/${version}/download`);
    expect(dl.status).toBe(204);
    const file = await fetch(new URL(dl.headers.get("x-terraform-get")!, sp!.url));
    expect(file.status).toBe(200);
    expect((await file.arrayBuffer()).byteLength).toBeGreaterThan(0);

    const token = (await Bun.file(join(dataDir, "admin-token")).text()).trim();
    const admin = (method: string, path: string, body?: unknown) =>
      fetch(`${sp!.adminUrl}${path}`, { method, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body), tls: { rejectUnauthorized: false } }) as Promise<JsonResponse>;
    expect((await admin("GET", "/apis/opendepot.defdev.io/v1alpha1/namespaces/default/modules")).status).toBe(200);
    tally.tried++;
    const write = await admin("POST", "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "while-full" } });
    expect(write.status).toBe(503);
    expect((await write.json()).message).toContain("disk full at");
    tally.refused++;
    expect(sp!.logs().some((l) => String(l.msg).includes("disk full"))).toBe(true);
    expect(existsSync(join(dataDir, "kubeconfig"))).toBe(true);
  });
});
