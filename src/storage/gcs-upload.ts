// GCS uploads: one multipart/related request for small objects; a resumable session for large ones, streamed in
// chunks (multiples of 256 KiB, one buffered at a time). A chunk that fails transiently is resumed from the offset
// the server says it persisted; any other failure cancels the session so nothing is left behind.
import { createHash } from "node:crypto";
import { sleep } from "../kits/sleep.ts";
import type { PartReader } from "./chunks.ts";
import type { GcsTransport } from "./gcs-request.ts";
import { discardBody, readBoundedText } from "./http.ts";
import { StorageError } from "./types.ts";

export const CHUNK_QUANTUM = 256 * 1024;

export interface ObjectResource {
  name: string;
  generation: string;
  size: number;
  contentType?: string;
  updated?: Date;
  metadata: Record<string, string>;
}

/** Validates the object JSON the server returns (never trusted blindly). */
export function parseObjectResource(what: string, text: string): ObjectResource {
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new StorageError("Transient", `${what}: object resource is not JSON`);
  }
  const generation = v.generation;
  const size = typeof v.size === "string" && /^\d{1,16}$/.test(v.size) ? Number(v.size) : undefined;
  if (typeof v.name !== "string" || typeof generation !== "string" || !/^\d{1,20}$/.test(generation) || size === undefined) {
    throw new StorageError("Transient", `${what}: object resource lacks name, generation or size`);
  }
  const metadata: Record<string, string> = {};
  if (v.metadata && typeof v.metadata === "object") {
    for (const [k, val] of Object.entries(v.metadata as Record<string, unknown>)) if (typeof val === "string") metadata[k] = val;
  }
  const updated = typeof v.updated === "string" ? new Date(v.updated) : undefined;
  return {
    name: v.name,
    generation,
    size,
    ...(typeof v.contentType === "string" ? { contentType: v.contentType } : {}),
    ...(updated && !Number.isNaN(updated.getTime()) ? { updated } : {}),
    metadata,
  };
}

export async function multipartUpload(t: GcsTransport, name: string, data: Uint8Array, contentType: string, metadata: Record<string, string>): Promise<ObjectResource> {
  const boundary = `opendepot-${crypto.randomUUID()}`;
  const md5Hash = createHash("md5").update(data).digest("base64");
  // md5Hash in the resource makes the service verify the bytes it received.
  const json = JSON.stringify({ name, contentType, md5Hash, metadata });
  const head = `--${boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n${json}\r\n--${boundary}\r\nContent-Type: ${contentType}\r\n\r\n`;
  const tail = `\r\n--${boundary}--\r\n`;
  const body = Buffer.concat([Buffer.from(head), data, Buffer.from(tail)]);
  const res = await t.send(`upload ${name}`, {
    method: "POST",
    url: t.uploadUrl({ uploadType: "multipart" }),
    headers: { "content-type": `multipart/related; boundary=${boundary}` },
    body,
    idempotent: true,
    timeoutMs: t.policy.uploadTimeoutMs,
  });
  return parseObjectResource(`upload ${name} (${t.description})`, await readBoundedText(res));
}

export interface ResumableInput {
  name: string;
  reader: PartReader;
  first: Uint8Array;
  chunkSize: number;
  contentType: string;
  metadata: Record<string, string>;
  /** Called after the last byte was read, before the final chunk is sent: may reject (checksum mismatch). */
  beforeFinal?: () => void;
}

export async function resumableUpload(t: GcsTransport, input: ResumableInput): Promise<ObjectResource> {
  const { name, reader, chunkSize } = input;
  const started = await t.send(`start resumable upload of ${name}`, {
    method: "POST",
    url: t.uploadUrl({ uploadType: "resumable" }),
    headers: { "content-type": "application/json; charset=UTF-8", "x-upload-content-type": input.contentType },
    body: JSON.stringify({ name, contentType: input.contentType, metadata: input.metadata }),
    // A second session after a lost answer is harmless: unused sessions expire and are never visible.
    idempotent: true,
  });
  await discardBody(started);
  const session = t.checkSessionUri(started.headers.get("location"));
  try {
    let offset = 0;
    let chunk = input.first;
    for (;;) {
      const last = chunk.byteLength < chunkSize || (await reader.atEnd());
      if (last) input.beforeFinal?.();
      const done = await sendChunk(t, session, name, chunk, offset, last ? offset + chunk.byteLength : undefined);
      if (done) return done;
      offset += chunk.byteLength;
      chunk = await reader.read(chunkSize);
    }
  } catch (e) {
    reader.cancel(e);
    await cancelSession(t, session, name);
    throw e;
  }
}

/** Sends one chunk; on a transient failure asks the server what it kept and sends the rest. */
async function sendChunk(t: GcsTransport, session: string, name: string, chunk: Uint8Array, offset: number, total: number | undefined): Promise<ObjectResource | undefined> {
  let sent = 0; // bytes of this chunk the server has persisted
  let attempt = 0;
  for (let round = 0; ; round++) {
    // A server that keeps answering "incomplete" without progress must not hold us forever.
    if (round > t.policy.retries + 5) throw new StorageError("Transient", `upload of ${name}: no progress at offset ${offset + sent}`);
    const part = chunk.subarray(sent);
    const start = offset + sent;
    const range = part.byteLength === 0 ? `bytes */${total}` : `bytes ${start}-${start + part.byteLength - 1}/${total ?? "*"}`;
    try {
      const res = await t.send(`upload chunk at ${start} of ${name}`, {
        method: "PUT",
        url: session,
        headers: { "content-range": range },
        body: part,
        idempotent: false, // retried here, from the persisted offset, not blindly
        timeoutMs: t.policy.uploadTimeoutMs,
        accept: (s) => s === 200 || s === 201 || s === 308,
      });
      if (res.status !== 308) return parseObjectResource(`upload ${name} (${t.description})`, await readBoundedText(res));
      await discardBody(res);
      const persisted = persistedEnd(res.headers.get("range"));
      if (total === undefined && persisted === offset + chunk.byteLength) return undefined;
      // The server kept less than we sent (or this was the final chunk and it still wants more): resume.
      sent = Math.max(0, persisted - offset);
      if (persisted < offset) throw new StorageError("Transient", `upload of ${name}: server lost data before offset ${offset}`);
    } catch (e) {
      if (!(e instanceof StorageError) || e.kind !== "Transient" || attempt >= t.policy.retries) throw e;
      await sleep(t.policy.retryBaseMs * 2 ** attempt++);
      const status = await queryStatus(t, session, name);
      if (typeof status === "object") return status;
      if (status < offset) throw new StorageError("Transient", `upload of ${name}: server lost data before offset ${offset}`, { cause: e });
      sent = status - offset;
    }
    if (sent > chunk.byteLength) throw new StorageError("Transient", `upload of ${name}: server claims more bytes than were sent`);
  }
}

/** `Range: bytes=0-N` → N+1 persisted bytes; absent → none. */
function persistedEnd(range: string | null): number {
  if (!range) return 0;
  const m = /^bytes=0-(\d{1,16})$/.exec(range.trim());
  if (!m) throw new StorageError("Transient", `resumable upload: invalid Range ${JSON.stringify(range.slice(0, 60))}`);
  return Number(m[1]) + 1;
}

async function queryStatus(t: GcsTransport, session: string, name: string): Promise<number | ObjectResource> {
  const res = await t.send(`query upload status of ${name}`, {
    method: "PUT",
    url: session,
    headers: { "content-range": "bytes */*" },
    idempotent: true,
    accept: (s) => s === 200 || s === 201 || s === 308,
  });
  if (res.status !== 308) return parseObjectResource(`upload ${name} (${t.description})`, await readBoundedText(res));
  await discardBody(res);
  return persistedEnd(res.headers.get("range"));
}

/** DELETE on the session cancels it (the service answers 499); best effort. */
async function cancelSession(t: GcsTransport, session: string, name: string): Promise<void> {
  try {
    const res = await t.send(`cancel upload of ${name}`, { method: "DELETE", url: session, idempotent: true, accept: (s) => s === 499 || s === 204 || s === 404 || s === 410 });
    await discardBody(res);
  } catch {
    // An abandoned session expires after a week and never becomes an object.
  }
}
