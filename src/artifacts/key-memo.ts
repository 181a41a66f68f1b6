// What the registry remembers about the signing keys it has parsed and checked: per key text (and passphrase), the
// key id, creation time and public key. A ring whose files are all remembered is loaded without openpgp, which is
// then imported only for the first signature (most processes serve many metadata documents before any SHA256SUMS
// signature, and some never sign). The memo sits beside the keys (0600) and holds nothing secret: entries are
// keyed by a SHA-256 of the key text with its passphrase, so a changed file or passphrase is parsed afresh.
import { readFile, rename, writeFile } from "node:fs/promises";
import { toHex } from "../kits/encoding.ts";
import { sha256Bytes } from "./hash.ts";
import type { VerifiedKeyFacts } from "./signing.ts";

interface Entry {
  keyId: string;
  publicKeyArmored: string;
  createdAt: string;
}

const MAX_ENTRIES = 64;

export class KeyFactsMemo {
  private readonly used = new Map<string, Entry>();
  private changed = false;

  private constructor(
    private readonly path: string,
    private readonly stored: Map<string, Entry>,
  ) {}

  /** The memo at path; a missing or unreadable memo is empty (every key is then parsed once more). */
  static async open(path: string): Promise<KeyFactsMemo> {
    const stored = new Map<string, Entry>();
    try {
      const doc = JSON.parse(await readFile(path, "utf8")) as { version?: unknown; keys?: Record<string, unknown> };
      if (doc.version === 1 && doc.keys && typeof doc.keys === "object") {
        for (const [digest, e] of Object.entries(doc.keys)) if (isEntry(e)) stored.set(digest, e);
      }
    } catch {
      // absent or corrupt: start empty
    }
    return new KeyFactsMemo(path, stored);
  }

  lookup(armoredPrivateKey: string, passphrase: string | undefined): VerifiedKeyFacts | undefined {
    const digest = digestOf(armoredPrivateKey, passphrase);
    const e = this.used.get(digest) ?? this.stored.get(digest);
    if (!e) return undefined;
    this.used.set(digest, e);
    return { keyId: e.keyId, publicKeyArmored: e.publicKeyArmored, createdAt: new Date(e.createdAt) };
  }

  remember(armoredPrivateKey: string, passphrase: string | undefined, facts: VerifiedKeyFacts): void {
    const digest = digestOf(armoredPrivateKey, passphrase);
    if (this.used.has(digest) || this.stored.has(digest)) {
      this.used.set(digest, this.used.get(digest) ?? this.stored.get(digest)!);
      return;
    }
    this.used.set(digest, { keyId: facts.keyId, publicKeyArmored: facts.publicKeyArmored, createdAt: facts.createdAt.toISOString() });
    this.changed = true;
  }

  /** Write the memo when it learned a key or forgot one; keys no longer in the ring are dropped. */
  async save(): Promise<void> {
    if (!this.changed && [...this.stored.keys()].every((d) => this.used.has(d))) return;
    const keys = Object.fromEntries([...this.used].slice(-MAX_ENTRIES));
    const tmp = `${this.path}.${toHex(crypto.getRandomValues(new Uint8Array(6)))}.tmp`;
    await writeFile(tmp, JSON.stringify({ version: 1, keys }), { mode: 0o600 });
    await rename(tmp, this.path);
    this.changed = false;
    this.stored.clear();
    for (const [d, e] of this.used) this.stored.set(d, e);
  }
}

const digestOf = (armored: string, passphrase: string | undefined) => toHex(sha256Bytes(`${armored}\u0000${passphrase ?? ""}`));

function isEntry(e: unknown): e is Entry {
  const x = e as Entry;
  return typeof e === "object" && e !== null && typeof x.keyId === "string" && /^[0-9A-F]{16}$/.test(x.keyId) && typeof x.publicKeyArmored === "string" && x.publicKeyArmored.startsWith("-----BEGIN PGP PUBLIC KEY BLOCK-----") && typeof x.createdAt === "string" && !Number.isNaN(Date.parse(x.createdAt));
}
