// Where the provider-signing key ring comes from: a key file (one or several armored private keys, optionally
// passphrase-protected), a directory of key files (--gpg-key-dir: a mounted Secret holding the ring), v0.9's base64
// env var, or, in standalone mode, the data directory (signing-key.asc generated on first start, plus the keys that
// `opendepot keygen --rotate` added). Directory rings are re-read when their files change, so adding or retiring a
// key needs no restart.
import { readFile } from "node:fs/promises";
import { privateKeyBlocks, ringFiles, ringFingerprint, SigningKeyRing } from "../artifacts/key-ring.ts";
import { KeyFactsMemo } from "../artifacts/key-memo.ts";
import { join } from "node:path";
import { loadOrCreateSigningKey, PRIVATE_KEY_FILE, PUBLIC_KEY_FILE, SigningKey } from "../artifacts/signing.ts";
import type { Logger } from "../log.ts";

const DATA_DIR_RING = (name: string) => /^signing-key.*\.asc$/.test(name) && !name.endsWith(".pub.asc");
/** In the data directory: the facts of the keys already checked, so a restart loads the ring without openpgp. */
export const KEY_MEMO_FILE = "signing-keys.memo.json";
export const RING_RELOAD_INTERVAL_MS = 30_000;

export interface SigningKeySources {
  keyFile?: string;
  keyDir?: string;
  passphraseFile?: string;
  dataDir?: string;
  log: Logger;
  /** How often a directory ring is checked for changes (default 30 s; 0 = never). */
  reloadIntervalMs?: number;
}

export async function loadSigningKey(options: SigningKeySources): Promise<SigningKeyRing> {
  const passphrase = options.passphraseFile
    ? (await readFile(options.passphraseFile, "utf8")).replace(/\r?\n$/, "")
    : process.env.OPENDEPOT_GPG_PASSPHRASE || undefined;
  let ring: SigningKeyRing;
  let dir: { path: string; match?: (name: string) => boolean } | undefined;
  let memo: KeyFactsMemo | undefined;
  if (options.keyFile) ring = await SigningKeyRing.fromArmoredTexts([await readFile(options.keyFile, "utf8")], passphrase);
  else if (options.keyDir) {
    dir = { path: options.keyDir };
    ring = await loadDir(dir.path, passphrase);
  } else if (process.env.OPENDEPOT_PROVIDER_GPG_PRIVATE_KEY_BASE64) {
    ring = await SigningKeyRing.fromArmoredTexts([Buffer.from(process.env.OPENDEPOT_PROVIDER_GPG_PRIVATE_KEY_BASE64, "base64").toString("utf8")], passphrase);
  } else if (options.dataDir) {
    dir = { path: options.dataDir, match: DATA_DIR_RING };
    memo = await KeyFactsMemo.open(join(options.dataDir, KEY_MEMO_FILE));
    if (!(await ringFiles(options.dataDir, DATA_DIR_RING)).length) {
      const key = await loadOrCreateSigningKey(options.dataDir);
      for (const block of privateKeyBlocks(key.privateKeyArmored())) memo.remember(block, passphrase, key.facts());
      // A newcomer should know a key was made, where it is, and that it is the registry's identity to keep.
      options.log.info("generated a provider signing key (first start); keep it: clients pin providers to it", { privateKey: join(options.dataDir, PRIVATE_KEY_FILE), publicKey: join(options.dataDir, PUBLIC_KEY_FILE), keyId: key.keyId });
    }
    ring = await loadDir(options.dataDir, passphrase, DATA_DIR_RING, memo);
    await saveMemo(memo, options.log);
  } else throw new Error("no provider signing key: set --gpg-key-file, --gpg-key-dir or OPENDEPOT_PROVIDER_GPG_PRIVATE_KEY_BASE64");
  options.log.info("provider signing keys loaded", { signingKeyId: ring.keyId, activeKeyIds: ring.activeKeys.map((k) => k.keyId) });
  const interval = options.reloadIntervalMs ?? RING_RELOAD_INTERVAL_MS;
  if (dir && interval > 0) watchRing(ring, dir.path, dir.match, passphrase, interval, options.log, memo);
  return ring;
}

async function loadDir(path: string, passphrase: string | undefined, match?: (name: string) => boolean, memo?: KeyFactsMemo): Promise<SigningKeyRing> {
  const files = await ringFiles(path, match);
  if (!files.length) throw new Error(`no private signing keys (*.asc) in ${path}`);
  return SigningKeyRing.fromArmoredTexts(await Promise.all(files.map((f) => readFile(f, "utf8"))), passphrase, memo);
}

/** A memo that cannot be written only costs the next start a parse of the keys: say so, and go on. */
async function saveMemo(memo: KeyFactsMemo, log: Logger): Promise<void> {
  try {
    await memo.save();
  } catch (e) {
    log.warn("could not record the signing keys' facts; the next start parses them again", { error: (e as Error).message });
  }
}

/** Re-read a directory ring when its files change; a broken or empty ring is logged and the old one kept. */
export async function reloadRing(ring: SigningKeyRing, path: string, match: ((name: string) => boolean) | undefined, passphrase: string | undefined, memo?: KeyFactsMemo): Promise<void> {
  const files = await ringFiles(path, match);
  const keys: SigningKey[] = [];
  for (const f of files) keys.push(...(await SigningKeyRing.fromArmoredTexts([await readFile(f, "utf8")], passphrase, memo)).activeKeys);
  if (!keys.length) throw new Error(`no private signing keys left in ${path}; keeping the current ring`);
  ring.replace(keys);
}

function watchRing(ring: SigningKeyRing, path: string, match: ((name: string) => boolean) | undefined, passphrase: string | undefined, intervalMs: number, log: Logger, memo?: KeyFactsMemo): void {
  let last: string | undefined;
  let busy = false;
  const check = async () => {
    if (busy) return;
    busy = true;
    try {
      const print = await ringFingerprint(await ringFiles(path, match));
      if (last !== undefined && print !== last) {
        await reloadRing(ring, path, match, passphrase, memo);
        if (memo) await saveMemo(memo, log);
        log.info("provider signing keys reloaded", { signingKeyId: ring.keyId, activeKeyIds: ring.activeKeys.map((k) => k.keyId) });
      }
      last = print;
    } catch (e) {
      log.warn("provider signing keys not reloaded", { error: (e as Error).message });
    } finally {
      busy = false;
    }
  };
  void check();
  setInterval(() => void check(), intervalMs).unref();
}
