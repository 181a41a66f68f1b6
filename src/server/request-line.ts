// The request as the router may see it. Bun builds `request.url` from the Host header and the request target, so a
// missing, empty or malformed Host (HTTP/1.0, CONNECT, `Host: a b`) gives a URL that does not parse, and a Host of
// three characters or fewer shifts Elysia's path parsing (it looks for the path after the 11th character, so
// `GET /aaa/opendepot/mirror/...` with `Host: ab` was routed as the mirror). Every request is therefore checked and
// rebuilt on a fixed origin before routing: the path and query as sent, nothing else from the Host (no link is ever
// built from it: links are relative or use --public-url). Invalid percent-escapes (`%ff`, `%c0%ae`, a lone `%`)
// are refused here too, instead of reaching validators as null route parameters.

/** The origin every routed request carries (never shown to clients); its scheme is the listener's (TLS or not). */
export const ROUTING_ORIGIN = "http://opendepot.invalid";
const ROUTING_ORIGIN_TLS = "https://opendepot.invalid";

export const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/;

export type Normalised = { request: Request; path: string } | { problem: string; path: string };

export function normaliseRequest(request: Request): Normalised {
  const host = request.headers.get("host");
  let url: URL | undefined;
  try {
    url = new URL(request.url);
  } catch {
    url = undefined;
  }
  const shownPath = url?.pathname ?? request.url.slice(0, 512);
  // Without a usable Host, Bun's request.url is the bare request target and does not parse. (A Request built in
  // process has no Host header but an absolute URL: that is fine.)
  if (!url && (host === null || host === "")) return { problem: "the request has no Host header", path: shownPath };
  if (host !== null && (host.length > 261 || !HOST.test(host))) return { problem: "the Host header is malformed", path: shownPath };
  if (!url || !url.pathname.startsWith("/") || !request.url.includes("://")) return { problem: "the request target is not a path", path: shownPath };
  try {
    decodeURIComponent(url.pathname);
    decodeURIComponent(url.search);
  } catch {
    return { problem: "the request URL has an invalid percent-encoding", path: shownPath };
  }
  // A Request built in process carries its host only in its URL: keep it as the Host header, as a client sends it.
  const headers = host === null ? new Headers(request.headers) : request.headers;
  if (host === null) headers.set("host", url.host);
  const origin = url.protocol === "https:" ? ROUTING_ORIGIN_TLS : ROUTING_ORIGIN;
  const routed = new Request(`${origin}${url.pathname}${url.search}`, { method: request.method, headers, signal: request.signal });
  return { request: routed, path: url.pathname };
}
