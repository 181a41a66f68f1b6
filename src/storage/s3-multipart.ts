// S3 multipart upload for objects above the single-PUT threshold: one part buffered at a time, each part's payload
// hash signed (so the server verifies every byte), and the upload aborted on any failure so no orphan parts remain.
import type { PartReader } from "./chunks.ts";
import { bareEtag, discardBody, readBoundedText } from "./http.ts";
import type { S3Transport } from "./s3-request.ts";
import { StorageError } from "./types.ts";
import { xmlBlocks, xmlEscape, xmlText } from "./xml.ts";

export interface MultipartInput {
  key: string;
  reader: PartReader;
  /** The first part, already read by the caller while deciding between single PUT and multipart. */
  first: Uint8Array;
  partSize: number;
  headers: Record<string, string>;
  /** Expected base64 SHA-256: checked before completing; a mismatch aborts the upload. */
  expectedSha256?: string;
}

const MAX_PARTS = 10_000;

export async function multipartUpload(t: S3Transport, input: MultipartInput): Promise<{ etag: string; size: number; sha256: string }> {
  const { key, reader } = input;
  // Creating an upload is not idempotent (a blind retry could leave an orphan upload), so it is tried once.
  const created = await t.send(`create multipart upload of ${key}`, { method: "POST", key, query: { uploads: "" }, headers: input.headers, idempotent: false });
  const createdXml = await readBoundedText(created);
  const uploadId = xmlText(createdXml, "UploadId");
  if (!uploadId || uploadId.length > 1024) throw new StorageError("Transient", `create multipart upload of ${key} (${t.description}): response has no UploadId`);
  try {
    const etags: string[] = [];
    let part: Uint8Array = input.first;
    for (let n = 1; ; n++) {
      if (n > MAX_PARTS) throw new StorageError("Invalid", `upload of ${key} exceeds ${MAX_PARTS} parts of ${input.partSize} bytes`);
      const res = await t.send(`upload part ${n} of ${key}`, {
        method: "PUT",
        key,
        query: { partNumber: String(n), uploadId },
        body: part,
        idempotent: true,
        timeoutMs: t.policy.uploadTimeoutMs,
      });
      await discardBody(res);
      const etag = res.headers.get("etag");
      if (!etag || etag.length > 256) throw new StorageError("Transient", `upload part ${n} of ${key} (${t.description}): response has no ETag`);
      etags.push(etag);
      if (part.byteLength < input.partSize || (await reader.atEnd())) break;
      part = await reader.read(input.partSize);
      if (part.byteLength === 0) break;
    }
    const sha256 = reader.sha256();
    if (input.expectedSha256 && input.expectedSha256 !== sha256) {
      throw new StorageError("Invalid", `upload of ${key}: content SHA-256 ${sha256} does not match the expected ${input.expectedSha256}`);
    }
    const body = `<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${etags
      .map((e, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${xmlEscape(e)}</ETag></Part>`)
      .join("")}</CompleteMultipartUpload>`;
    // Completing is safe to retry: the parts stay until the upload is completed or aborted.
    const done = await t.send(`complete multipart upload of ${key}`, {
      method: "POST",
      key,
      query: { uploadId },
      headers: { "content-type": "application/xml" },
      body,
      idempotent: true,
      timeoutMs: t.policy.uploadTimeoutMs,
    });
    // S3 may answer 200 and still fail: the error is then in the body.
    const xml = await readBoundedText(done);
    if (/<Error[\s>]/.test(xml)) {
      const code = xmlText(xml, "Code") ?? "unknown";
      throw new StorageError(code === "InternalError" || code === "SlowDown" ? "Transient" : "Invalid", `complete multipart upload of ${key} (${t.description}): ${code}: ${xmlText(xml, "Message") ?? ""}`);
    }
    const etag = bareEtag(xmlText(xml, "ETag") ?? done.headers.get("etag"));
    if (!etag) throw new StorageError("Transient", `complete multipart upload of ${key} (${t.description}): response has no ETag`);
    return { etag, size: reader.bytesRead, sha256 };
  } catch (e) {
    reader.cancel(e);
    await abortMultipart(t, key, uploadId);
    throw e;
  }
}

/** Best effort (with retries): an abort that fails still lets the original error through. */
export async function abortMultipart(t: S3Transport, key: string, uploadId: string): Promise<void> {
  try {
    const res = await t.send(`abort multipart upload of ${key}`, {
      method: "DELETE",
      key,
      query: { uploadId },
      idempotent: true,
      accept: (s) => (s >= 200 && s < 300) || s === 404,
    });
    await discardBody(res);
  } catch {
    // The bucket's lifecycle rule for incomplete uploads is the backstop; nothing more to do here.
  }
}

/** In-progress multipart uploads under a prefix (tests assert none are left; operators can audit). */
export async function listMultipartUploads(t: S3Transport, prefix = ""): Promise<{ key: string; uploadId: string }[]> {
  const res = await t.send("list multipart uploads", { method: "GET", query: { uploads: "", prefix }, idempotent: true });
  const xml = await readBoundedText(res, 4 * 1024 * 1024);
  return xmlBlocks(xml, "Upload").map((b) => ({ key: xmlText(b, "Key") ?? "", uploadId: xmlText(b, "UploadId") ?? "" }));
}
