import { describe, expect, test } from "bun:test";
import { mkdtemp, readFile, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SigningKey } from "./artifacts/signing.ts";

const MAIN = join(import.meta.dir, "main.ts");

async function run(...args: string[]) {
  const proc = Bun.spawn(["bun", MAIN, ...args], { stdout: "pipe", stderr: "pipe", env: { ...process.env, OPENDEPOT_LISTEN: "" } });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { stdout, stderr, code };
}

describe("opendepot CLI", () => {
  test("--help lists the roles; a role's --help lists its flags with their environment variables", async () => {
    const top = await run("--help");
    expect(top.code).toBe(0);
    expect(top.stdout).toContain("standalone");
    expect(top.stdout).toContain("keygen");
    const standalone = await run("standalone", "--help");
    expect(standalone.code).toBe(0);
    for (const text of ["--listen", "OPENDEPOT_LISTEN", "--data-dir", "OPENDEPOT_DATA_DIR", "--manifests", "OPENDEPOT_MANIFESTS", "--gpg-key-file"]) {
      expect(standalone.stdout).toContain(text);
    }
  });

  test("usage errors exit 2 with a message, never a stack trace", async () => {
    const none = await run();
    expect(none.code).toBe(2);
    const role = await run("frobnicate");
    expect(role.code).toBe(2);
    expect(role.stderr).toContain('unknown role "frobnicate"');
    const flag = await run("standalone", "--no-such-flag");
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain("unknown flag --no-such-flag");
    const listen = await run("standalone", "--listen", "nonsense:port", "--data-dir", await mkdtemp(join(tmpdir(), "opendepot-cli-")));
    expect(listen.code).toBe(2);
    expect(listen.stderr).toContain("invalid listen address");
  });

  test("a bad flag value names the flag and fails before anything starts (no data directory, no store)", async () => {
    const dataDir = join(await mkdtemp(join(tmpdir(), "opendepot-cli-")), "data");
    const bad = await run("standalone", "--data-dir", dataDir, "--version-concurrency", "0");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('flag --version-concurrency: must be an integer from 1 to 64, got "0"');
    expect(await stat(dataDir).catch(() => undefined)).toBeUndefined();
    const proc = Bun.spawn(["bun", MAIN, "standalone", "--data-dir", dataDir], { stdout: "pipe", stderr: "pipe", env: { ...process.env, OPENDEPOT_RESYNC_INTERVAL: "soon" } });
    const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
    expect(code).toBe(2);
    expect(stderr).toContain("flag --resync-interval (from OPENDEPOT_RESYNC_INTERVAL)");
    expect(await stat(dataDir).catch(() => undefined)).toBeUndefined();
  });

  test("keygen writes an RSA key pair that signs, private key mode 0600", async () => {
    const dir = await mkdtemp(join(tmpdir(), "opendepot-keygen-"));
    const r = await run("keygen", "--out-dir", dir, "--name", "CI", "--email", "ci@example.com");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.keyId).toMatch(/^[0-9A-F]{16}$/);
    expect((await stat(join(dir, "signing-key.asc"))).mode & 0o777).toBe(0o600);
    const key = await SigningKey.fromArmored(await readFile(join(dir, "signing-key.asc"), "utf8"));
    expect(key.keyId).toBe(out.keyId);
    expect((await key.sign("x")).length).toBeGreaterThan(100);
    expect((await run("keygen", "--out-dir", dir)).code).not.toBe(0); // never overwrites a key
  }, 60_000);
});
