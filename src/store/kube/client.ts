// A small Kubernetes REST client over Bun's fetch (TLS options pass straight through, which @kubernetes/client-node
// 2.x loses under Bun): JSON requests with timeouts, Status errors mapped onto StoreError, and watch streams read as
// newline-delimited JSON.
import { runtime, type TlsClientOptions } from "../../runtime/index.ts";
import { StoreError, type StoreErrorReason } from "../errors.ts";
import { readBounded as readBody } from "../../kits/http.ts";
import { consoleStoreLogger, type StoreLogger } from "../types.ts";
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

export interface KubeClientOptions {
  /** Sent on every request, like kubectl's and client-go's (`opendepot/0.1.0 (controller)`). */
  userAgent?: string;
  /** Where `Warning` response headers go: each distinct text once. */
  log?: StoreLogger;
}

/** The text of each `Warning: 299 - "text"` value of a response (RFC 7234 warn-value, as the API server sends). */
export function warningTexts(header: string | null): string[] {
  if (!header) return [];
  const out: string[] = [];
  const re = /(\d{3})\s+\S+\s+"((?:[^"\\]|\\.)*)"/g;
  for (let m = re.exec(header); m; m = re.exec(header)) out.push(m[2]!.replace(/\\(.)/g, "$1"));
  return out;
}

const MAX_REMEMBERED_WARNINGS = 1000;

export class KubeClient {
  private readonly seenWarnings = new Set<string>();

  constructor(
    readonly connection: KubeConnection,
    private readonly options: KubeClientOptions = {},
  ) {}

  /** Log each distinct API warning once (e.g. field-validation warnings, deprecations), not on every request. */
  private noteWarnings(res: Response, method: string, path: string): void {
    for (const text of warningTexts(res.headers.get("warning"))) {
      if (this.seenWarnings.has(text)) continue;
      if (this.seenWarnings.size >= MAX_REMEMBERED_WARNINGS) this.seenWarnings.clear();
      this.seenWarnings.add(text);
      (this.options.log ?? consoleStoreLogger).warn("Kubernetes API warning", { warning: text.slice(0, 1024), method, path: path.slice(0, 256) });
    }
  }

  private async init(method: string, o: RequestOptions): Promise<RequestInit & { tls: TlsClientOptions }> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (this.options.userAgent) headers["user-agent"] = this.options.userAgent;
    const credentials = await this.connection.credentials?.();
    const token = credentials?.token ?? this.connection.token?.();
    if (token) headers.authorization = `Bearer ${token}`;
    if (o.body !== undefined) headers["content-type"] = o.contentType ?? "application/json";
    const { ca, rejectUnauthorized } = this.connection.tls;
    const cert = credentials?.cert ?? this.connection.tls.cert;
    const key = credentials?.key ?? this.connection.tls.key;
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
      res = await runtime.fetch(this.url(path, o.query), await this.init(method, o));
    } catch (e) {
      if (e instanceof StoreError) throw e;
      throw new StoreError("Unavailable", `${method} ${path}: ${(e as Error).message}`);
    }
    this.noteWarnings(res, method, path);
    if (res.status === 401) this.connection.invalidate?.();
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
      res = await runtime.fetch(this.url(path, { ...query, watch: "true" }), await this.init("GET", { signal }));
    } catch (e) {
      if (signal.aborted) return;
      if (e instanceof StoreError) throw e;
      throw new StoreError("Unavailable", `watch ${path}: ${(e as Error).message}`);
    }
    this.noteWarnings(res, "WATCH", path);
    if (res.status === 401) this.connection.invalidate?.();
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
