// Minimal tar support for module repackaging: a streaming reader for what `git archive` (GitHub tarballs) and
// common tools emit (ustar, pax 'x'/'g' headers, GNU long names), and a deterministic ustar writer.

export const BLOCK = 512;
/** 1980-01-01T00:00:00Z, the same instant the zip output uses, so both formats list one fixed date. */
export const FIXED_TAR_MTIME = 315_532_800;

const enc = new TextEncoder();
const dec = new TextDecoder();

export class ArchiveFormatError extends Error {
  override readonly name = "ArchiveFormatError";
}

/** Pulls exact byte counts out of a chunked stream; counts everything read so a gzip bomb trips `limit`. */
export class ByteReader {
  private buf: Uint8Array = new Uint8Array(0);
  private off = 0;
  total = 0;
  constructor(
    private readonly reader: ReadableStreamDefaultReader<Uint8Array>,
    private readonly limit: number,
    private readonly overLimit: () => Error,
  ) {}

  private async fill(): Promise<boolean> {
    const { done, value } = await this.reader.read();
    if (done) return false;
    this.total += value.byteLength;
    if (this.total > this.limit) throw this.overLimit();
    const rest = this.buf.subarray(this.off);
    if (rest.byteLength === 0) this.buf = value;
    else {
      const merged = new Uint8Array(rest.byteLength + value.byteLength);
      merged.set(rest);
      merged.set(value, rest.byteLength);
      this.buf = merged;
    }
    this.off = 0;
    return true;
  }

  /** Exactly n bytes, or undefined at a clean end of input; a short read mid-way is an error. */
  async exact(n: number): Promise<Uint8Array | undefined> {
    while (this.buf.byteLength - this.off < n) {
      if (!(await this.fill())) {
        if (this.buf.byteLength - this.off === 0) return undefined;
        throw new ArchiveFormatError("tar archive is truncated");
      }
    }
    const out = this.buf.subarray(this.off, this.off + n);
    this.off += n;
    return out;
  }

  /** Yields the next n bytes in pieces (for file contents: nothing is gathered in memory). */
  async *pieces(n: number): AsyncGenerator<Uint8Array> {
    let left = n;
    while (left > 0) {
      if (this.buf.byteLength - this.off === 0 && !(await this.fill())) throw new ArchiveFormatError("tar archive is truncated");
      const take = Math.min(left, this.buf.byteLength - this.off);
      yield this.buf.subarray(this.off, this.off + take);
      this.off += take;
      left -= take;
    }
  }

  async skip(n: number): Promise<void> {
    for await (const _ of this.pieces(n)) {
      // discard
    }
  }

  cancel(): Promise<void> {
    return this.reader.cancel().catch(() => {});
  }
}

export type TarEntryKind = "file" | "dir" | "symlink" | "hardlink" | "other";

export interface TarEntryHeader {
  path: string;
  kind: TarEntryKind;
  mode: number;
  size: number;
  linkTarget: string;
}

function cstr(b: Uint8Array, start: number, len: number): string {
  const field = b.subarray(start, start + len);
  const nul = field.indexOf(0);
  return dec.decode(nul >= 0 ? field.subarray(0, nul) : field);
}

function octal(b: Uint8Array, start: number, len: number): number {
  // GNU base-256 for values that do not fit in octal.
  if ((b[start]! & 0x80) !== 0) {
    let v = b[start]! & 0x7f;
    for (let i = 1; i < len; i++) v = v * 256 + b[start + i]!;
    return v;
  }
  const s = cstr(b, start, len).trim();
  if (s === "") return 0;
  if (!/^[0-7]+$/.test(s)) throw new ArchiveFormatError(`tar header has a malformed number field "${s}"`);
  return parseInt(s, 8);
}

function checksumOk(h: Uint8Array): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
  return sum === octal(h, 148, 8);
}

function parsePax(data: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  let at = 0;
  while (at < data.byteLength) {
    const space = data.indexOf(0x20, at);
    if (space < 0) break;
    const len = Number(dec.decode(data.subarray(at, space)));
    if (!Number.isSafeInteger(len) || len <= 0 || at + len > data.byteLength) throw new ArchiveFormatError("malformed pax header");
    const record = dec.decode(data.subarray(space + 1, at + len - 1));
    const eq = record.indexOf("=");
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    at += len;
  }
  return out;
}

const META_LIMIT = 1024 * 1024;

/**
 * Walks a tar stream: `onEntry` gets each real entry and must consume exactly `size` bytes through `body`.
 * pax global headers (GitHub's `pax_global_header`) and per-entry pax/GNU records are applied, not emitted.
 */
export async function readTar(
  reader: ByteReader,
  onEntry: (header: TarEntryHeader, body: AsyncGenerator<Uint8Array>) => Promise<void>,
): Promise<void> {
  let pax: Record<string, string> = {};
  let longName: string | undefined;
  let longLink: string | undefined;
  for (;;) {
    const h = await reader.exact(BLOCK);
    if (!h || h.every((b) => b === 0)) return; // end-of-archive marker (or bare EOF)
    if (!checksumOk(h)) throw new ArchiveFormatError("tar header checksum mismatch (not a tar archive, or corrupt)");
    const type = String.fromCharCode(h[156]!);
    let size = octal(h, 124, 12);
    const padded = Math.ceil(size / BLOCK) * BLOCK;
    if (type === "x" || type === "g" || type === "L" || type === "K") {
      if (size > META_LIMIT) throw new ArchiveFormatError(`tar metadata record of ${size} bytes is too large`);
      const data = (await reader.exact(padded)) ?? new Uint8Array(0);
      if (data.byteLength < padded) throw new ArchiveFormatError("tar archive is truncated");
      const body = data.subarray(0, size);
      if (type === "x") pax = { ...pax, ...parsePax(body) };
      else if (type === "L") longName = cstr(body, 0, body.byteLength);
      else if (type === "K") longLink = cstr(body, 0, body.byteLength);
      // 'g' (global, e.g. GitHub's commit comment) carries nothing a module needs.
      continue;
    }
    const magic = cstr(h, 257, 6);
    const prefix = magic.startsWith("ustar") ? cstr(h, 345, 155) : "";
    const name = cstr(h, 0, 100);
    let path = longName ?? (prefix ? `${prefix}/${name}` : name);
    let linkTarget = longLink ?? cstr(h, 157, 100);
    if (pax.path !== undefined) path = pax.path;
    if (pax.linkpath !== undefined) linkTarget = pax.linkpath;
    if (pax.size !== undefined) size = Number(pax.size);
    if (!Number.isSafeInteger(size) || size < 0) throw new ArchiveFormatError("tar entry has an invalid size");
    pax = {};
    longName = longLink = undefined;
    const kind: TarEntryKind =
      type === "0" || type === "\0" || type === "7" ? "file" : type === "5" ? "dir" : type === "2" ? "symlink" : type === "1" ? "hardlink" : "other";
    const dataSize = kind === "dir" || kind === "symlink" || kind === "hardlink" ? 0 : size;
    await onEntry({ path, kind, mode: octal(h, 100, 8) & 0o7777, size: dataSize, linkTarget }, reader.pieces(dataSize));
    const pad = Math.ceil(dataSize / BLOCK) * BLOCK - dataSize;
    if (pad > 0) await reader.skip(pad);
  }
}

function writeString(b: Uint8Array, start: number, len: number, s: string): void {
  const bytes = enc.encode(s);
  if (bytes.byteLength > len) throw new ArchiveFormatError(`tar field too long: ${s}`);
  b.set(bytes, start);
}

function writeOctal(b: Uint8Array, start: number, len: number, v: number): void {
  const s = v.toString(8).padStart(len - 1, "0");
  if (s.length > len - 1) throw new ArchiveFormatError(`value ${v} does not fit a tar header field`);
  writeString(b, start, len, `${s}\0`);
}

export interface TarHeaderFields {
  name: string;
  prefix?: string;
  mode: number;
  size: number;
  type: string;
  linkname?: string;
  mtime?: number;
}

/** One 512-byte ustar header with uid/gid 0 and empty owner names, so nothing about the build host leaks in. */
export function tarHeader(f: TarHeaderFields): Uint8Array {
  const h = new Uint8Array(BLOCK);
  writeString(h, 0, 100, f.name);
  writeOctal(h, 100, 8, f.mode);
  writeOctal(h, 108, 8, 0);
  writeOctal(h, 116, 8, 0);
  writeOctal(h, 124, 12, f.size);
  writeOctal(h, 136, 12, f.mtime ?? FIXED_TAR_MTIME);
  h.fill(32, 148, 156);
  h[156] = f.type.charCodeAt(0);
  writeString(h, 157, 100, f.linkname ?? "");
  writeString(h, 257, 6, "ustar\0");
  writeString(h, 263, 2, "00");
  writeOctal(h, 329, 8, 0);
  writeOctal(h, 337, 8, 0);
  writeString(h, 345, 155, f.prefix ?? "");
  let sum = 0;
  for (const b of h) sum += b;
  writeString(h, 148, 8, `${sum.toString(8).padStart(6, "0")}\0 `);
  return h;
}

/** A pax record block ("<len> key=value\n", where len counts itself). */
export function paxData(records: Record<string, string>): Uint8Array {
  let text = "";
  for (const [k, v] of Object.entries(records)) {
    const body = ` ${k}=${v}\n`;
    let len = enc.encode(body).byteLength + 1;
    while (String(len).length + enc.encode(body).byteLength !== len) len = String(len).length + enc.encode(body).byteLength;
    text += `${len}${body}`;
  }
  return enc.encode(text);
}

export function tarPadding(size: number): Uint8Array {
  return new Uint8Array((BLOCK - (size % BLOCK)) % BLOCK);
}

/** Two zero blocks end a tar archive. */
export const TAR_END = new Uint8Array(2 * BLOCK);

function splitUstar(path: string): { name: string; prefix: string } | undefined {
  if (enc.encode(path).byteLength <= 100) return { name: path, prefix: "" };
  for (let i = path.indexOf("/"); i > 0; i = path.indexOf("/", i + 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (enc.encode(prefix).byteLength <= 155 && name !== "" && enc.encode(name).byteLength <= 100) return { name, prefix };
  }
  return undefined;
}

/** Header block(s) for one entry; paths or link targets that do not fit ustar get a pax 'x' record first. */
export function tarEntryHeader(entry: { path: string; type: "0" | "5" | "2"; mode: number; size: number; linkTarget?: string; mtime?: number }): Uint8Array[] {
  const split = splitUstar(entry.path);
  const linkFits = enc.encode(entry.linkTarget ?? "").byteLength <= 100;
  const out: Uint8Array[] = [];
  if (!split || !linkFits) {
    const records: Record<string, string> = {};
    if (!split) records.path = entry.path;
    if (!linkFits) records.linkpath = entry.linkTarget!;
    const data = paxData(records);
    out.push(tarHeader({ name: "PaxHeaders/entry", mode: 0o644, size: data.byteLength, type: "x", mtime: entry.mtime }), data, tarPadding(data.byteLength));
  }
  out.push(
    tarHeader({
      // Readers that know pax (all current ones) take the path from the record above.
      name: split?.name ?? "pax-long-path",
      prefix: split?.prefix ?? "",
      mode: entry.mode,
      size: entry.size,
      type: entry.type,
      linkname: linkFits ? entry.linkTarget : "",
      mtime: entry.mtime,
    }),
  );
  return out;
}
