// HEAD handling. Elysia answers HEAD itself for GET routes and resets Content-Length to 0, which breaks clients
// (go-getter) that size downloads with HEAD. So the listener dispatches HEAD as a GET marked head-only; handlers
// that can skip work (artifact delivery: no storage read) check isHeadOnly(), and the listener drops any body.
const headOnly = new WeakSet<Request>();

export function asHeadOnlyGet(request: Request): Request {
  const get = new Request(request.url, { method: "GET", headers: request.headers, signal: request.signal });
  headOnly.add(get);
  return get;
}

export function isHeadOnly(request: Request): boolean {
  return request.method === "HEAD" || headOnly.has(request);
}

export async function withoutBody(response: Response): Promise<Response> {
  await response.body?.cancel().catch(() => {});
  return new Response(null, { status: response.status, statusText: response.statusText, headers: response.headers });
}
