// Small secrets that standalone mode creates once and keeps in its data directory (mode 0600).
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { randomBytes } from "node:crypto";

/** Read a random key from `path`, creating it (32+ bytes, hex) when absent. */
export async function loadOrCreateKey(path: string, bytes = 32): Promise<Uint8Array> {
  try {
    const text = (await readFile(path, "utf8")).trim();
    const key = Buffer.from(text, "hex");
    if (key.length < 32 || key.toString("hex") !== text.toLowerCase()) throw new Error(`${path} does not hold a hex key of at least 32 bytes`);
    return key;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const key = randomBytes(bytes);
  await writeFile(path, `${key.toString("hex")}\n`, { mode: 0o600, flag: "wx" });
  await chmod(path, 0o600);
  return key;
}

/** Read a key file given by the operator: hex, base64 or raw text of at least 32 bytes. */
export async function readKeyFile(path: string): Promise<Uint8Array> {
  const text = (await readFile(path, "utf8")).trim();
  const key = /^[0-9a-fA-F]+$/.test(text) && text.length % 2 === 0 ? Buffer.from(text, "hex") : Buffer.from(text, "utf8");
  if (key.length < 32) throw new Error(`URL signing key in ${path} is shorter than 32 bytes`);
  return key;
}
