// Several provider-signing keys at once, so the key can be rotated without breaking installs. Every key in the ring
// is active: all of them are published in `signing_keys.gpg_public_keys`, and the newest (by OpenPGP creation time)
// signs. Rotation adds a key (`opendepot keygen --rotate`); retiring one is removing its file from the ring once no
// client can still hold metadata that lists only the old key (one --download-url-ttl after every replica has the new
// ring). A SHA256SUMS.sig URL names the key its metadata chose, and any replica that still has that key signs with it,
// so replicas with old and new rings can serve one install together during a rollout.
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type { KeyFactsMemo } from "./key-memo.ts";
import { SigningKey, SigningKeyError } from "./signing.ts";

const PRIVATE_BLOCK = /-----BEGIN PGP PRIVATE KEY BLOCK-----[\s\S]*?-----END PGP PRIVATE KEY BLOCK-----/g;
export const KEY_RING_FILE = /^[^.].*\.asc$/;

/** Every armored private key block in a text (one key file may hold several). */
export function privateKeyBlocks(text: string): string[] {
  return text.match(PRIVATE_BLOCK) ?? [];
}

export class SigningKeyRing {
  private keys: SigningKey[];

  constructor(keys: SigningKey[]) {
    if (!keys.length) throw new SigningKeyError("the signing key ring is empty");
    this.keys = sortNewestFirst(keys);
  }

  /**
   * Keys from armored texts (files, env), each of which may hold several private key blocks. With a memo, keys
   * it remembers are not parsed (nor openpgp loaded) until they sign, and newly parsed ones are remembered (the
   * caller saves the memo).
   */
  static async fromArmoredTexts(texts: string[], passphrase?: string, memo?: KeyFactsMemo): Promise<SigningKeyRing> {
    const keys: SigningKey[] = [];
    for (const text of texts) {
      for (const block of privateKeyBlocks(text)) {
        const known = memo?.lookup(block, passphrase);
        const key = known ? SigningKey.fromVerified(known, block, passphrase) : await SigningKey.fromArmored(block, passphrase);
        if (!known) memo?.remember(block, passphrase, key.facts());
        keys.push(key);
      }
    }
    return new SigningKeyRing(keys);
  }

  /** The signing key: the newest in the ring. */
  get current(): SigningKey {
    return this.keys[0]!;
  }
  get keyId(): string {
    return this.current.keyId;
  }
  get publicKeyArmored(): string {
    return this.current.publicKeyArmored;
  }
  /** Every active key, newest first (duplicates by key id removed). */
  get activeKeys(): readonly SigningKey[] {
    return this.keys;
  }

  sign(data: string | Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
    return this.current.sign(data);
  }

  /** Sign with the key the metadata named, while this ring still holds it; else with the current key. */
  signWith(keyId: string | undefined, data: string | Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
    const named = keyId ? this.keys.find((k) => k.keyId === keyId.toUpperCase()) : undefined;
    return (named ?? this.current).sign(data);
  }

  /** Replace the keys (after a reload); the ring is never left empty. */
  replace(keys: SigningKey[]): void {
    if (keys.length) this.keys = sortNewestFirst(keys);
  }
}

function sortNewestFirst(keys: SigningKey[]): SigningKey[] {
  const byId = new Map<string, SigningKey>();
  for (const k of keys) if (!byId.has(k.keyId)) byId.set(k.keyId, k);
  return [...byId.values()].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || a.keyId.localeCompare(b.keyId));
}

/** The private key files of a ring directory: `*.asc` not starting with a dot (Secret mounts add `..data`). */
export async function ringFiles(dir: string, match: (name: string) => boolean = (n) => KEY_RING_FILE.test(n)): Promise<string[]> {
  const names = (await readdir(dir)).filter(match).sort();
  const out: string[] = [];
  for (const name of names) {
    const path = join(dir, name);
    if ((await stat(path)).isFile() && privateKeyBlocks(await readFile(path, "utf8")).length) out.push(path);
  }
  return out;
}

/** A fingerprint of the files of a ring (names, sizes, mtimes), to reload only when something changed. */
export async function ringFingerprint(paths: string[]): Promise<string> {
  const parts: string[] = [];
  for (const p of paths) {
    const s = await stat(p).catch(() => undefined);
    parts.push(`${p}:${s?.size ?? "-"}:${s?.mtimeMs ?? "-"}`);
  }
  return parts.join("|");
}
