import { describe, expect, test } from "bun:test";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadOrCreateKeyRing, readKeyRingFile, rotateUrlSigningKey } from "../roles/secrets-on-disk.ts";
import { UrlSigner } from "./url-signer.ts";

const OLD = new Uint8Array(32).fill(1);
const NEW = new Uint8Array(32).fill(2);
const params = (signed: string) => new URL(signed, "http://x").searchParams;

describe("URL-signing key rotation", () => {
  test("the first key signs; the previous key is accepted for one TTL after the rotation, then refused", () => {
    let now = 1_000_000_000_000;
    const before = new UrlSigner(OLD, 600, () => now);
    const oldUrl = before.sign("/a", "sum");
    const rotated = new UrlSigner([NEW, OLD], 600, () => now);
    expect(rotated.check("/a", params(oldUrl), "sum")).toBeUndefined();
    const newUrl = rotated.sign("/a", "sum");
    expect(before.check("/a", params(newUrl), "sum")).toBe("download URL signature is invalid"); // new key signs
    now += 601_000 + 60_000; // one TTL (and its rounding window) later: every old URL has expired anyway
    const forged = new UrlSigner(OLD, 600, () => now).sign("/a", "sum");
    expect(rotated.check("/a", params(forged), "sum")).toBe("download URL signature is invalid");
    expect(rotated.check("/a", params(rotated.sign("/a", "sum")), "sum")).toBeUndefined();
  });

  test("a URL signed by a key that is in no ring is refused", () => {
    const rotated = new UrlSigner([NEW, OLD], 600);
    expect(rotated.check("/a", params(new UrlSigner(new Uint8Array(32).fill(3), 600).sign("/a", "sum")), "sum")).toBe("download URL signature is invalid");
  });

  test("keygen --url-signing-key F --rotate: new first line, previous key second, older ones dropped; 0600", async () => {
    const dir = await mkdtemp(join(tmpdir(), "opendepot-urlkey-"));
    try {
      const path = join(dir, "url-signing.key");
      const [original] = await loadOrCreateKeyRing(path);
      await rotateUrlSigningKey(path);
      const once = await readKeyRingFile(path);
      expect(once).toHaveLength(2);
      expect(Buffer.from(once[1]!).equals(Buffer.from(original!))).toBe(true);
      await rotateUrlSigningKey(path);
      const twice = await readKeyRingFile(path);
      expect(twice).toHaveLength(2);
      expect(Buffer.from(twice[1]!).equals(Buffer.from(once[0]!))).toBe(true);
      expect((await stat(path)).mode & 0o777).toBe(0o600);
      expect((await loadOrCreateKeyRing(path)).map((k) => Buffer.from(k).toString("hex")).join("\n")).toBe((await readFile(path, "utf8")).trim());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("a single raw-text key file is still one key", async () => {
    const dir = await mkdtemp(join(tmpdir(), "opendepot-urlkey-"));
    try {
      const path = join(dir, "k");
      await Bun.write(path, "a passphrase-like key that is long enough to be used\n");
      expect(await readKeyRingFile(path)).toHaveLength(1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
