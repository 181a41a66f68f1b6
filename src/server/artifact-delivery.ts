// Serving stored artifacts with an integrity guarantee: bytes go out only if the object hashes to the Version's
// status.checksum. Hashing on every download would double the I/O, so the first download of an object verifies it
// in full and pins the result to the object's `pin` (inode/size/mtime, ETag or generation); later downloads pay a
// HEAD-sized check. A changed pin means the object was rewritten and is verified again before anything is served.
//
// With `storageConfig.presign.enabled` the bytes go straight from the bucket to the client (307 to a backend-signed
// URL), so the same pin check runs first: a redirect is only issued for an object whose current pin was verified.
import type { VersionObject } from "../api/kinds.ts";
import type { StorageConfig } from "../api/types.ts";
import { parseDuration } from "../kits/duration.ts";
import { sha256OfStream } from "../artifacts/hash.ts";
import { toBase64 } from "../kits/encoding.ts";
import type { Logger } from "../log.ts";
import { locateArtifact, type StorageFor } from "../storage/locate.ts";
import { StorageError, type ArtifactStorage, type ByteRange, type GetResult } from "../storage/types.ts";
import { isHeadOnly } from "./head.ts";
import { errorResponse } from "./http.ts";
import { processBufferBudget, ShortBodyError, type BufferBudget } from "./framed-download.ts";
import { downloadResponse, type FramingOptions } from "./pinned-file-response.ts";
import type { RepairHint } from "./repair-hint.ts";

interface PinRecord {
  pin: string;
  checksum: string;
}

const RETRY_AFTER = { "retry-after": "30" };

type PresignConfig = NonNullable<StorageConfig["presign"]>;

/** v0.9's default lifetime of a pre-signed URL. */
export const DEFAULT_PRESIGN_TTL_SECONDS = 15 * 60;
/** Long enough for a client to follow the redirect despite clock skew between us and the storage service. */
export const MIN_PRESIGN_TTL_SECONDS = 60;
/** S3 SigV4 and GCS V4 signed URLs, and Azure user-delegation SAS, are capped at 7 days. */
export const MAX_PRESIGN_TTL_SECONDS = 7 * 86_400;

/**
 * The lifetime of the pre-signed URL for a download authorised by a registry URL that expires at `urlExpiresAt`
 * (epoch seconds): `presign.ttl` (default 15m) clamped to 1 min … 7 days, and never longer than the registry URL
 * still has to live, so redirecting does not extend access beyond what the registry granted (but at least the
 * 1-minute floor, so a client holding a nearly-expired URL can still follow the redirect).
 */
export function presignTtlSeconds(ttl: string | undefined, urlExpiresAt: number | undefined, nowMs: number): number {
  let configured = DEFAULT_PRESIGN_TTL_SECONDS;
  if (ttl) {
    try {
      configured = Math.floor(parseDuration(ttl) / 1000);
    } catch {
      // The schema validates the format; a value that still fails to parse gets the default.
    }
  }
  let seconds = Math.min(MAX_PRESIGN_TTL_SECONDS, Math.max(MIN_PRESIGN_TTL_SECONDS, configured));
  if (urlExpiresAt !== undefined && Number.isFinite(urlExpiresAt)) {
    const remaining = Math.floor(urlExpiresAt - nowMs / 1000);
    seconds = Math.min(seconds, Math.max(MIN_PRESIGN_TTL_SECONDS, remaining));
  }
  return seconds;
}

/** What the client is told when pre-signing fails and proxying is disabled; details stay in the server log. */
function presignFailureReason(e: unknown): string {
  const base = "failed to generate pre-signed URL";
  if (!(e instanceof StorageError)) return base;
  switch (e.kind) {
    case "Unsupported":
      return `${base}: the storage backend does not support pre-signed URLs`;
    case "Credentials":
    case "Denied":
      return `${base}: storage credentials are unavailable or not permitted to sign`;
    case "Invalid":
      return `${base}: invalid pre-sign configuration`;
    default:
      return `${base}: storage backend unavailable`;
  }
}

export interface ArtifactDeliveryOptions {
  /** Clock (tests). */
  now?: () => number;
  /**
   * Called once per download: when the bytes are served (a ranged GET only when it starts at byte 0) or a
   * pre-signed redirect to them is issued; never for HEAD. Must not throw or wait (download statistics).
   */
  onDownload?: (version: VersionObject) => void;
  /** Told when an artifact is refused as missing or corrupt, so that it is repaired now, not at the next resync. */
  onRefused?: RepairHint;
  /**
   * Memory for downloads that are read whole before they are answered, so that they carry a Content-Length (those the
   * kernel cannot copy: buckets, TLS); default the process's, 8 MiB per body and 64 MiB in all. Larger ones stream,
   * length-guarded.
   */
  bufferBudget?: BufferBudget;
}

export class ArtifactDelivery {
  private readonly verified = new Map<string, PinRecord>();
  private readonly rejected = new Map<string, PinRecord>();
  private readonly inflight = new Map<string, Promise<boolean>>();
  /** Backends that said they cannot pre-sign at all (filesystem): not asked again, and logged once. */
  private readonly presignUnsupported = new Map<string, unknown>();
  private readonly now: () => number;
  private readonly onDownload: (version: VersionObject) => void;
  private readonly budget: BufferBudget;

  constructor(
    private readonly storageFor: StorageFor,
    private readonly log: Logger,
    private readonly options: ArtifactDeliveryOptions = {},
  ) {
    this.now = options.now ?? (() => Date.now());
    this.onDownload = options.onDownload ?? (() => {});
    this.budget = options.bufferBudget ?? processBufferBudget;
  }

  /** Serve the artifact of a servable Version (checksum and file name present). Handles HEAD and single ranges. */
  async respond(version: VersionObject, request: Request, contentType: string): Promise<Response> {
    const checksum = version.status?.checksum ?? "";
    let loc;
    try {
      loc = locateArtifact(version, this.storageFor);
    } catch (e) {
      if (e instanceof StorageError && e.kind === "NotAllowed") {
        // The storage policy no longer allows where this Version lives: never contact it.
        this.log.warn("artifact storage not allowed by the storage policy", { version: version.metadata.name, namespace: version.metadata.namespace, error: e.message });
        return errorResponse(403, "artifact storage is not allowed by the registry's storage policy");
      }
      this.log.error("artifact location unavailable", { version: version.metadata.name, namespace: version.metadata.namespace, error: e });
      return errorResponse(503, "artifact storage is not available", RETRY_AFTER);
    }
    const { storage, key, storageConfig } = loc;
    const id = `${storage.description}|${key}`;
    const logFields = { namespace: version.metadata.namespace, version: version.metadata.name, storage: storage.description };
    try {
      // The steady state: a plain GET of an object verified before. Opening it tells its pin (the descriptor's fstat,
      // or the bucket's answer headers), so the separate HEAD (four more lstats, or one more round trip) is skipped.
      if (!storageConfig?.presign?.enabled && !isHeadOnly(request) && !request.headers.has("range")) {
        const got = await this.openIfVerified(storage, key, id, checksum);
        if (got) return await this.send(got, request, this.headersFor(version, contentType, checksum), version, logFields);
      }
      const info = await storage.head(key);
      if (!info) {
        this.options.onRefused?.(version, "missing");
        this.log.warn("artifact missing from storage", logFields);
        return errorResponse(503, "artifact is temporarily unavailable; it will be restored", RETRY_AFTER);
      }
      if (!(await this.isVerified(storage, key, id, info.pin, checksum))) {
        this.options.onRefused?.(version, "corrupt");
        this.log.error("artifact failed integrity verification; refusing to serve it", logFields);
        return errorResponse(503, "artifact failed integrity verification and will be restored", RETRY_AFTER);
      }
      // HEAD is answered here even with presign on: bucket signatures cover GET only, so a redirected HEAD would
      // fail there; the verified size and checksum are what a HEAD asks for anyway.
      if (storageConfig?.presign?.enabled && !isHeadOnly(request)) {
        const redirect = await this.presigned(storage, key, storageConfig.presign, request, logFields);
        if (redirect) {
          const range = parseRange(request.headers.get("range"), info.size);
          if (redirect.status === 307 && (range === undefined || (range !== "unsatisfiable" && range.start === 0))) this.onDownload(version);
          return redirect;
        }
      }
      const range = parseRange(request.headers.get("range"), info.size);
      if (range === "unsatisfiable") {
        return new Response(null, { status: 416, headers: { "content-range": `bytes */${info.size}` } });
      }
      const headers = this.headersFor(version, contentType, checksum);
      if (isHeadOnly(request)) {
        headers["content-length"] = String(info.size);
        return new Response(null, { status: 200, headers });
      }
      const got = await storage.get(key, range);
      if (got.pin !== info.pin) {
        // Replaced between the check and the open: never stream bytes that were not verified.
        await got.body.cancel().catch(() => {});
        this.log.warn("artifact changed while being served; asking the client to retry", logFields);
        return errorResponse(503, "artifact is being updated; retry shortly", { "retry-after": "1" });
      }
      return await this.send(got, request, headers, version, logFields);
    } catch (e) {
      const transient = (e instanceof StorageError && (e.kind === "NotFound" || e.kind === "Transient")) || e instanceof ShortBodyError;
      this.log.error("artifact read failed", { ...logFields, error: e });
      return errorResponse(503, transient ? "artifact is temporarily unavailable" : "artifact storage error", RETRY_AFTER);
    }
  }

  private headersFor(version: VersionObject, contentType: string, checksum: string): Record<string, string> {
    return {
      "content-type": contentType,
      "accept-ranges": "bytes",
      etag: `"${checksum}"`,
      "cache-control": "private, no-store",
      "content-disposition": contentDisposition(version.spec.fileName),
    };
  }

  /** The bytes of `got` (opened from the verified pin) as a 200, or a 206 for the range it honoured. */
  private async send(got: GetResult, request: Request, headers: Record<string, string>, version: VersionObject, logFields: Record<string, unknown>): Promise<Response> {
    const framing: FramingOptions = {
      budget: this.budget,
      onCut: (e) => this.log.warn("download cut short: storage ended or failed before the announced length", { ...logFields, error: e }),
    };
    if (got.range) {
      headers["content-range"] = `bytes ${got.range.start}-${got.range.end}/${got.size}`;
      headers["content-length"] = String(got.range.end - got.range.start + 1);
      const response = await downloadResponse(got, request, { status: 206, headers }, framing);
      // A resumed download (a range from the middle) is the same download again: count only its first part.
      if (got.range.start === 0) this.onDownload(version);
      return response;
    }
    headers["content-length"] = String(got.size);
    const response = await downloadResponse(got, request, { status: 200, headers }, framing);
    this.onDownload(version);
    return response;
  }

  /**
   * The whole object, opened, when the pin it was opened at is one already verified for this checksum; otherwise
   * undefined (released), and the caller takes the checked way: HEAD, verify if needed, open, compare pins.
   */
  private async openIfVerified(storage: ArtifactStorage, key: string, id: string, checksum: string): Promise<GetResult | undefined> {
    if (this.verified.get(id)?.checksum !== checksum) return undefined;
    let got: GetResult;
    try {
      got = await storage.get(key);
    } catch (e) {
      if (e instanceof StorageError && e.kind === "NotFound") return undefined; // the checked way says "missing"
      throw e;
    }
    const known = this.verified.get(id);
    if (known && known.checksum === checksum && known.pin === got.pin) return got;
    await got.body.cancel().catch(() => {});
    return undefined;
  }

  /**
   * A 307 to a backend-signed URL for the (verified) object; a 502 when signing fails and proxying is disabled;
   * undefined to stream through the server instead.
   */
  private async presigned(storage: ArtifactStorage, key: string, presign: PresignConfig, request: Request, logFields: Record<string, unknown>): Promise<Response | undefined> {
    const fallback = presign.fallbackToProxy !== false;
    let failure = this.presignUnsupported.get(storage.description);
    if (failure === undefined) {
      // The route has already checked the registry URL's signature and expiry; its `expires` bounds the TTL.
      const expiresText = new URL(request.url).searchParams.get("expires");
      const expires = expiresText && /^\d{1,12}$/.test(expiresText) ? Number(expiresText) : undefined;
      const ttl = presignTtlSeconds(presign.ttl, expires, this.now());
      try {
        const location = await storage.presign(key, ttl);
        return new Response(null, { status: 307, headers: { location, "cache-control": "no-store" } });
      } catch (e) {
        failure = e;
        const unsupported = e instanceof StorageError && e.kind === "Unsupported";
        if (unsupported) this.presignUnsupported.set(storage.description, e);
        this.log.error(fallback ? "pre-signing failed; serving the artifact through the server" : "pre-signing failed and fallbackToProxy is disabled", {
          ...logFields,
          error: e,
          ...(unsupported ? { note: "the backend cannot pre-sign; logged once" } : {}),
        });
      }
    }
    return fallback ? undefined : errorResponse(502, presignFailureReason(failure));
  }

  private async isVerified(storage: ArtifactStorage, key: string, id: string, pin: string, checksum: string): Promise<boolean> {
    const ok = this.verified.get(id);
    if (ok && ok.pin === pin && ok.checksum === checksum) return true;
    const bad = this.rejected.get(id);
    if (bad && bad.pin === pin && bad.checksum === checksum) return false;
    const flight = `${id}|${pin}|${checksum}`;
    let pending = this.inflight.get(flight);
    if (!pending) {
      pending = this.verify(storage, key, id, checksum).finally(() => this.inflight.delete(flight));
      this.inflight.set(flight, pending);
    }
    return pending;
  }

  /** Hash the whole object once and pin the verdict to the pin of the exact bytes that were hashed. */
  private async verify(storage: ArtifactStorage, key: string, id: string, checksum: string): Promise<boolean> {
    const got = await storage.get(key);
    const { bytes } = await sha256OfStream(got.body);
    const record = { pin: got.pin, checksum };
    const match = toBase64(bytes) === checksum;
    (match ? this.verified : this.rejected).set(id, record);
    (match ? this.rejected : this.verified).delete(id);
    return match;
  }
}

/**
 * `attachment; filename="<the Version's file name>"`, the same whichever way the bytes go out. (A file body would
 * otherwise get one from Bun naming the descriptor: `filename="23"`.) Names outside a conservative character set
 * are left out rather than escaped.
 */
export function contentDisposition(fileName: string | undefined): string {
  return fileName && /^[A-Za-z0-9][A-Za-z0-9._+-]{0,199}$/.test(fileName) ? `attachment; filename="${fileName}"` : "attachment";
}

/** A single `bytes=a-b` / `bytes=a-` / `bytes=-n` range; anything else is served whole, as RFC 9110 allows. */
export function parseRange(header: string | null, size: number): ByteRange | undefined | "unsatisfiable" {
  if (!header) return undefined;
  const m = /^bytes=(\d{0,15})-(\d{0,15})$/.exec(header.trim());
  if (!m || (!m[1] && !m[2])) return undefined;
  if (!m[1]) {
    const suffix = Number(m[2]);
    if (suffix === 0) return "unsatisfiable";
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] ? Math.min(Number(m[2]), size - 1) : size - 1;
  if (start >= size || end < start) return "unsatisfiable";
  return { start, end };
}
