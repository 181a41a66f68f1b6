// How a module README is kept in its ConfigMap `<version>-readme`, and the one reader of that layout.
//
// A ConfigMap holds at most 1 MiB of data (the API server refuses more: `[]: Too long`), and base64 makes a README
// a third larger. So:
//   - a README whose base64 fits is stored as v0.9 did: data["README.md"] = base64(README);
//   - a larger one is gzip-compressed into binaryData["README.md.gz"] (text compresses several-fold);
//   - one that still does not fit (only incompressible content near the 1 MiB README cap) is cut at a character
//     boundary until it fits, a notice is appended, and annotation opendepot.defdev.io/readme-truncated records the
//     original size in bytes.
// Readers call readmeFromConfigMap and never look at the keys themselves.
//
// node:zlib (3.5 MiB on a bare Bun, 0.4 MiB of standalone's RSS at ready) is loaded at the first gzip layout read or written, not with this module:
// the registry server imports this reader at startup, and a README kept in `data` (the usual case) never needs it.
const zlib = () => process.getBuiltinModule("node:zlib");

export const README_KEY = "README.md";
export const README_GZIP_KEY = "README.md.gz";
export const README_TRUNCATED_ANNOTATION = "opendepot.defdev.io/readme-truncated";

/** What may go in a ConfigMap's data, with room to spare for keys (the API server's limit is 1 MiB). */
export const README_DATA_BUDGET = 1024 * 1024 - 4096;

export interface ReadmeConfigMapContent {
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
  /** Set when the README had to be cut: its original size in bytes. */
  truncatedFromBytes?: number;
}

const base64Length = (bytes: number) => 4 * Math.ceil(bytes / 3);

/** Cut UTF-8 `bytes` to at most `max` bytes without splitting a character. */
function cutUtf8(bytes: Buffer, max: number): Buffer {
  let end = Math.min(max, bytes.length);
  while (end > 0 && end < bytes.length && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}

export function readmeConfigMapContent(content: string, budget = README_DATA_BUDGET): ReadmeConfigMapContent {
  const raw = Buffer.from(content, "utf8");
  if (base64Length(raw.length) <= budget) return { data: { [README_KEY]: raw.toString("base64") } };
  const { gzipSync } = zlib();
  const whole = gzipSync(raw, { level: 9 });
  if (whole.length <= budget) return { binaryData: { [README_GZIP_KEY]: whole.toString("base64") } };
  // Incompressible: keep as much as fits (gzip never grows incompressible data by more than ~0.1% plus a header).
  const notice = Buffer.from(`\n\n---\n*README truncated by OpenDepot: it is ${raw.length} bytes, more than a ConfigMap can hold.*\n`, "utf8");
  let keep = Math.floor((budget - 1024) * 0.99) - notice.length;
  for (;;) {
    const cut = Buffer.concat([cutUtf8(raw, keep), notice]);
    const packed = gzipSync(cut, { level: 9 });
    if (packed.length <= budget) return { binaryData: { [README_GZIP_KEY]: packed.toString("base64") }, truncatedFromBytes: raw.length };
    keep -= packed.length - budget + 1024;
  }
}

interface ConfigMapLike {
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
  metadata?: { annotations?: Record<string, string> };
}

export interface StoredReadme {
  content: string;
  /** Original size in bytes when what is stored is a cut copy. */
  truncatedFromBytes?: number;
}

/** Gunzip at most this much: a hostile ConfigMap must not inflate into gigabytes. */
const MAX_README_BYTES = 4 * 1024 * 1024;

/** The README a `<version>-readme` ConfigMap holds, in either layout; undefined when it holds none. */
export function readmeFromConfigMap(cm: ConfigMapLike | undefined): StoredReadme | undefined {
  if (!cm) return undefined;
  const truncated = Number(cm.metadata?.annotations?.[README_TRUNCATED_ANNOTATION]);
  const extra = Number.isSafeInteger(truncated) && truncated > 0 ? { truncatedFromBytes: truncated } : {};
  const packed = cm.binaryData?.[README_GZIP_KEY];
  if (typeof packed === "string") {
    try {
      return { content: zlib().gunzipSync(Buffer.from(packed, "base64"), { maxOutputLength: MAX_README_BYTES }).toString("utf8"), ...extra };
    } catch {
      return undefined;
    }
  }
  const plain = cm.data?.[README_KEY];
  if (typeof plain === "string") return { content: Buffer.from(plain, "base64").toString("utf8"), ...extra };
  return undefined;
}
