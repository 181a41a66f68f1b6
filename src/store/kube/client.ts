// A small Kubernetes REST client over Bun's fetch (TLS options pass straight through, which @kubernetes/client-node
// 2.x loses under Bun): JSON requests with timeouts, Status errors mapped onto StoreError, and watch streams read as
// newline-delimited JSON.
import { StoreError, type StoreErrorReason } from "../errors.ts";
import { readBounded as readBody } from "../../kits/http.ts";
import type { KubeConnection } from "./config.ts";

export interface KubeStatus {
  kind?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: { causes?: { field?: string; message?: string }[] };
}

const REASONS: Record<number, StoreErrorReason> = { 400: "Invalid", 401: "Forbidden", 403: "Forbidden", 404: "NotFound", 409: "Conflict", 410: "Gone", 422: "Invalid" };
const MAX_BODY = 64 * 1024 * 1024;

export function storeErrorFrom(status: number, body: KubeStatus | undefined, what: string): StoreError {
  let reason: StoreErrorReason = REASONS[status] ?? "Unavailable";
  if (status === 409 && body?.reason === "AlreadyExists") reason = "AlreadyExists";
  if (status === 500 && body?.reason === "Expired") reason = "Gone";
  const causes = (body?.details?.causes ?? []).map((c) => ({ field: c.field ?? "", message: c.message ?? "" }));
  return new StoreError(reason, `${what}: ${body?.message ?? `HTTP ${status}`}`, causes);
}

export interface RequestOptions {
  query?: Record<string, string | undefined>;
  body?: unknown;
  contentType?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export class KubeClient {
  constructor(readonly connection: KubeConnection) {}

  private init(method: string, o: RequestOptions): RequestInit & { tls: object } {
    const headers: Record<string, string> = { accept: "application/json" };
    const token = this.connection.token?.();
    if (token) headers.authorization = `Bearer ${token}`;
    if (o.body !== undefined) headers["content-type"] = o.contentType ?? "application/json";
    const { ca, cert, key, rejectUnauthorized } = this.connection.tls;
    return {
      method,
      headers,
      body: o.body === undefined ? undefined : JSON.stringify(o.body),
      tls: { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}), rejectUnauthorized },
      signal: o.signal ?? AbortSignal.timeout(o.timeoutMs ?? 30_000),
    };
  }

  url(path: string, query: Record<string, string | undefined> = {}): string {
    const u = new URL(this.connection.server + path);
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== "") u.searchParams.set(k, v);
    return u.toString();
  }

  async request<T>(method: string, path: string, o: RequestOptions = {}): Promise<T> {
    let res: Response;
    try {
      res = await fetch(this.url(path, o.query), this.init(method, o));
    } catch (e) {
      throw new StoreError("Unavailable", `${method} ${path}: ${(e as Error).message}`);
    }
    const text = await readBounded(res);
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    if (!res.ok) throw storeErrorFrom(res.status, body as KubeStatus | undefined, `${method} ${path}`);
    return body as T;
  }

  /** A watch stream: yields each event object; ends when the server closes it. */
  async *watch(path: string, query: Record<string, string | undefined>, signal: AbortSignal): AsyncGenerator<{ type: string; object: Record<string, unknown> }> {
    let res: Response;
    try {
      res = await fetch(this.url(path, { ...query, watch: "true" }), this.init("GET", { signal }));
    } catch (e) {
      if (signal.aborted) return;
      throw new StoreError("Unavailable", `watch ${path}: ${(e as Error).message}`);
    }
    if (!res.ok || !res.body) {
      const text = await readBounded(res).catch(() => "");
      let body: KubeStatus | undefined;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = undefined;
      }
      throw storeErrorFrom(res.status, body, `watch ${path}`);
    }
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for await (const chunk of res.body) {
        buffer += decoder.decode(chunk, { stream: true });
        if (buffer.length > MAX_BODY) throw new StoreError("Unavailable", `watch ${path}: event larger than ${MAX_BODY} bytes`);
        let nl: number;
        while ((nl = buffer.indexOf("\n")) >= 0) {
          const line = buffer.slice(0, nl).trim();
          buffer = buffer.slice(nl + 1);
          if (line) yield JSON.parse(line);
        }
      }
    } catch (e) {
      if (signal.aborted) return;
      if (e instanceof StoreError) throw e;
      throw new StoreError("Unavailable", `watch ${path}: ${(e as Error).message}`);
    }
  }
}

/** The whole body, cut off (and the request torn down) past MAX_BODY however the server frames it. */
async function readBounded(res: Response): Promise<string> {
  const bytes = await readBody(res, MAX_BODY, () => new StoreError("Unavailable", `response larger than ${MAX_BODY} bytes`));
  return new TextDecoder().decode(bytes);
}
