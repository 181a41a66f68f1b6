import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as openpgp from "openpgp";
import { keygen, loadOrCreateSigningKey, PRIVATE_KEY_FILE, PUBLIC_KEY_FILE, SigningKey, SigningKeyError } from "./signing.ts";
import { run, runSync } from "../../test/support/processes.ts";

const GPG = "/usr/bin/gpg";
let dir: string;
let key: SigningKey;
let gpgKeys: { plain: string; encrypted: string; plainId: string; encryptedId: string };

async function gpg(home: string, args: string[], input?: string): Promise<{ code: number; out: string; err: string }> {
  return run([GPG, "--homedir", home, "--batch", "--no-tty", ...args], { input });
}

async function gpgHome(name: string): Promise<string> {
  const home = join(dir, name);
  await mkdir(home, { mode: 0o700 });
  return home;
}

/** A key made by gpg itself: RSA 3072, sign-only, exported armored (encrypted when a passphrase is given). */
async function gpgGeneratedKey(passphrase: string): Promise<{ armored: string; keyId: string }> {
  const home = await gpgHome(`gpg-gen-${passphrase ? "enc" : "plain"}`);
  const loopback = ["--pinentry-mode", "loopback", "--passphrase", passphrase];
  const gen = await gpg(home, [...loopback, "--quick-gen-key", "Test <t@example.com>", "rsa3072", "sign", "never"]);
  if (gen.code !== 0) throw new Error(`gpg key generation failed: ${gen.err}`);
  const exported = await gpg(home, [...loopback, "--export-secret-keys", "--armor"]);
  const listed = await gpg(home, ["--with-colons", "--list-keys"]);
  runSync(["gpgconf", "--homedir", home, "--kill", "gpg-agent"]);
  return { armored: exported.out, keyId: listed.out.split("\n").find((l) => l.startsWith("pub:"))!.split(":")[4]! };
}

/** Verifies a binary detached signature with gpg: true when gpg reports a good signature. */
async function gpgVerifies(publicKeyArmored: string, data: string | Uint8Array, signature: Uint8Array, name: string): Promise<boolean> {
  const home = await gpgHome(`verify-${name}`);
  expect((await gpg(home, ["--import"], publicKeyArmored)).code).toBe(0);
  await writeFile(join(home, "data"), data);
  await writeFile(join(home, "data.sig"), signature);
  const { code } = await gpg(home, ["--verify", join(home, "data.sig"), join(home, "data")]);
  runSync(["gpgconf", "--homedir", home, "--kill", "gpg-agent"]);
  return code === 0;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "opendepot-signing-"));
  const [k, plain, encrypted] = await Promise.all([
    SigningKey.generate({ name: "OpenDepot Test", email: "test@example.com" }),
    gpgGeneratedKey(""),
    gpgGeneratedKey("correct horse"),
  ]);
  key = k;
  gpgKeys = { plain: plain.armored, encrypted: encrypted.armored, plainId: plain.keyId, encryptedId: encrypted.keyId };
}, 60_000);

afterAll(() => rm(dir, { recursive: true, force: true }));

const SHASUMS = `${"ab".repeat(32)}  terraform-provider-x_1.0.0_linux_amd64.zip\n`;

describe("SigningKey", () => {
  test("generated key: RSA 3072, 16 upper-case hex key id", async () => {
    expect(key.keyId).toMatch(/^[0-9A-F]{16}$/);
    const pub = await openpgp.readKey({ armoredKey: key.publicKeyArmored });
    expect(pub.getAlgorithmInfo()).toEqual({ algorithm: "rsaEncryptSign", bits: 3072 });
    expect(pub.getKeyID().toHex().toUpperCase()).toBe(key.keyId);
    expect(key.publicKeyArmored).toStartWith("-----BEGIN PGP PUBLIC KEY BLOCK-----");
  });

  test("binary detached signature that gpg verifies, and rejects for modified data", async () => {
    const sig = await key.sign(SHASUMS);
    expect(new TextDecoder().decode(sig.subarray(0, 10))).not.toContain("-----");
    expect(sig[0]! & 0x80).toBe(0x80); // an OpenPGP packet tag, not armor
    expect(await gpgVerifies(key.publicKeyArmored, SHASUMS, sig, "good")).toBe(true);
    expect(await gpgVerifies(key.publicKeyArmored, SHASUMS.replace("ab", "ac"), sig, "tampered")).toBe(false);
  });

  test("identical input gets the identical (memoised) signature, concurrent requests included", async () => {
    const data = new TextEncoder().encode("memo\n");
    const [a, b] = await Promise.all([key.sign(data), key.sign("memo\n")]);
    expect(b).toEqual(a);
    const copy = b.slice();
    a.fill(0); // callers get their own copy: mutating it must not poison the cache
    b.fill(0);
    expect(await key.sign(data)).toEqual(copy);
    expect(await key.sign("other\n")).not.toEqual(b);
  });

  test("privateKeyArmored round-trips", async () => {
    const again = await SigningKey.fromArmored(key.privateKeyArmored());
    expect(again.keyId).toBe(key.keyId);
    expect(await gpgVerifies(key.publicKeyArmored, "x", await again.sign("x"), "roundtrip")).toBe(true);
  });

  test("a passphrase-protected generated key needs the right passphrase", async () => {
    const enc = await SigningKey.generate({ name: "E", email: "e@example.com", rsaBits: 2048, passphrase: "s3cret" });
    const armored = enc.privateKeyArmored();
    expect((await openpgp.readPrivateKey({ armoredKey: armored })).isDecrypted()).toBe(false);
    await expect(SigningKey.fromArmored(armored)).rejects.toThrow(/encrypted: a passphrase is required/);
    await expect(SigningKey.fromArmored(armored, "wrong")).rejects.toThrow(/wrong passphrase/);
    expect((await SigningKey.fromArmored(armored, "s3cret")).keyId).toBe(enc.keyId);
  });

  test("keys exported by gpg (with and without passphrase) load and sign verifiably", async () => {
    const plain = await SigningKey.fromArmored(gpgKeys.plain);
    expect(plain.keyId).toBe(gpgKeys.plainId);
    expect(await gpgVerifies(plain.publicKeyArmored, SHASUMS, await plain.sign(SHASUMS), "gpg-plain")).toBe(true);

    await expect(SigningKey.fromArmored(gpgKeys.encrypted, "nope")).rejects.toBeInstanceOf(SigningKeyError);
    const encrypted = await SigningKey.fromArmored(gpgKeys.encrypted, "correct horse");
    expect(encrypted.keyId).toBe(gpgKeys.encryptedId);
    expect(await gpgVerifies(encrypted.publicKeyArmored, SHASUMS, await encrypted.sign(SHASUMS), "gpg-enc")).toBe(true);
  });

  test("rejects ECC keys and garbage", async () => {
    const { privateKey } = await openpgp.generateKey({ type: "ecc", curve: "ed25519Legacy", userIDs: [{ name: "E" }], format: "armored" });
    await expect(SigningKey.fromArmored(privateKey)).rejects.toThrow(/only RSA keys are supported/);
    await expect(SigningKey.fromArmored("not a key")).rejects.toThrow(/cannot read the signing key/);
    await expect(SigningKey.generate({ name: "x", email: "x@example.com", rsaBits: 1024 })).rejects.toThrow(/2048/);
  });
});

describe("key files", () => {
  test("loadOrCreateSigningKey creates once (0600 private, public beside it), then loads", async () => {
    const keyDir = join(dir, "data");
    // Two processes starting at once must end up with one key.
    const [a, b] = await Promise.all([loadOrCreateSigningKey(keyDir, { name: "A" }), loadOrCreateSigningKey(keyDir, { name: "B" })]);
    expect(a.keyId).toBe(b.keyId);
    expect((await stat(join(keyDir, PRIVATE_KEY_FILE))).mode & 0o777).toBe(0o600);
    expect((await stat(join(keyDir, PUBLIC_KEY_FILE))).mode & 0o777).toBe(0o644);
    expect(await readFile(join(keyDir, PUBLIC_KEY_FILE), "utf8")).toBe(a.publicKeyArmored);
    expect((await loadOrCreateSigningKey(keyDir)).keyId).toBe(a.keyId);
    expect((await readdir(keyDir)).filter((name) => name.startsWith(".") && name.endsWith(".tmp"))).toEqual([]);
  }, 20_000);

  test("keygen writes a key pair and refuses to overwrite it without force", async () => {
    const out = join(dir, "keygen");
    const first = await keygen({ dir: out, name: "K", email: "k@example.com", rsaBits: 2048, passphrase: "pw" });
    expect(first.privateKeyPath).toBe(join(out, PRIVATE_KEY_FILE));
    const loaded = await SigningKey.fromArmored(await readFile(first.privateKeyPath, "utf8"), "pw");
    expect(loaded.keyId).toBe(first.keyId);
    await expect(keygen({ dir: out, rsaBits: 2048 })).rejects.toThrow(/already exists/);
    const second = await keygen({ dir: out, rsaBits: 2048, force: true });
    expect(second.keyId).not.toBe(first.keyId);
    expect((await SigningKey.fromArmored(await readFile(second.privateKeyPath, "utf8"))).keyId).toBe(second.keyId);
  }, 20_000);
});
