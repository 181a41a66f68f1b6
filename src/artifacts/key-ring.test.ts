import { beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as openpgp from "openpgp";
import { silentLogger } from "../log.ts";
import { loadSigningKey, reloadRing } from "../roles/signing-key.ts";
import { privateKeyBlocks, SigningKeyRing } from "./key-ring.ts";
import { keygen, SigningKey, SigningKeyError } from "./signing.ts";
import { sleep } from "../kits/sleep.ts";

let older: SigningKey;
let newer: SigningKey;
beforeAll(async () => {
  [older, newer] = await Promise.all([
    SigningKey.generate({ name: "A", email: "a@example.com", rsaBits: 2048, date: new Date("2026-01-01T00:00:00Z") }),
    SigningKey.generate({ name: "B", email: "b@example.com", rsaBits: 2048, date: new Date("2026-06-01T00:00:00Z") }),
  ]);
});

async function verifiesWith(key: SigningKey, data: string, signature: Uint8Array): Promise<boolean> {
  const verificationKeys = await openpgp.readKey({ armoredKey: key.publicKeyArmored });
  const message = await openpgp.createMessage({ binary: new TextEncoder().encode(data) });
  const { signatures } = await openpgp.verify({ message, signature: await openpgp.readSignature({ binarySignature: signature }), verificationKeys, format: "binary" });
  return signatures[0]!.verified.then(() => true, () => false);
}

describe("SigningKeyRing", () => {
  test("the newest key signs; every key is active; duplicates collapse", async () => {
    const ring = new SigningKeyRing([older, newer, older]);
    expect(ring.keyId).toBe(newer.keyId);
    expect(ring.activeKeys.map((k) => k.keyId)).toEqual([newer.keyId, older.keyId]);
    const sig = await ring.sign("SHA256SUMS");
    expect(await verifiesWith(newer, "SHA256SUMS", sig)).toBe(true);
    expect(await verifiesWith(older, "SHA256SUMS", sig)).toBe(false);
  });

  test("signWith uses the named key while held, else the current one", async () => {
    const ring = new SigningKeyRing([older, newer]);
    expect(await verifiesWith(older, "x", await ring.signWith(older.keyId.toLowerCase(), "x"))).toBe(true);
    expect(await verifiesWith(newer, "x", await ring.signWith("0123456789ABCDEF", "x"))).toBe(true);
  });

  test("one armored text may hold several keys; an empty ring is refused", async () => {
    const text = `${older.privateKeyArmored()}\n${newer.privateKeyArmored()}\n`;
    expect(privateKeyBlocks(text)).toHaveLength(2);
    const ring = await SigningKeyRing.fromArmoredTexts([text]);
    expect(ring.activeKeys).toHaveLength(2);
    await expect(SigningKeyRing.fromArmoredTexts(["no keys here"])).rejects.toThrow(SigningKeyError);
  });
});

describe("key ring on disk", () => {
  test("keygen --rotate adds a key beside signing-key.asc; the data-dir ring loads both, the new one signs", async () => {
    const dir = await mkdtemp(join(tmpdir(), "opendepot-ring-"));
    try {
      const first = await keygen({ dir, rsaBits: 2048 });
      await expect(keygen({ dir, rsaBits: 2048 })).rejects.toThrow(/--rotate/);
      await sleep(1100); // OpenPGP creation times have one-second resolution
      const second = await keygen({ dir, rsaBits: 2048, rotate: true });
      expect(second.privateKeyPath).toBe(join(dir, `signing-key-${second.keyId}.asc`));
      expect((await readdir(dir)).sort()).toEqual(["signing-key-" + second.keyId + ".asc", "signing-key-" + second.keyId + ".pub.asc", "signing-key.asc", "signing-key.pub.asc"].sort());
      const ring = await loadSigningKey({ dataDir: dir, log: silentLogger, reloadIntervalMs: 0 });
      expect(ring.keyId).toBe(second.keyId);
      expect(ring.activeKeys.map((k) => k.keyId)).toEqual([second.keyId, first.keyId]);

      // Retiring the first key: remove its files; a reload drops it, and the rotated key keeps signing.
      await rm(first.privateKeyPath);
      await rm(first.publicKeyPath);
      await reloadRing(ring, dir, (n) => n.startsWith("signing-key") && !n.endsWith(".pub.asc"), undefined);
      expect(ring.activeKeys.map((k) => k.keyId)).toEqual([second.keyId]);
      // Standalone does not generate a fresh signing-key.asc over a ring that still has keys.
      const again = await loadSigningKey({ dataDir: dir, log: silentLogger, reloadIntervalMs: 0 });
      expect(again.activeKeys.map((k) => k.keyId)).toEqual([second.keyId]);
      // Removing the last key is refused: the ring keeps what it had.
      await rm(second.privateKeyPath);
      await expect(reloadRing(ring, dir, undefined, undefined)).rejects.toThrow(/no private signing keys/);
      expect(ring.keyId).toBe(second.keyId);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 30_000);

  test("--gpg-key-dir: every *.asc with a private key (dot files and public keys skipped); re-read when files change", async () => {
    const dir = await mkdtemp(join(tmpdir(), "opendepot-ringdir-"));
    try {
      await writeFile(join(dir, "a.asc"), older.privateKeyArmored());
      await writeFile(join(dir, "a.pub.asc"), older.publicKeyArmored);
      await writeFile(join(dir, "..data"), "not a key");
      const ring = await loadSigningKey({ keyDir: dir, log: silentLogger, reloadIntervalMs: 0 });
      expect(ring.activeKeys.map((k) => k.keyId)).toEqual([older.keyId]);
      await writeFile(join(dir, "b.asc"), newer.privateKeyArmored());
      await reloadRing(ring, dir, undefined, undefined);
      expect(ring.keyId).toBe(newer.keyId);
      expect(ring.activeKeys).toHaveLength(2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("a key file with several keys is a ring", async () => {
    const dir = await mkdtemp(join(tmpdir(), "opendepot-ringfile-"));
    try {
      await writeFile(join(dir, "keys.asc"), `${older.privateKeyArmored()}${newer.privateKeyArmored()}`);
      const ring = await loadSigningKey({ keyFile: join(dir, "keys.asc"), log: silentLogger });
      expect(ring.activeKeys.map((k) => k.keyId)).toEqual([newer.keyId, older.keyId]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
