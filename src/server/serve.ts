// The HTTP listener around the app: method and size limits, request ids, and one JSON log line per request.
import type { Logger } from "../log.ts";
import { runtime } from "../runtime/index.ts";
import { asHeadOnlyGet, withoutBody } from "./head.ts";
import type { FastPath } from "./fast-path.ts";
import { fastRequestPath } from "./fast-path.ts";
import { errorResponse, SECURITY_HEADERS } from "./http.ts";
import { logRequest, nextRequestId } from "./access-log.ts";
import type { RequestObserver } from "./request-metrics.ts";
import { normaliseRequest } from "./request-line.ts";
import type { StaticRoutes } from "./static-routes.ts";

export interface ListenOptions {
  hostname: string;
  port: number;
  tls?: { cert: string; key: string };
  /** Called once per answered request (Prometheus metrics); absent when metrics are off. */
  observe?: RequestObserver;
  /** The protocol GETs answered ahead of the app (fast-path.ts); everything goes through the app when absent. */
  fast?: FastPath;
  /** The native route table in front of everything (static-routes.ts, --static-routes); off when absent. */
  staticRoutes?: StaticRoutes;
}

const MAX_URL_LENGTH = 4096;
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export type Handler = (request: Request) => Response | Promise<Response>;

/** Wraps a handler with the listener-level policy; exported separately so tests can drive it without a socket. */
export function withRequestPolicy(handle: Handler, log: Logger, observe?: RequestObserver, fast?: FastPath): Handler {
  /** Headers, access log and metrics of an answered request. */
  const finish = (request: Request, response: Response, path: string, requestId: string, started: number, fastPath = false): Response => {
    const headers = response.headers;
    // Responses the fast path built carry every header already (its refusals do not); the app's answers get them here.
    if (!fastPath || !headers.has("x-request-id")) {
      for (const k in SECURITY_HEADERS) if (!headers.has(k)) headers.set(k, SECURITY_HEADERS[k]!);
      headers.set("x-request-id", requestId);
    }
    const ms = performance.now() - started;
    logRequest(log, requestId, request.method, path.slice(0, 512), response.status, Math.round(ms * 100) / 100);
    // The fast path's `path` is the request's clean path already; the full way's may be a whole URL.
    observe?.(request, response, ms / 1000, fastPath ? path : undefined);
    return response;
  };
  const failed = (error: unknown, requestId: string) => {
    log.error("request failed", { requestId, error });
    return errorResponse(500, "internal error");
  };

  const full = async (request: Request, requestId: string, started: number): Promise<Response> => {
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
      response = failed(error, requestId);
    }
    return finish(request, response, path, requestId, started);
  };

  /** An answer of the fast path that is a promise, or has a body to drop for HEAD (as `full` drops it). */
  const fastFinish = async (request: Request, answer: Promise<Response>, path: string, requestId: string, started: number) => {
    let response: Response;
    try {
      response = await answer;
      if (request.method === "HEAD" && response.body !== null) response = await withoutBody(response);
    } catch (error) {
      response = failed(error, requestId);
    }
    return finish(request, response, path, requestId, started, true);
  };

  return (request) => {
    const started = performance.now();
    const incoming = request.headers.get("x-request-id");
    const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : nextRequestId();
    const method = request.method;
    if (fast !== undefined && (method === "GET" || method === "HEAD") && request.url.length <= MAX_URL_LENGTH) {
      const path = fastRequestPath(request);
      let answer: Response | Promise<Response> | undefined;
      try {
        answer = path === undefined ? undefined : fast(request, path, requestId);
      } catch (error) {
        answer = failed(error, requestId);
      }
      if (answer !== undefined) {
        if (answer instanceof Promise || (method === "HEAD" && answer.body !== null)) return fastFinish(request, Promise.resolve(answer), path!, requestId, started);
        return finish(request, answer, path!, requestId, started, true);
      }
    }
    return full(request, requestId, started);
  };
}

export function listen(handle: Handler, options: ListenOptions, log: Logger) {
  const table = options.staticRoutes;
  // With the table on, what the fast path answers with a document is promoted into it (static-routes.ts).
  const fast = table && options.fast ? table.watch(options.fast) : options.fast;
  const server = runtime.serve({
    hostname: options.hostname,
    port: options.port,
    fetch: withRequestPolicy(handle, log, options.observe, fast),
    maxRequestBodySize: 64 * 1024,
    idleTimeoutSeconds: 60,
    ...(options.tls ? { tls: { certFile: options.tls.cert, keyFile: options.tls.key } } : {}),
    error: (error) => {
      log.error("server error", { error });
      return errorResponse(500, "internal error");
    },
  });
  if (table && server.setStaticRoutes) table.attach({ setStaticRoutes: (routes) => server.setStaticRoutes!(routes) });
  else if (table) log.warn(`--static-routes ignored: ${runtime.name} has no native route table; the fast path answers the protocol GETs`);
  log.info("listening", { url: server.url.toString(), ...(table && server.setStaticRoutes ? { staticRoutes: true } : {}) });
  return server;
}
