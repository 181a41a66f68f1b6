// A TCP relay in front of a real storage peer (Azurite) that can be told to cut the answer to the next GET: it passes
// the status line, headers and the first `afterBodyBytes` body bytes, then closes both connections, the way a storage
// node dying mid-transfer or a dropped connection looks to our client. Everything else is relayed byte for byte.
import { createServer, connect, type Server, type Socket } from "node:net";

export interface CuttingProxy {
  /** `http://127.0.0.1:PORT` plus the target URL's path: the same peer, through the relay. */
  url: string;
  /** The next GET request's answer is cut after this many body bytes. */
  cutNextGet(afterBodyBytes: number): void;
  /** Answers cut so far. */
  readonly cuts: number;
  /** GET and HEAD requests relayed so far, by method. */
  readonly requests: { GET: number; HEAD: number };
  stop(): Promise<void>;
}

export async function startCuttingProxy(target: string): Promise<CuttingProxy> {
  const t = new URL(target);
  let armed: number | undefined;
  let cuts = 0;
  const requests = { GET: 0, HEAD: 0 };
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(Number(t.port), t.hostname);
    sockets.add(client).add(upstream);
    /** For the answer being cut: body bytes still allowed through, once its header block has passed. */
    let cut: { allowed: number; head: Buffer | undefined } | undefined;
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("data", (data: Buffer) => {
      const start = data.subarray(0, 5).toString("latin1");
      if (start.startsWith("GET ")) requests.GET++;
      else if (start === "HEAD ") requests.HEAD++;
      if (armed !== undefined && data.subarray(0, 4).toString("latin1") === "GET ") {
        cut = { allowed: armed, head: Buffer.alloc(0) };
        armed = undefined;
      }
      upstream.write(data);
    });
    upstream.on("data", (data: Buffer) => {
      if (!cut) return void client.write(data);
      let body = data;
      if (cut.head) {
        const head = Buffer.concat([cut.head, data]);
        const end = head.indexOf("\r\n\r\n");
        if (end < 0) {
          cut.head = head;
          return void client.write(data);
        }
        client.write(data.subarray(0, end + 4 - cut.head.length)); // the rest of the header block
        body = head.subarray(end + 4);
        cut.head = undefined;
      }
      const pass = body.subarray(0, cut.allowed);
      cut.allowed -= pass.length;
      client.write(pass);
      if (cut.allowed === 0) {
        cuts++;
        cut = undefined;
        client.end(close);
        upstream.destroy();
      }
    });
    client.on("error", close).on("close", () => (sockets.delete(client), upstream.destroy()));
    upstream.on("error", close).on("close", () => (sockets.delete(upstream), client.destroy()));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}${t.pathname.replace(/\/$/, "")}`,
    cutNextGet(n) {
      armed = n;
    },
    get cuts() {
      return cuts;
    },
    requests,
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
