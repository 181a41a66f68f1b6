// What a scanner reads, made from what the registry stores, never from upstream again: the stored object is
// spooled to a private temp dir and checked against status.checksum (we scan exactly the bytes we serve), then
// extracted safely. Temp dirs are removed on every path, including failures and aborts.
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { extractModuleArchive, extractProviderBinary } from "../artifacts/extract.ts";
import { toBase64 } from "../kits/encoding.ts";
import { runtime } from "../runtime/index.ts";
import type { ArtifactLocation } from "../storage/locate.ts";

export class ScanInputError extends Error {
  override readonly name = "ScanInputError";
}

/** Runs `use` with a fresh private temp dir named `opendepot-<what>-*`, removed afterwards whatever happens. */
export async function withTempDir<T>(what: string, base: string | undefined, use: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(base ?? tmpdir(), `opendepot-${what}-`));
  try {
    return await use(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Copy the stored object to `path`, verifying its SHA-256 against the Version's checksum. */
export async function spoolVerified(location: ArtifactLocation, expectedChecksum: string, path: string): Promise<void> {
  const got = await location.storage.get(location.key);
  const hasher = createHash("sha256");
  const sink = runtime.fileWriter(path);
  try {
    for await (const chunk of got.body) {
      hasher.update(chunk);
      sink.write(chunk);
    }
  } finally {
    await sink.end();
  }
  const actual = toBase64(hasher.digest() as Uint8Array);
  if (actual !== expectedChecksum) throw new ScanInputError(`stored artifact does not match status.checksum (got ${actual}); it will be restored before it is scanned`);
}

/** The module tree of a stored module archive, under `<tmp>/module`. */
export async function moduleTree(location: ArtifactLocation, checksum: string, format: "zip" | "tar.gz", tmp: string): Promise<string> {
  const archive = join(tmp, `archive.${format}`);
  await spoolVerified(location, checksum, archive);
  const dir = join(tmp, "module");
  await mkdir(dir, { mode: 0o700 });
  await extractModuleArchive(archive, format, dir);
  await rm(archive, { force: true });
  return dir;
}

/** A rootfs holding only the provider executable (`provider-binary`, 0500), or undefined when the zip has none. */
export async function providerRootfs(location: ArtifactLocation, checksum: string, tmp: string): Promise<{ dir: string; entry?: string }> {
  const zip = join(tmp, "package.zip");
  await spoolVerified(location, checksum, zip);
  const dir = join(tmp, "rootfs");
  await mkdir(dir, { mode: 0o700 });
  const binary = await extractProviderBinary(zip, dir);
  await rm(zip, { force: true });
  return { dir, entry: binary?.entry };
}
