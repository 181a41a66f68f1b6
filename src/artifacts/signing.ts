// The registry's own OpenPGP key: it signs every SHA256SUMS document it serves. Terraform and OpenTofu want a
// *binary* detached signature and a key they can all verify, which means RSA (older Terraform releases cannot verify
// ECC signatures). Signing RSA costs milliseconds of CPU, and the same SHA256SUMS is asked for over and over, so
// signatures of identical input are memoised.
// openpgp is a large module graph (~30 MiB resident, 0.1-0.2 s to load) that serving protocol requests never needs:
// it is imported when a key is generated or parsed, or on the first signature of a key known from its memo.
import { chmod, link, mkdir, open, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import type * as openpgp from "openpgp";
import { runtime } from "../runtime/index.ts";
import { sha256Bytes } from "./hash.ts";
import { toHex } from "../kits/encoding.ts";

export const PRIVATE_KEY_FILE = "signing-key.asc";
export const PUBLIC_KEY_FILE = "signing-key.pub.asc";
const SIGNATURE_CACHE_SIZE = 128;

let openpgpModule: Promise<typeof openpgp> | undefined;
/** The openpgp module, imported on first use. */
export const loadOpenpgp = (): Promise<typeof openpgp> => (openpgpModule ??= import("openpgp"));

/** What is public about a verified key: enough to publish it and choose the newest, without parsing it again. */
export interface VerifiedKeyFacts {
  keyId: string;
  publicKeyArmored: string;
  createdAt: Date;
}

export class SigningKeyError extends Error {
  override name = "SigningKeyError";
}

export interface GenerateKeyOptions {
  name: string;
  email: string;
  rsaBits?: number;
  /** Encrypts the armored private key with this passphrase. */
  passphrase?: string;
  /** Creation time (default now); the newest key of a ring signs. */
  date?: Date;
}

export class SigningKey {
  /** Upper-case hex id of the primary key, as the provider protocol's `key_id`. */
  readonly keyId: string;
  readonly publicKeyArmored: string;
  /** OpenPGP creation time: the newest key of a ring signs. */
  readonly createdAt: Date;
  private readonly signatures = new Map<string, Promise<Uint8Array>>();
  /** The parsed (decrypted) key; parsed on first signature for a key made from its facts. */
  private key: Promise<openpgp.PrivateKey> | undefined;

  private constructor(
    facts: VerifiedKeyFacts,
    key: openpgp.PrivateKey | undefined,
    private readonly armoredPrivate: string,
    private readonly passphrase?: string,
  ) {
    this.keyId = facts.keyId;
    this.publicKeyArmored = facts.publicKeyArmored;
    this.createdAt = facts.createdAt;
    if (key) this.key = Promise.resolve(key);
  }

  /** Loads an armored private key; encrypted keys need their passphrase. */
  static async fromArmored(armoredPrivateKey: string, passphrase?: string): Promise<SigningKey> {
    const key = await parseUsableKey(armoredPrivateKey, passphrase);
    return new SigningKey(factsOf(key), key, armoredPrivateKey);
  }

  /**
   * A key this process (or an earlier run) already parsed and checked with the same passphrase, known by its facts:
   * openpgp is loaded, and the key parsed again, only when it first signs.
   */
  static fromVerified(facts: VerifiedKeyFacts, armoredPrivateKey: string, passphrase?: string): SigningKey {
    return new SigningKey(facts, undefined, armoredPrivateKey, passphrase);
  }

  /** Whether the key has been parsed (and openpgp loaded for it). */
  get parsed(): boolean {
    return this.key !== undefined;
  }

  /** The facts to remember about this key (see fromVerified). */
  facts(): VerifiedKeyFacts {
    return { keyId: this.keyId, publicKeyArmored: this.publicKeyArmored, createdAt: this.createdAt };
  }

  /** A fresh RSA key that can sign (no encryption subkey: this key never decrypts anything). */
  static async generate({ name, email, rsaBits = 3072, passphrase, date }: GenerateKeyOptions): Promise<SigningKey> {
    if (rsaBits < 2048) throw new SigningKeyError(`RSA keys shorter than 2048 bits are not accepted (asked for ${rsaBits})`);
    const openpgp = await loadOpenpgp();
    const { privateKey } = await openpgp.generateKey({
      type: "rsa",
      rsaBits,
      userIDs: [{ name, email }],
      subkeys: [],
      ...(date ? { date } : {}),
      format: "object",
    });
    const armored = passphrase ? (await openpgp.encryptKey({ privateKey, passphrase })).armor() : privateKey.armor();
    return new SigningKey(factsOf(privateKey), privateKey, armored);
  }

  /** The armored private key as loaded or generated (encrypted if it was), for writing key files. */
  privateKeyArmored(): string {
    return this.armoredPrivate;
  }

  /** A binary detached OpenPGP signature over data. Identical input gets the identical (cached) signature. */
  sign(data: string | Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
    // A private copy: the caller may reuse its buffer before the (async) signing reads it.
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data.slice();
    const cacheKey = toHex(sha256Bytes(bytes));
    const hit = this.signatures.get(cacheKey);
    if (hit) {
      // Re-insert to mark as most recently used (Map keeps insertion order).
      this.signatures.delete(cacheKey);
      this.signatures.set(cacheKey, hit);
      return hit.then((sig) => sig.slice());
    }
    // The promise is cached, not the result, so concurrent requests for the same document sign once.
    const pending = this.signUncached(bytes);
    this.signatures.set(cacheKey, pending);
    pending.catch(() => this.signatures.delete(cacheKey));
    if (this.signatures.size > SIGNATURE_CACHE_SIZE) this.signatures.delete(this.signatures.keys().next().value!);
    return pending.then((sig) => sig.slice());
  }

  private async signUncached(bytes: Uint8Array): Promise<Uint8Array> {
    const openpgp = await loadOpenpgp();
    this.key ??= parseUsableKey(this.armoredPrivate, this.passphrase);
    // A key that cannot be parsed now (file facts stale) is retried on the next signature, not cached as broken.
    const key = await this.key.catch((e) => {
      this.key = undefined;
      throw e;
    });
    if (key.getKeyID().toHex().toUpperCase() !== this.keyId) throw new SigningKeyError(`signing key ${this.keyId} parsed as ${keyIdOf(key)}: its remembered facts are stale`);
    const message = await openpgp.createMessage({ binary: bytes });
    return openpgp.sign({ message, signingKeys: key, detached: true, format: "binary" });
  }
}

function factsOf(key: openpgp.PrivateKey): VerifiedKeyFacts {
  return { keyId: keyIdOf(key), publicKeyArmored: key.toPublic().armor(), createdAt: key.getCreationTime() };
}

/** Parse, decrypt and check an armored private key: RSA, able to sign. */
async function parseUsableKey(armoredPrivateKey: string, passphrase?: string): Promise<openpgp.PrivateKey> {
  const openpgp = await loadOpenpgp();
  let key: openpgp.PrivateKey;
  try {
    key = await openpgp.readPrivateKey({ armoredKey: armoredPrivateKey });
  } catch (e) {
    throw new SigningKeyError(`cannot read the signing key: ${(e as Error).message}`, { cause: e });
  }
  if (!key.isDecrypted()) {
    if (!passphrase) throw new SigningKeyError(`signing key ${keyIdOf(key)} is encrypted: a passphrase is required`);
    try {
      key = await openpgp.decryptKey({ privateKey: key, passphrase });
    } catch (e) {
      throw new SigningKeyError(`cannot decrypt signing key ${keyIdOf(key)}: wrong passphrase (${(e as Error).message})`, { cause: e });
    }
  }
  await assertUsableRsaSigningKey(key);
  return key;
}

async function assertUsableRsaSigningKey(key: openpgp.PrivateKey): Promise<void> {
  let signing: Awaited<ReturnType<openpgp.PrivateKey["getSigningKey"]>>;
  try {
    signing = await key.getSigningKey();
  } catch (e) {
    throw new SigningKeyError(`key ${keyIdOf(key)} has no valid signing key: ${(e as Error).message}`, { cause: e });
  }
  const { algorithm } = signing.getAlgorithmInfo();
  if (algorithm !== "rsaSign" && algorithm !== "rsaEncryptSign") {
    throw new SigningKeyError(`signing key ${keyIdOf(key)} uses ${algorithm}; only RSA keys are supported because older Terraform releases cannot verify other signatures`);
  }
}

const keyIdOf = (key: openpgp.Key) => key.getKeyID().toHex().toUpperCase();

/**
 * The key in `<dir>/signing-key.asc`, generating and writing one (0600, plus the public key beside it) on first use.
 * Safe against two processes starting at once: the key file appears atomically and the loser loads the winner's key.
 */
export async function loadOrCreateSigningKey(dir: string, options: { passphrase?: string; name?: string; email?: string } = {}): Promise<SigningKey> {
  const path = join(dir, PRIVATE_KEY_FILE);
  if (await runtime.exists(path)) return SigningKey.fromArmored(await runtime.readText(path), options.passphrase);
  const key = await SigningKey.generate({
    name: options.name ?? "OpenDepot registry",
    email: options.email ?? "opendepot@localhost",
    ...(options.passphrase ? { passphrase: options.passphrase } : {}),
  });
  const created = await writeKeyFiles(dir, key, false);
  if (!created) return SigningKey.fromArmored(await runtime.readText(path), options.passphrase);
  return key;
}

export interface KeygenResult {
  keyId: string;
  privateKeyPath: string;
  publicKeyPath: string;
}

export interface KeygenOptions {
  dir: string;
  name?: string;
  email?: string;
  rsaBits?: number;
  passphrase?: string | undefined;
  /** Replace an existing key (the old one is gone for good). */
  force?: boolean;
  /** Add the key to the ring in dir (`signing-key-<KEYID>.asc`) instead of writing signing-key.asc. */
  rotate?: boolean;
}

/** `opendepot keygen`: a new key pair in dir. Refuses to replace an existing key unless `force`; `rotate` adds one. */
export async function keygen(options: KeygenOptions): Promise<KeygenResult> {
  const { dir } = options;
  const key = await SigningKey.generate({
    name: options.name ?? "OpenDepot registry",
    email: options.email ?? "opendepot@localhost",
    ...(options.rsaBits ? { rsaBits: options.rsaBits } : {}),
    ...(options.passphrase ? { passphrase: options.passphrase } : {}),
  });
  const names = options.rotate ? rotatedKeyFiles(key.keyId) : { privateFile: PRIVATE_KEY_FILE, publicFile: PUBLIC_KEY_FILE };
  if (!(await writeKeyFiles(dir, key, options.force ?? false, names))) {
    throw new SigningKeyError(`${join(dir, names.privateFile)} already exists; pass --force to replace it, or --rotate to add a key to the ring`);
  }
  return { keyId: key.keyId, privateKeyPath: join(dir, names.privateFile), publicKeyPath: join(dir, names.publicFile) };
}

/** File names of a key added by rotation: `signing-key-<KEYID>.asc` and `.pub.asc`. */
export const rotatedKeyFiles = (keyId: string) => ({ privateFile: `signing-key-${keyId}.asc`, publicFile: `signing-key-${keyId}.pub.asc` });

// Writes the private key to a private temp file and hard-links it into place: link() fails if the name exists, so
// no reader ever sees a half-written key and a concurrent writer is detected. Returns false if a key already existed.
async function writeKeyFiles(dir: string, key: SigningKey, replace: boolean, names = { privateFile: PRIVATE_KEY_FILE, publicFile: PUBLIC_KEY_FILE }): Promise<boolean> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, names.privateFile);
  const tmp = join(dir, `.${names.privateFile}.${toHex(crypto.getRandomValues(new Uint8Array(6)))}.tmp`);
  await writeDurable(tmp, key.privateKeyArmored(), 0o600);
  try {
    if (replace) await rm(path, { force: true });
    await link(tmp, path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw e;
  } finally {
    await rm(tmp, { force: true });
  }
  const pubTmp = join(dir, `.${names.publicFile}.${toHex(crypto.getRandomValues(new Uint8Array(6)))}.tmp`);
  await writeDurable(pubTmp, key.publicKeyArmored, 0o644);
  await rename(pubTmp, join(dir, names.publicFile));
  return true;
}

async function writeDurable(path: string, text: string, mode: number): Promise<void> {
  const fh = await open(path, "wx", mode);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await chmod(path, mode); // open()'s mode is filtered by the umask; the files' modes must not depend on it
}
