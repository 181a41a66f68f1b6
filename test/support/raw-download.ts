// An HTTP/1.1 download over a plain socket that a test can pause (stop reading: the server meets backpressure) and
// resume, hashing the body as it arrives and keeping the raw header block (duplicated headers stay visible).
import { connect, type Socket } from "node:net";
import { connect as connectTls } from "node:tls";

export interface RawResult {
  status: number;
  /** The header block as sent, lines in order. */
  headerLines: string[];
  bytes: number;
  sha256: string;
  /** The server closed before the Content-Length was reached. */
  cut: boolean;
}

export class RawDownload {
  readonly done: Promise<RawResult>;
  received = 0;
  private readonly socket: Socket;
  private readonly hasher = new Bun.CryptoHasher("sha256");
  private head = Buffer.alloc(0);
  private headerLines: string[] | undefined;
  private status = 0;
  private expected = -1;
  private waiters: { n: number; resolve: () => void }[] = [];

  /** An https URL is fetched over TLS, trusting `tls.ca`. */
  constructor(url: string, headers: Record<string, string> = {}, tls: { ca?: string } = {}) {
    const u = new URL(url);
    const { promise, resolve, reject } = Promise.withResolvers<RawResult>();
    this.done = promise;
    const finish = (cut: boolean) => {
      resolve({ status: this.status, headerLines: this.headerLines ?? [], bytes: this.received, sha256: this.hasher.digest("hex"), cut });
      for (const w of this.waiters) w.resolve();
    };
    this.socket = u.protocol === "https:" ? connectTls({ host: u.hostname, port: Number(u.port), ca: tls.ca }) : connect(Number(u.port), u.hostname);
    this.socket.on("data", (chunk: Buffer) => this.onData(chunk, finish));
    this.socket.on("error", (e) => (this.headerLines ? finish(true) : reject(e)));
    this.socket.on("close", () => finish(this.expected < 0 || this.received < this.expected));
    const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("");
    this.socket.write(`GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nConnection: close\r\n${extra}\r\n`);
  }

  private onData(chunk: Buffer, finish: (cut: boolean) => void) {
    let body = chunk;
    if (!this.headerLines) {
      this.head = Buffer.concat([this.head, chunk]);
      const end = this.head.indexOf("\r\n\r\n");
      if (end < 0) return;
      const lines = this.head.subarray(0, end).toString("latin1").split("\r\n");
      this.status = Number(/^HTTP\/1\.1 (\d{3})/.exec(lines[0] ?? "")?.[1] ?? 0);
      this.headerLines = lines.slice(1);
      const length = this.header("content-length");
      this.expected = length === undefined ? -1 : Number(length);
      this.chunked = /chunked/i.test(this.header("transfer-encoding") ?? "");
      if (this.chunked) this.expected = -1;
      body = this.head.subarray(end + 4);
    }
    if (this.chunked) body = this.dechunk(body);
    if (body.length) {
      this.hasher.update(body);
      this.received += body.length;
    }
    this.waiters = this.waiters.filter((w) => (this.received >= w.n ? (w.resolve(), false) : true));
    if ((this.expected >= 0 && this.received >= this.expected) || this.lastChunk) {
      if (this.lastChunk) this.expected = this.received;
      finish(false);
      this.socket.destroy();
    }
  }

  // Transfer-Encoding: chunked (how Bun sends a streamed body): size line, data, CRLF; a zero size ends it.
  private chunked = false;
  private lastChunk = false;
  private pending = Buffer.alloc(0);
  private left = 0;

  private dechunk(data: Buffer): Buffer {
    this.pending = Buffer.concat([this.pending, data]);
    const out: Buffer[] = [];
    for (;;) {
      if (this.left > 0) {
        const take = Math.min(this.left, this.pending.length);
        out.push(this.pending.subarray(0, take));
        this.pending = this.pending.subarray(take);
        this.left -= take;
        if (this.left > 0) break;
        this.left = -2; // the CRLF after the data
      }
      if (this.left === -2) {
        if (this.pending.length < 2) break;
        this.pending = this.pending.subarray(2);
        this.left = 0;
      }
      const eol = this.pending.indexOf("\r\n");
      if (eol < 0) break;
      const size = parseInt(this.pending.subarray(0, eol).toString("latin1"), 16);
      this.pending = this.pending.subarray(eol + 2);
      if (size === 0) {
        this.lastChunk = true;
        break;
      }
      this.left = size;
    }
    return Buffer.concat(out);
  }

  /** The value of a header (the first one, if repeated), case-insensitive. */
  header(name: string): string | undefined {
    const prefix = `${name.toLowerCase()}:`;
    const line = this.headerLines?.find((l) => l.toLowerCase().startsWith(prefix));
    return line?.slice(prefix.length).trim();
  }

  /** Resolves once at least n body bytes arrived (or the download ended). */
  untilReceived(n: number): Promise<void> {
    if (this.received >= n) return Promise.resolve();
    const { promise, resolve } = Promise.withResolvers<void>();
    this.waiters.push({ n, resolve });
    return promise;
  }

  pause() {
    this.socket.pause();
  }

  resume() {
    this.socket.resume();
  }

  destroy() {
    this.socket.destroy();
  }
}
