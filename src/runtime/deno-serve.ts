// Serving a fetch handler on Deno: `Deno.serve`, plus what Bun.serve does and Deno.serve does not — refusing a
// request body over the listener's limit (413), and ending the responses still streaming (watches) when stopped
// with `closeActiveConnections` (Deno's shutdown() otherwise waits for them forever).
import { readFileSync } from "node:fs";
import { deno } from "./deno-globals.ts";
import type { Served, ServeContext, ServeOptions } from "./types.ts";

const tooLarge = () => new Response("request body too large\n", { status: 413, headers: { "content-type": "text/plain; charset=utf-8", connection: "close" } });

/** The request with its body stream cut off (erroring) past `limit` bytes: for bodies sent without a length. */
function limitBody(request: Request, limit: number): Request {
  let seen = 0;
  const counted = request.body!.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        seen += chunk.byteLength;
        if (seen > limit) controller.error(new RangeError(`request body over ${limit} bytes`));
        else controller.enqueue(chunk);
      },
    }),
  );
  return new Request(request, { body: counted, duplex: "half" } as RequestInit);
}

export function serveOnDeno(options: ServeOptions): Served {
  const peers = new WeakMap<Request, string>();
  const context: ServeContext = {
    remoteAddress: (request) => peers.get(request),
    // Deno.serve has no per-connection idle timeout to lift.
    keepOpen: () => {},
  };
  const streaming = new Set<TransformStreamDefaultController<Uint8Array>>();
  const tls = options.tls && ("certFile" in options.tls ? { cert: readFileSync(options.tls.certFile, "utf8"), key: readFileSync(options.tls.keyFile, "utf8") } : options.tls);
  const limit = options.maxRequestBodySize;
  const handler = options.fetch;

  const server = deno().serve({
    hostname: options.hostname,
    port: options.port,
    ...(tls ? { cert: tls.cert, key: tls.key } : {}),
    onListen: () => {}, // Deno prints "Listening on …" to stdout otherwise, inside the JSON log stream
    ...(options.error ? { onError: (e: unknown) => options.error!(e instanceof Error ? e : new Error(String(e))) } : {}),
    handler: async (incoming, info) => {
      let request = incoming;
      if (limit !== undefined && request.body) {
        const length = Number(request.headers.get("content-length") ?? NaN);
        if (length > limit) return tooLarge();
        if (!Number.isFinite(length)) request = limitBody(request, limit);
      }
      if (info.remoteAddr.hostname !== undefined) peers.set(request, info.remoteAddr.hostname);
      const response = await handler(request, context);
      if (!response.body) return response;
      // Tracked so that stop(true) can end it; untracked once it has been sent.
      let controller!: TransformStreamDefaultController<Uint8Array>;
      const tracked = new TransformStream<Uint8Array, Uint8Array>({
        start: (c) => void streaming.add((controller = c)),
        flush: () => void streaming.delete(controller),
      });
      const untrack = () => void streaming.delete(controller);
      info.completed.then(untrack, untrack);
      const body = response.body.pipeThrough(tracked);
      return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
    },
  });

  const hostname = server.addr.hostname;
  const port = server.addr.port;
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;
  const url = new URL(`${tls ? "https" : "http"}://${host}:${port}/`);
  return {
    hostname,
    port,
    url,
    async stop(closeActiveConnections) {
      const done = server.shutdown();
      if (closeActiveConnections) {
        for (const c of streaming) {
          try {
            c.terminate();
          } catch {
            // already ended
          }
        }
        streaming.clear();
      }
      await done;
    },
  };
}
