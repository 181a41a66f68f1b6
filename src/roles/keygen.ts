// `opendepot keygen`: a new RSA key pair for signing provider SHA256SUMS (RSA: every Terraform version accepts it).
// With --rotate it adds a key to the ring in --out-dir (which then signs, being the newest) and keeps the others
// published; with --url-signing-key FILE --rotate it rotates the download-URL signing key instead.
import type { FlagSpec } from "../cli/flags.ts";
import { ringFiles, SigningKeyRing } from "../artifacts/key-ring.ts";
import { keygen } from "../artifacts/signing.ts";
import { runtime } from "../runtime/index.ts";
import { rotateUrlSigningKey } from "./secrets-on-disk.ts";

export const KEYGEN_FLAGS: FlagSpec[] = [
  { name: "out-dir", env: "OPENDEPOT_KEYGEN_OUT_DIR", default: ".", description: "Directory to write signing-key.asc and signing-key.pub.asc into (the key ring with --rotate)" },
  { name: "name", env: "OPENDEPOT_KEYGEN_NAME", default: "OpenDepot", description: "User ID name of the key" },
  { name: "email", env: "OPENDEPOT_KEYGEN_EMAIL", default: "registry@opendepot.local", description: "User ID email of the key" },
  { name: "passphrase-file", env: "OPENDEPOT_KEYGEN_PASSPHRASE_FILE", description: "Encrypt the private key with the passphrase in this file" },
  { name: "rotate", env: "OPENDEPOT_KEYGEN_ROTATE", boolean: true, default: "false", description: "Add a key to the ring in --out-dir (signing-key-<KEYID>.asc) instead of creating signing-key.asc; the newest key signs, all are published" },
  { name: "url-signing-key", env: "OPENDEPOT_KEYGEN_URL_SIGNING_KEY", description: "With --rotate: rotate this URL-signing key file (a new first line; the previous key stays accepted for one --download-url-ttl)" },
];

export async function runKeygen(flags: Record<string, string | undefined>): Promise<void> {
  const rotate = flags.rotate === "true";
  if (flags["url-signing-key"]) {
    if (!rotate) throw new Error("--url-signing-key needs --rotate");
    console.log(JSON.stringify({ urlSigningKey: flags["url-signing-key"], ...(await rotateUrlSigningKey(flags["url-signing-key"])) }));
    return;
  }
  const passphrase = flags["passphrase-file"] ? (await runtime.readText(flags["passphrase-file"])).replace(/\r?\n$/, "") : undefined;
  const result = await keygen({ dir: flags["out-dir"]!, name: flags.name!, email: flags.email!, passphrase, rotate });
  const ring = rotate ? await ringKeyIds(flags["out-dir"]!, passphrase) : undefined;
  console.log(JSON.stringify({ ...result, ...(ring ? { ring } : {}) }));
}

/** Key ids of the ring's private keys, newest (the signing one) first. */
async function ringKeyIds(dir: string, passphrase: string | undefined): Promise<string[]> {
  const files = await ringFiles(dir, (n) => n.endsWith(".asc") && !n.endsWith(".pub.asc") && !n.startsWith("."));
  const ring = await SigningKeyRing.fromArmoredTexts(await Promise.all(files.map((f) => runtime.readText(f))), passphrase);
  return ring.activeKeys.map((k) => k.keyId);
}
