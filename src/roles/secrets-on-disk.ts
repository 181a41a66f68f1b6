// Small secrets that standalone mode creates once and keeps in its data directory (mode 0600).
import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { randomBytes } from "node:crypto";

/** Read a random key from `path`, creating it (32+ bytes, hex) when absent. */
export async function loadOrCreateKey(path: string, bytes = 32): Promise<Uint8Array> {
  return (await loadOrCreateKeyRing(path, bytes))[0]!;
}

/** The hex keys of `path` (first signs, the rest are previous keys after a rotation), creating one key when absent. */
export async function loadOrCreateKeyRing(path: string, bytes = 32): Promise<Uint8Array[]> {
  try {
    const lines = (await readFile(path, "utf8")).trim().split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
    if (!lines.length || !lines.every((l) => HEX_KEY_LINE.test(l))) throw new Error(`${path} does not hold hex keys of at least 32 bytes (one per line)`);
    return lines.map((l) => Buffer.from(l, "hex"));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const key = randomBytes(bytes);
  await writeFile(path, `${key.toString("hex")}\n`, { mode: 0o600, flag: "wx" });
  await chmod(path, 0o600);
  return [key];
}

/** Read a key file given by the operator: hex, base64 or raw text of at least 32 bytes. */
export async function readKeyFile(path: string): Promise<Uint8Array> {
  return (await readKeyRingFile(path))[0]!;
}

const HEX_KEY_LINE = /^(?:[0-9a-fA-F]{2}){32,}$/;

/**
 * A URL-signing key file, possibly rotated: several hex keys, one per line, the first signing and the others the
 * previous keys (accepted for one TTL). Anything else is one key (hex or raw text) as before.
 */
export async function readKeyRingFile(path: string): Promise<Uint8Array[]> {
  const text = (await readFile(path, "utf8")).trim();
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  if (lines.length > 1 && lines.every((l) => HEX_KEY_LINE.test(l))) return lines.map((l) => Buffer.from(l, "hex"));
  const key = /^[0-9a-fA-F]+$/.test(text) && text.length % 2 === 0 ? Buffer.from(text, "hex") : Buffer.from(text, "utf8");
  if (key.length < 32) throw new Error(`URL signing key in ${path} is shorter than 32 bytes`);
  return [key];
}

/** `opendepot keygen --url-signing-key FILE --rotate`: a new first line; the old first line stays as the previous key. */
export async function rotateUrlSigningKey(path: string): Promise<{ keys: number }> {
  let previous: Uint8Array | undefined;
  try {
    previous = (await readKeyRingFile(path))[0];
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
  const lines = [randomBytes(32).toString("hex"), ...(previous ? [Buffer.from(previous).toString("hex")] : [])];
  const tmp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(tmp, `${lines.join("\n")}\n`, { mode: 0o600, flag: "wx" });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
  return { keys: lines.length };
}
