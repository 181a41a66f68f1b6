// Acceptance with the real Terraform CLI: rotating the provider-signing key never breaks an install. Install with key
// A; `opendepot keygen --rotate` adds B (which then signs, A stays published); a fresh install verifies with B and
// the existing lock file still installs; retire A (remove its file); both still install. Along the way, the
// OpenTofu `packages` map in the package metadata is ignored by Terraform: its lock file holds exactly the hashes it
// would without it. And the module download keeps Terraform's 204 path.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { base64ToHex } from "../../src/artifacts/hash.ts";
import { startStandalone, type StandaloneProcess } from "../support/standalone-process.ts";
import { sampleProviderConfig } from "../support/sample-registry.ts";
import { TERRAFORM, TerraformWorkspace } from "../support/terraform.ts";
import { createFixtureRegistry } from "./fixture-registry.ts";

const MAIN = join(import.meta.dir, "..", "..", "src", "main.ts");
let fixture: Awaited<ReturnType<typeof createFixtureRegistry>>;
let server: StandaloneProcess;

const start = async () => (server = await startStandalone({ dataDir: fixture.dataDir, manifests: fixture.manifests, extra: ["--controllers", ""] }));
const restart = async () => {
  expect(await server.stop()).toBe(0);
  await start();
};

beforeAll(async () => {
  if (!existsSync(TERRAFORM)) throw new Error(`Terraform CLI not found at ${TERRAFORM}: the acceptance tests need it`);
  fixture = await createFixtureRegistry();
  await start();
});

afterAll(async () => {
  await server?.stop();
});

const metadata = async () => (await fetch(`${server.url}/opendepot/providers/v1/default/widget/2.1.0/download/linux/amd64`)).json() as Promise<{ signing_keys: { gpg_public_keys: { key_id: string }[] }; packages: Record<string, { hashes: string[] }> }>;
const keyIds = async () => (await metadata()).signing_keys.gpg_public_keys.map((k) => k.key_id);

async function keygen(...args: string[]): Promise<{ keyId: string; privateKeyPath: string; publicKeyPath: string; ring?: string[] }> {
  const p = Bun.spawn(["bun", MAIN, "keygen", ...args], { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  expect({ code, err }).toEqual({ code: 0, err: "" });
  return JSON.parse(out);
}

/** `terraform init` in a workspace; returns the key id Terraform says it verified the provider with. */
async function init(ws: TerraformWorkspace): Promise<string> {
  await rm(join(ws.dir, ".terraform"), { recursive: true, force: true });
  await ws.pointAt(server.url); // a restart listens on a new port
  const r = await ws.run("init");
  expect({ exitCode: r.exitCode, stderr: r.stderr }).toEqual({ exitCode: 0, stderr: "" });
  const m = /Installed registry\.local\/default\/widget v2\.1\.0 \(self-signed, key ID ([0-9A-F]{16})\)/.exec(r.stdout);
  expect(m).not.toBeNull();
  return m![1]!;
}

const lockHashes = async (ws: TerraformWorkspace) => [...(await readFile(join(ws.dir, ".terraform.lock.hcl"), "utf8")).matchAll(/"((?:h1|zh):[^"]+)"/g)].map((m) => m[1]).sort();

describe("signing key rotation with terraform init", () => {
  let locked: TerraformWorkspace;
  let keyA: string;

  test("install with key A; the lock file holds only this platform's hashes although `packages` lists both", async () => {
    const ids = await keyIds();
    expect(ids).toHaveLength(1);
    keyA = ids[0]!;
    const meta = await metadata();
    expect(Object.keys(meta.packages)).toEqual(["darwin_arm64", "linux_amd64"]);
    locked = await TerraformWorkspace.create(server.url, { "main.tf": sampleProviderConfig() });
    expect(await init(locked)).toBe(keyA);
    const linux = fixture.builds.find((b) => b.spec.operatingSystem === "linux")!;
    // Exactly what Terraform locks without the extension: the installed package's h1 and the zh of SHA256SUMS.
    expect(await lockHashes(locked)).toEqual([linux.status!.h1!, `zh:${base64ToHex(linux.status!.checksum!)}`].sort());
  }, 60_000);

  test("keygen --rotate adds key B; both are published, B signs; a fresh install verifies with B, the locked one installs", async () => {
    await Bun.sleep(1100); // OpenPGP creation times have one-second resolution: B must be newer than A
    const b = await keygen("--out-dir", fixture.dataDir, "--rotate", "--name", "Rotated");
    expect(b.ring).toEqual([b.keyId, keyA]);
    await restart();
    expect(await keyIds()).toEqual([b.keyId, keyA]);
    const fresh = await TerraformWorkspace.create(server.url, { "main.tf": sampleProviderConfig() });
    expect(await init(fresh)).toBe(b.keyId);
    const before = await readFile(join(locked.dir, ".terraform.lock.hcl"), "utf8");
    expect(await init(locked)).toBe(b.keyId);
    expect(await readFile(join(locked.dir, ".terraform.lock.hcl"), "utf8")).toBe(before);

    // Retire A: remove its key files. Both workspaces still install, verified with B.
    await rm(join(fixture.dataDir, "signing-key.asc"));
    await rm(join(fixture.dataDir, "signing-key.pub.asc"));
    await restart();
    expect(await keyIds()).toEqual([b.keyId]);
    expect(await init(fresh)).toBe(b.keyId);
    expect(await init(locked)).toBe(b.keyId);
    expect(await readFile(join(locked.dir, ".terraform.lock.hcl"), "utf8")).toBe(before);
  }, 120_000);

  test("a signature URL naming a key the ring still has is signed by that key (mixed rings during a rollout)", async () => {
    const meta = (await metadata()) as unknown as { shasums_signature_url: string };
    const url = new URL(meta.shasums_signature_url, server.url);
    expect(url.searchParams.get("key")).toMatch(/^[0-9A-F]{16}$/);
    expect((await fetch(url)).status).toBe(200);
    url.searchParams.set("key", "0123456789ABCDEF"); // a key this replica doesn't hold: signed by the current one
    expect((await fetch(url)).status).toBe(200);
  });
});

describe("URL-signing key rotation", () => {
  test("after keygen --url-signing-key --rotate and a restart, URLs minted before still work; new ones use the new key", async () => {
    const meta = (await metadata()) as unknown as { download_url: string };
    const oldUrl = new URL(meta.download_url, server.url);
    expect((await fetch(oldUrl)).status).toBe(200);
    await keygen("--url-signing-key", join(fixture.dataDir, "url-signing.key"), "--rotate");
    await restart();
    expect((await fetch(new URL(oldUrl.pathname + oldUrl.search, server.url))).status).toBe(200); // a new port, the same path
    const fresh = new URL(((await metadata()) as unknown as { download_url: string }).download_url, server.url);
    expect(fresh.searchParams.get("signature")).not.toBe(oldUrl.searchParams.get("signature"));
    expect((await fetch(fresh)).status).toBe(200);
    const ws = await TerraformWorkspace.create(server.url, { "main.tf": sampleProviderConfig() });
    await init(ws);
  }, 60_000);
});
