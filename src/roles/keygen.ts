// `opendepot keygen`: a new RSA key pair for signing provider SHA256SUMS (RSA: every Terraform version accepts it).
import type { FlagSpec } from "../cli/flags.ts";
import { keygen } from "../artifacts/signing.ts";

export const KEYGEN_FLAGS: FlagSpec[] = [
  { name: "out-dir", env: "OPENDEPOT_KEYGEN_OUT_DIR", default: ".", description: "Directory to write signing-key.asc and signing-key.pub.asc into" },
  { name: "name", env: "OPENDEPOT_KEYGEN_NAME", default: "OpenDepot", description: "User ID name of the key" },
  { name: "email", env: "OPENDEPOT_KEYGEN_EMAIL", default: "registry@opendepot.local", description: "User ID email of the key" },
  { name: "passphrase-file", env: "OPENDEPOT_KEYGEN_PASSPHRASE_FILE", description: "Encrypt the private key with the passphrase in this file" },
];

export async function runKeygen(flags: Record<string, string | undefined>): Promise<void> {
  const passphrase = flags["passphrase-file"] ? (await Bun.file(flags["passphrase-file"]).text()).replace(/\r?\n$/, "") : undefined;
  const result = await keygen({ dir: flags["out-dir"]!, name: flags.name!, email: flags.email!, passphrase });
  console.log(JSON.stringify(result));
}
