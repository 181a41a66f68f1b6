// One HTTP exchange with exact bytes on a loopback socket (the request as written, `Connection: close` expected),
// and the answer as it came: status, headers in order (names lowercased), body bytes.
import { connect } from "node:net";

export interface RawAnswer {
  status: number;
  headers: [string, string][];
  body: Uint8Array;
}

/**
 * `halfClose: false` writes the request and leaves the socket open until the server closes it: Bun takes a client's
 * FIN while an asynchronous answer is pending (every download is one) as an aborted request and drops the answer.
 */
export function rawHttp(port: number, text: string, o: { halfClose?: boolean } = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect({ host: "127.0.0.1", port }, () => (o.halfClose === false ? socket.write(text) : socket.end(text)));
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("error", reject);
    socket.on("close", () => {
      const all = Buffer.concat(chunks);
      const end = all.indexOf("\r\n\r\n");
      if (end < 0) return reject(new Error(`no complete head: ${JSON.stringify(all.subarray(0, 120).toString())}`));
      const [statusLine, ...lines] = all.subarray(0, end).toString("latin1").split("\r\n");
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? "");
      if (!m) return reject(new Error(`no status line: ${JSON.stringify(statusLine)}`));
      const headers = lines.map((l): [string, string] => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]);
      resolve({ status: Number(m[1]), headers, body: new Uint8Array(all.subarray(end + 4)) });
    });
  });
}
