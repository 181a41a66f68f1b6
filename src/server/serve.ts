// The HTTP listener around the app: method and size limits, request ids, and one JSON log line per request.
import type { Logger } from "../log.ts";
import { runtime } from "../runtime/index.ts";
import { asHeadOnlyGet, withoutBody } from "./head.ts";
import { errorResponse } from "./http.ts";
import { logRequest, nextRequestId } from "./access-log.ts";
import type { RequestObserver } from "./request-metrics.ts";
import { normaliseRequest } from "./request-line.ts";

export interface ListenOptions {
  hostname: string;
  port: number;
  tls?: { cert: string; key: string };
  /** Called once per answered request (Prometheus metrics); absent when metrics are off. */
  observe?: RequestObserver;
}

const MAX_URL_LENGTH = 4096;
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const SECURITY_HEADERS: Record<string, string> = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

export type Handler = (request: Request) => Response | Promise<Response>;

/** Wraps a handler with the listener-level policy; exported separately so tests can drive it without a socket. */
export function withRequestPolicy(handle: Handler, log: Logger, observe?: RequestObserver): Handler {
  return async (request) => {
    const started = performance.now();
    const incoming = request.headers.get("x-request-id");
    const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : nextRequestId();
    let path = request.url.slice(0, 512);
    let response: Response;
    try {
      if (request.url.length > MAX_URL_LENGTH) response = errorResponse(414, "request URL too long");
      else if (request.method === "OPTIONS") response = new Response(null, { status: 204, headers: { allow: "GET, HEAD, OPTIONS" } });
      else if (request.method !== "GET" && request.method !== "HEAD") {
        response = errorResponse(405, `method ${request.method.slice(0, 16)} not allowed`, { allow: "GET, HEAD, OPTIONS" });
      } else {
        // Malformed Host or URL: a 400 with the reason (logged at info below), never an exception.
        const n = normaliseRequest(request);
        path = n.path;
        if ("problem" in n) response = errorResponse(400, n.problem);
        else if (request.method === "HEAD") response = await withoutBody(await handle(asHeadOnlyGet(n.request)));
        else response = await handle(n.request);
      }
    } catch (error) {
      log.error("request failed", { requestId, error });
      response = errorResponse(500, "internal error");
    }
    const headers = response.headers;
    for (const k in SECURITY_HEADERS) if (!headers.has(k)) headers.set(k, SECURITY_HEADERS[k]!);
    headers.set("x-request-id", requestId);
    logRequest(log, requestId, request.method, path.slice(0, 512), response.status, Math.round((performance.now() - started) * 100) / 100);
    observe?.(request, response, (performance.now() - started) / 1000);
    return response;
  };
}

export function listen(handle: Handler, options: ListenOptions, log: Logger) {
  const server = runtime.serve({
    hostname: options.hostname,
    port: options.port,
    fetch: withRequestPolicy(handle, log, options.observe),
    maxRequestBodySize: 64 * 1024,
    idleTimeoutSeconds: 60,
    ...(options.tls ? { tls: { certFile: options.tls.cert, keyFile: options.tls.key } } : {}),
    error: (error) => {
      log.error("server error", { error });
      return errorResponse(500, "internal error");
    },
  });
  log.info("listening", { url: server.url.toString() });
  return server;
}
