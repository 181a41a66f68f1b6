// OpenTofu registry client (provider registry protocol v1): versions, per-platform download metadata, and a
// package fetch that verifies the upstream chain v0.9 skipped: signing key → SHA256SUMS signature → SHA256SUMS line
// for the file → bytes of the zip (checked while streaming, so a 700 MB provider never sits in memory).
import { createHash } from "node:crypto";
// openpgp only when a signature is verified: a large module graph the processes that never mirror need not load.
import type * as openpgp from "openpgp";
import { type FetchLike, UpstreamError, UpstreamHttp, type UpstreamHttpOptions } from "./http.ts";

export interface ProviderPlatform {
  os: string;
  arch: string;
}

export interface ProviderVersion {
  version: string;
  protocols: string[];
  platforms: ProviderPlatform[];
}

export interface GpgPublicKey {
  key_id: string;
  ascii_armor: string;
  trust_signature?: string;
  source?: string;
  source_url?: string | null;
}

/** The registry's download document, field names as in the protocol; URLs are made absolute by downloadInfo. */
export interface ProviderDownloadInfo {
  protocols: string[];
  os: string;
  arch: string;
  filename: string;
  download_url: string;
  shasums_url: string;
  shasums_signature_url: string;
  shasum: string;
  signing_keys: { gpg_public_keys: GpgPublicKey[] };
}

export interface VerifiedPackage {
  /** The zip; errors at the end instead of closing if its SHA-256 differs from sha256Hex. */
  stream: ReadableStream<Uint8Array>;
  /** Expected lowercase hex SHA-256, already proven by the signed SHA256SUMS. */
  sha256Hex: string;
  filename: string;
  protocols: string[];
  /** Upstream Content-Length when given. */
  size?: number;
  /** Key ID that verified SHA256SUMS. */
  signedBy: string;
}

export class IntegrityError extends Error {
  override readonly name = "IntegrityError";
}

export const SIGNATURE_NOT_VERIFIED = "upstream signature of SHA256SUMS did not verify against the registry's signing keys";

export interface OpenTofuRegistryClientOptions extends Partial<Omit<UpstreamHttpOptions, "service" | "fetch">> {
  baseUrl?: string;
  fetch?: FetchLike;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;
const SHASUMS_LIMIT = 1024 * 1024;
const SIGNATURE_LIMIT = 64 * 1024;

/**
 * Passes bytes through while hashing them; if the digest at the end is not `expectedHex` the stream errors instead
 * of closing, so a consumer that writes to storage sees a failure and must not commit or mark anything synced.
 */
export function verifyingStream(stream: ReadableStream<Uint8Array>, expectedHex: string, what = "download"): ReadableStream<Uint8Array> {
  const expected = expectedHex.toLowerCase();
  const hasher = createHash("sha256");
  let size = 0;
  return stream.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        hasher.update(chunk);
        size += chunk.byteLength;
        controller.enqueue(chunk);
      },
      flush(controller) {
        const actual = hasher.digest("hex");
        if (actual !== expected) {
          controller.error(new IntegrityError(`checksum mismatch for ${what}: expected sha256 ${expected}, got ${actual} (${size} bytes)`));
        }
      },
    }),
  );
}

/** The hash SHA256SUMS lists for `filename` (`<hex>  <name>` or `<hex> *<name>`), or undefined. */
export function shasumFor(sums: string, filename: string): string | undefined {
  for (const line of sums.split(/\r?\n/)) {
    const m = /^([0-9a-fA-F]{64}) [ *](.+)$/.exec(line.trim());
    if (m && m[2] === filename) return m[1]!.toLowerCase();
  }
  return undefined;
}

/** Key ID of the first registry key that verifies the detached (binary or armored) signature, else throws. */
export async function verifyDetachedSignature(data: Uint8Array, signature: Uint8Array, armoredKeys: string[]): Promise<string> {
  const pgp = await import("openpgp");
  const keys: openpgp.Key[] = [];
  for (const armoredKey of armoredKeys) {
    try {
      keys.push(await pgp.readKey({ armoredKey }));
    } catch {
      // One unreadable key must not hide another that verifies.
    }
  }
  if (keys.length === 0) throw new IntegrityError(`${SIGNATURE_NOT_VERIFIED} (no readable signing keys)`);
  let sig: openpgp.Signature;
  try {
    const head = new TextDecoder().decode(signature.subarray(0, 64));
    sig = head.includes("-----BEGIN PGP SIGNATURE-----")
      ? await pgp.readSignature({ armoredSignature: new TextDecoder().decode(signature) })
      : await pgp.readSignature({ binarySignature: signature });
  } catch (cause) {
    throw new IntegrityError(`${SIGNATURE_NOT_VERIFIED} (signature unreadable: ${(cause as Error).message})`, { cause });
  }
  const message = await pgp.createMessage({ binary: data });
  for (const key of keys) {
    try {
      const result = await pgp.verify({ message, signature: sig, verificationKeys: key });
      for (const s of result.signatures) {
        if (await s.verified.catch(() => false)) return key.getKeyID().toHex().toUpperCase();
      }
    } catch {
      // Try the next key.
    }
  }
  throw new IntegrityError(SIGNATURE_NOT_VERIFIED);
}

export class OpenTofuRegistryClient {
  readonly baseUrl: string;
  private readonly http: UpstreamHttp;

  constructor(opts: OpenTofuRegistryClientOptions = {}) {
    this.baseUrl = (opts.baseUrl ?? process.env.OPENDEPOT_OPENTOFU_REGISTRY_URL ?? "https://registry.opentofu.org").replace(/\/+$/, "");
    this.http = new UpstreamHttp({ ...opts, service: "OpenTofu registry" });
  }

  async listVersions(namespace: string, name: string): Promise<ProviderVersion[]> {
    const url = `${this.providerUrl(namespace, name)}/versions`;
    const { value } = await this.http.json<{ versions?: unknown }>(url);
    if (!Array.isArray(value.versions)) throw this.http.error("Invalid", url, `${url} has no "versions" array`);
    const out: ProviderVersion[] = [];
    for (const v of value.versions as { version?: unknown; protocols?: unknown; platforms?: unknown }[]) {
      if (typeof v?.version !== "string") continue;
      out.push({
        version: v.version,
        protocols: Array.isArray(v.protocols) ? v.protocols.filter((p): p is string => typeof p === "string") : [],
        platforms: Array.isArray(v.platforms)
          ? (v.platforms as ProviderPlatform[]).filter((p) => typeof p?.os === "string" && typeof p?.arch === "string").map((p) => ({ os: p.os, arch: p.arch }))
          : [],
      });
    }
    return out;
  }

  /** Download document for one platform, with every URL made absolute against the document's own URL. */
  async downloadInfo(namespace: string, name: string, version: string, os: string, arch: string): Promise<ProviderDownloadInfo> {
    const v = version.trim().replace(/^v/i, "");
    const url = `${this.providerUrl(namespace, name)}/${seg(v)}/download/${seg(os.toLowerCase())}/${seg(arch.toLowerCase())}`;
    const { value } = await this.http.json<Partial<ProviderDownloadInfo>>(url);
    for (const field of ["filename", "download_url", "shasum", "shasums_url", "shasums_signature_url"] as const) {
      if (typeof value[field] !== "string" || value[field] === "") throw this.http.error("Invalid", url, `download metadata at ${url} lacks "${field}"`);
    }
    if (!SHA256_HEX.test(value.shasum!.toLowerCase())) throw this.http.error("Invalid", url, `download metadata at ${url} has a malformed shasum`);
    if (/[/\\]/.test(value.filename!)) throw this.http.error("Invalid", url, `download metadata at ${url} has an unsafe filename`);
    const abs = (u: string) => new URL(u, url).toString();
    return {
      protocols: Array.isArray(value.protocols) ? value.protocols.filter((p): p is string => typeof p === "string") : [],
      os: value.os ?? os,
      arch: value.arch ?? arch,
      filename: value.filename!,
      download_url: abs(value.download_url!),
      shasums_url: abs(value.shasums_url!),
      shasums_signature_url: abs(value.shasums_signature_url!),
      shasum: value.shasum!.toLowerCase(),
      signing_keys: { gpg_public_keys: Array.isArray(value.signing_keys?.gpg_public_keys) ? value.signing_keys.gpg_public_keys : [] },
    };
  }

  /**
   * Verifies SHA256SUMS against the registry's keys and the metadata's shasum against SHA256SUMS, then opens the
   * zip as a verifying stream. Any failure before the first byte is an IntegrityError or UpstreamError.
   */
  async fetchVerifiedPackage(info: ProviderDownloadInfo): Promise<VerifiedPackage> {
    const abs = (u: string) => new URL(u, `${this.baseUrl}/`).toString();
    const [{ bytes: sums }, { bytes: sig }] = await Promise.all([
      this.http.bytes(abs(info.shasums_url), {}, SHASUMS_LIMIT),
      this.http.bytes(abs(info.shasums_signature_url), {}, SIGNATURE_LIMIT),
    ]);
    const armors = info.signing_keys.gpg_public_keys.map((k) => k.ascii_armor).filter((a) => typeof a === "string");
    const signedBy = await verifyDetachedSignature(sums, sig, armors);
    const listed = shasumFor(new TextDecoder().decode(sums), info.filename);
    if (!listed) throw new IntegrityError(`signed SHA256SUMS has no entry for ${info.filename}`);
    const expected = info.shasum.toLowerCase();
    if (listed !== expected) {
      throw new IntegrityError(`registry shasum ${expected} for ${info.filename} differs from the signed SHA256SUMS (${listed})`);
    }
    const res = await this.http.stream(abs(info.download_url));
    if (!res.body) throw new UpstreamError("OpenTofu registry", "Invalid", abs(info.download_url), `OpenTofu registry: empty body for ${info.filename}`);
    const length = Number(res.headers.get("content-length"));
    return {
      stream: verifyingStream(res.body, expected, info.filename),
      sha256Hex: expected,
      filename: info.filename,
      protocols: info.protocols,
      size: Number.isFinite(length) && res.headers.has("content-length") ? length : undefined,
      signedBy,
    };
  }

  private providerUrl(namespace: string, name: string): string {
    if (!namespace.trim() || !name.trim()) throw this.http.error("Invalid", this.baseUrl, "provider namespace and name are required");
    return `${this.baseUrl}/v1/providers/${seg(namespace.trim().toLowerCase())}/${seg(name.trim().toLowerCase())}`;
  }
}

function seg(s: string): string {
  if (s === "" || s === "." || s === "..") throw new UpstreamError("OpenTofu registry", "Invalid", "", `OpenTofu registry: invalid path segment ${JSON.stringify(s)}`);
  return encodeURIComponent(s);
}
