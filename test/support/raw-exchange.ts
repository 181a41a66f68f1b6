// One HTTP exchange with exact bytes on a fresh loopback socket, as raw-http.ts does but without half-closing: the
// request is written, the socket left open, and the answer read until the server closes it (`Connection: close`).
import { connect } from "node:net";
import type { RawAnswer } from "./raw-http.ts";

/**
 * One exchange on a fresh socket, as test/support/raw-http.ts does but without half-closing: Bun takes a client's
 * FIN while an asynchronous answer is pending (every download is one) as an aborted request and drops the answer.
 */
export function rawExchange(port: number, text: string): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect({ host: "127.0.0.1", port }, () => socket.write(text));
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("error", reject);
    socket.on("close", () => {
      const all = Buffer.concat(chunks);
      const end = all.indexOf("\r\n\r\n");
      if (end < 0) return reject(new Error(`no complete head: ${JSON.stringify(all.subarray(0, 120).toString())}`));
      const [statusLine, ...lines] = all.subarray(0, end).toString("latin1").split("\r\n");
      const headers = lines.map((l): [string, string] => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]);
      resolve({ status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? "")?.[1]), headers, body: new Uint8Array(all.subarray(end + 4)) });
    });
  });
}

