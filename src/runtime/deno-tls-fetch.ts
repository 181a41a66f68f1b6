// Outbound HTTPS with per-request TLS settings on Deno. Deno's fetch takes a CA and a client certificate through
// a Deno.HttpClient, but has no per-request way to skip verification (kubeconfig `insecure-skip-tls-verify`), and
// its rustls refuses a self-signed CA certificate that a server presents as its own (a common local setup).
// node:https on Deno does both as Node does, so requests with TLS settings go through it: the request body is read
// whole (API requests are small), the response streams (watches). Redirects are not followed (kube API servers
// do not redirect; a 3xx is answered as it is).
import { request as httpsRequest } from "node:https";
import type { IncomingMessage } from "node:http";
import { Readable } from "node:stream";
import type { TlsClientOptions } from "./types.ts";

function responseOf(res: IncomingMessage): Response {
  const headers = new Headers();
  for (const [name, value] of Object.entries(res.headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  const status = res.statusCode ?? 502;
  const noBody = status === 204 || status === 304 || (status >= 100 && status < 200);
  if (noBody) res.resume();
  const body = noBody ? null : (Readable.toWeb(res) as unknown as ReadableStream<Uint8Array>);
  return new Response(body, { status, statusText: res.statusMessage ?? "", headers });
}

export async function fetchWithTls(input: string | URL | Request, init: RequestInit, tls: TlsClientOptions): Promise<Response> {
  const request = input instanceof Request ? new Request(input, init) : new Request(String(input), init);
  const url = new URL(request.url);
  if (url.protocol !== "https:") return fetch(request);
  const body = request.body ? new Uint8Array(await request.arrayBuffer()) : undefined;
  const headers: Record<string, string> = {};
  request.headers.forEach((value, name) => (headers[name] = value));
  if (body && headers["content-length"] === undefined) headers["content-length"] = String(body.byteLength);
  const signal = init.signal ?? undefined;
  signal?.throwIfAborted();
  return await new Promise<Response>((resolve, reject) => {
    const req = httpsRequest(
      {
        protocol: "https:",
        hostname: url.hostname.replace(/^\[|\]$/g, ""),
        port: url.port || 443,
        path: `${url.pathname}${url.search}`,
        method: request.method,
        headers,
        ...(tls.ca ? { ca: tls.ca } : {}),
        ...(tls.cert ? { cert: tls.cert } : {}),
        ...(tls.key ? { key: tls.key } : {}),
        rejectUnauthorized: tls.rejectUnauthorized !== false,
      },
      (res) => resolve(responseOf(res)),
    );
    const abort = () => req.destroy(signal?.reason instanceof Error ? signal.reason : new DOMException("The operation was aborted.", "AbortError"));
    signal?.addEventListener("abort", abort, { once: true });
    req.on("error", (e) => reject(new TypeError(`fetch failed: ${e.message}`, { cause: e })));
    req.on("close", () => signal?.removeEventListener("abort", abort));
    req.end(body);
  });
}
