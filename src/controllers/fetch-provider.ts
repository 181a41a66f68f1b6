// A provider build: download metadata from the OpenTofu registry, the upstream SHA256SUMS signature verified
// against the registry's keys, the zip verified against SHA256SUMS while it streams to a temporary file (which a
// scanner can read later), then the h1 hash computed from that file. Memory stays flat for any size.
import { createWriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { VersionObject } from "../api/kinds.ts";
import { uuidv7 } from "../api/uuid.ts";
import { hashProviderZip } from "../artifacts/h1.ts";
import type { OpenTofuRegistryClient } from "../sources/opentofu.ts";

export interface ProviderPackage {
  path: string;
  size: number;
  sha256Hex: string;
  h1: string;
  protocols: string[];
  upstreamFilename: string;
  signedBy: string;
  cleanup(): Promise<void>;
}

export function providerCoordinates(v: VersionObject) {
  const config = v.spec.providerConfigRef;
  const name = config?.name?.trim();
  if (!name) throw new Error("providerConfigRef.name is required");
  const os = v.spec.operatingSystem?.trim();
  const arch = v.spec.architecture?.trim();
  if (!os || !arch) throw new Error("operatingSystem and architecture are required for a provider Version");
  return { namespace: (config?.namespace?.trim() || "hashicorp").toLowerCase(), name: name.toLowerCase(), version: v.spec.version.trim().replace(/^v/i, ""), os, arch };
}

export async function fetchProviderPackage(v: VersionObject, client: OpenTofuRegistryClient, options: { tmpDir?: string; signal?: AbortSignal } = {}): Promise<ProviderPackage> {
  const c = providerCoordinates(v);
  const info = await client.downloadInfo(c.namespace, c.name, c.version, c.os, c.arch);
  const pkg = await client.fetchVerifiedPackage(info);
  const path = join(options.tmpDir ?? tmpdir(), `opendepot-provider-${uuidv7()}.zip`);
  const cleanup = () => rm(path, { force: true });
  try {
    // pkg.stream errors at its end if the bytes don't match the signed SHA256SUMS: pipeline rejects, file removed.
    await pipeline(Readable.fromWeb(pkg.stream as unknown as import("node:stream/web").ReadableStream), createWriteStream(path, { mode: 0o600 }), { signal: options.signal });
    const hashes = await hashProviderZip(path);
    if (hashes.shasum !== pkg.sha256Hex) throw new Error(`provider archive checksum mismatch: got ${hashes.shasum}, SHA256SUMS says ${pkg.sha256Hex}`);
    return { path, size: hashes.size, sha256Hex: hashes.shasum, h1: hashes.h1, protocols: pkg.protocols, upstreamFilename: pkg.filename, signedBy: pkg.signedBy, cleanup };
  } catch (e) {
    await cleanup();
    throw e;
  }
}
