// Serving stored artifacts with an integrity guarantee: bytes go out only if the object hashes to the Version's
// status.checksum. Hashing on every download would double the I/O, so the first download of an object verifies it
// in full and pins the result to the object's `pin` (inode/size/mtime, ETag or generation); later downloads pay a
// HEAD-sized check. A changed pin means the object was rewritten and is verified again before anything is served.
import type { VersionObject } from "../api/kinds.ts";
import { sha256OfStream, toBase64 } from "../artifacts/hash.ts";
import type { Logger } from "../log.ts";
import { locateArtifact, type StorageFor } from "../storage/locate.ts";
import { StorageError, type ArtifactStorage, type ByteRange } from "../storage/types.ts";
import { isHeadOnly } from "./head.ts";
import { errorResponse } from "./http.ts";

interface PinRecord {
  pin: string;
  checksum: string;
}

const RETRY_AFTER = { "retry-after": "30" };

export class ArtifactDelivery {
  private readonly verified = new Map<string, PinRecord>();
  private readonly rejected = new Map<string, PinRecord>();
  private readonly inflight = new Map<string, Promise<boolean>>();

  constructor(
    private readonly storageFor: StorageFor,
    private readonly log: Logger,
  ) {}

  /** Serve the artifact of a servable Version (checksum and file name present). Handles HEAD and single ranges. */
  async respond(version: VersionObject, request: Request, contentType: string): Promise<Response> {
    const checksum = version.status?.checksum ?? "";
    let loc;
    try {
      loc = locateArtifact(version, this.storageFor);
    } catch (e) {
      this.log.error("artifact location unavailable", { version: version.metadata.name, namespace: version.metadata.namespace, error: e });
      return errorResponse(503, "artifact storage is not available", RETRY_AFTER);
    }
    const { storage, key } = loc;
    const id = `${storage.description}|${key}`;
    const logFields = { namespace: version.metadata.namespace, version: version.metadata.name, storage: storage.description };
    try {
      const info = await storage.head(key);
      if (!info) {
        this.log.warn("artifact missing from storage", logFields);
        return errorResponse(503, "artifact is temporarily unavailable; it will be restored", RETRY_AFTER);
      }
      if (!(await this.isVerified(storage, key, id, info.pin, checksum))) {
        this.log.error("artifact failed integrity verification; refusing to serve it", logFields);
        return errorResponse(503, "artifact failed integrity verification and will be restored", RETRY_AFTER);
      }
      const range = parseRange(request.headers.get("range"), info.size);
      if (range === "unsatisfiable") {
        return new Response(null, { status: 416, headers: { "content-range": `bytes */${info.size}` } });
      }
      const headers: Record<string, string> = {
        "content-type": contentType,
        "accept-ranges": "bytes",
        etag: `"${checksum}"`,
        "cache-control": "private, no-store",
      };
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
      if (got.range) {
        headers["content-range"] = `bytes ${got.range.start}-${got.range.end}/${got.size}`;
        headers["content-length"] = String(got.range.end - got.range.start + 1);
        return new Response(got.body, { status: 206, headers });
      }
      headers["content-length"] = String(got.size);
      return new Response(got.body, { status: 200, headers });
    } catch (e) {
      const transient = e instanceof StorageError && e.kind === "NotFound";
      this.log.error("artifact read failed", { ...logFields, error: e });
      return errorResponse(503, transient ? "artifact is temporarily unavailable" : "artifact storage error", RETRY_AFTER);
    }
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
