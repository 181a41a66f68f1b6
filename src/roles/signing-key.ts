// Where the provider-signing key comes from: a key file (optionally passphrase-protected), v0.9's base64 env var,
// or, in standalone mode, a key generated once and kept in the data directory.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { PRIVATE_KEY_FILE, PUBLIC_KEY_FILE, SigningKey, loadOrCreateSigningKey } from "../artifacts/signing.ts";
import type { Logger } from "../log.ts";

export async function loadSigningKey(options: { keyFile?: string; passphraseFile?: string; dataDir?: string; log: Logger }): Promise<SigningKey> {
  const passphrase = options.passphraseFile
    ? (await readFile(options.passphraseFile, "utf8")).replace(/\r?\n$/, "")
    : process.env.OPENDEPOT_GPG_PASSPHRASE || undefined;
  let key: SigningKey;
  if (options.keyFile) key = await SigningKey.fromArmored(await readFile(options.keyFile, "utf8"), passphrase);
  else if (process.env.OPENDEPOT_PROVIDER_GPG_PRIVATE_KEY_BASE64) {
    key = await SigningKey.fromArmored(Buffer.from(process.env.OPENDEPOT_PROVIDER_GPG_PRIVATE_KEY_BASE64, "base64").toString("utf8"), passphrase);
  } else if (options.dataDir) {
    const path = join(options.dataDir, PRIVATE_KEY_FILE);
    const existed = await Bun.file(path).exists();
    key = await loadOrCreateSigningKey(options.dataDir);
    // A newcomer should know a key was made, where it is, and that it is the registry's identity to keep.
    if (!existed) options.log.info("generated a provider signing key (first start); keep it: clients pin providers to it", { privateKey: path, publicKey: join(options.dataDir, PUBLIC_KEY_FILE), keyId: key.keyId });
  } else throw new Error("no provider signing key: set --gpg-key-file or OPENDEPOT_PROVIDER_GPG_PRIVATE_KEY_BASE64");
  options.log.info("provider signing key loaded", { keyId: key.keyId });
  return key;
}
