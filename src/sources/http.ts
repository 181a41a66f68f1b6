// Shared fetch for upstream services (GitHub, OpenTofu registry): timeouts, bounded retries of idempotent requests,
// manual redirects that never carry credentials to another origin, bounded body reads, and one typed error whose
// `kind` tells the controller what to do (requeue at `retryAt`, back off, or report a user-fixable problem).
// Body limits, idle timeouts, jitter and URL redaction are the outbound HTTP kit's (src/kits/http.ts).
import { backoffDelay, idleGuard, readBounded, redactUrl } from "../kits/http.ts";

import { sleep } from "../kits/sleep.ts";
import { recordUpstreamBytes, recordUpstreamRateLimited, recordUpstreamRequest } from "../metrics/controllers.ts";

export type UpstreamErrorKind = "NotFound" | "RateLimited" | "Unauthorized" | "Transient" | "Invalid";

export class UpstreamError extends Error {
  override readonly name = "UpstreamError";
  constructor(
    readonly service: string,
    readonly kind: UpstreamErrorKind,
    /** Credential-free URL (see redactUrl). */
    readonly url: string,
    message: string,
    readonly status?: number,
    readonly retryAt?: Date,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

export interface UpstreamHttpOptions {
  /** Service name used in error messages ("GitHub", "OpenTofu registry"). */
  service: string;
  fetch?: FetchLike;
  /** Time allowed until response headers (and, for bounded reads, the whole body). */
  timeoutMs?: number;
  /** Streams abort when no byte arrives for this long; a total timeout would kill a slow 700 MB download. */
  idleTimeoutMs?: number;
  /** Extra attempts for GET/HEAD after a network error, timeout or 5xx. */
  retries?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  maxRedirects?: number;
  /** Injected for tests. */
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
  /** Statuses handed back to the caller instead of turned into errors (e.g. 404 → "absent"). */
  allowStatus?: number[];
}

export const DEFAULT_JSON_LIMIT = 10 * 1024 * 1024;
const ERROR_BODY_LIMIT = 64 * 1024;

/** Rate-limit reset time from GitHub-style headers, or undefined when the reply is not a rate limit. */
export function rateLimitResetFrom(res: Response, now = Date.now()): Date | undefined {
  const retryAfter = res.headers.get("retry-after");
  if (retryAfter) {
    const seconds = Number(retryAfter);
    if (Number.isFinite(seconds)) return new Date(now + Math.max(0, seconds) * 1000);
    const at = Date.parse(retryAfter);
    if (!Number.isNaN(at)) return new Date(at);
  }
  if (res.headers.get("x-ratelimit-remaining") === "0") {
    const reset = Number(res.headers.get("x-ratelimit-reset"));
    // GitHub's reset is epoch seconds; a missing value still means "limited", wait a minute as GitHub advises.
    return new Date(Number.isFinite(reset) && reset > 0 ? reset * 1000 : now + 60_000);
  }
  return undefined;
}

export class UpstreamHttp {
  readonly service: string;
  private readonly fetchImpl: FetchLike;
  private readonly timeoutMs: number;
  private readonly idleTimeoutMs: number;
  private readonly retries: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly maxRedirects: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;

  constructor(opts: UpstreamHttpOptions) {
    this.service = opts.service;
    this.fetchImpl = opts.fetch ?? ((input, init) => fetch(input, init));
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.idleTimeoutMs = opts.idleTimeoutMs ?? 60_000;
    this.retries = opts.retries ?? 3;
    this.baseDelayMs = opts.baseDelayMs ?? 250;
    this.maxDelayMs = opts.maxDelayMs ?? 5_000;
    this.maxRedirects = opts.maxRedirects ?? 5;
    this.sleep = opts.sleep ?? sleep;
    this.now = opts.now ?? Date.now;
  }

  error(kind: UpstreamErrorKind, url: string, message: string, status?: number, retryAt?: Date, cause?: unknown): UpstreamError {
    const safe = redactUrl(url);
    return new UpstreamError(this.service, kind, safe, `${this.service}: ${message}`, status, retryAt, { cause });
  }

  /** JSON body read in full under DEFAULT_JSON_LIMIT (or `limit`), with the whole exchange under the timeout. */
  async json<T>(url: string, opts: RequestOptions = {}, limit = DEFAULT_JSON_LIMIT): Promise<{ value: T; response: Response }> {
    const { response, bytes } = await this.bytes(url, opts, limit);
    try {
      return { value: JSON.parse(new TextDecoder().decode(bytes)) as T, response };
    } catch (cause) {
      throw this.error("Invalid", url, `${opts.method ?? "GET"} ${redactUrl(url)} answered with invalid JSON`, response.status, undefined, cause);
    }
  }

  /** Whole body under a size limit; timeouts cover reading the body too. */
  async bytes(url: string, opts: RequestOptions = {}, limit = DEFAULT_JSON_LIMIT): Promise<{ response: Response; bytes: Uint8Array }> {
    return this.withRetries(url, opts, async (signal) => {
      const response = await this.send(url, opts, AbortSignal.any([signal, AbortSignal.timeout(this.timeoutMs)]));
      const bytes = await readBounded(response, limit, () =>
        this.error("Invalid", url, `${redactUrl(url)}: response body exceeds ${limit} bytes`, response.status),
      );
      return { response, bytes };
    });
  }

  /**
   * A streamed response: the timeout covers the headers, then an idle timer guards the body. Retries happen only
   * before the first body byte is handed out, so a consumer never sees a stream restart silently.
   */
  async stream(url: string, opts: RequestOptions = {}): Promise<Response> {
    return this.withRetries(url, opts, async (signal) => {
      const abort = new AbortController();
      const headerTimer = setTimeout(() => abort.abort(new DOMException("The operation timed out.", "TimeoutError")), this.timeoutMs);
      try {
        const response = await this.send(url, opts, AbortSignal.any([signal, abort.signal]));
        if (!response.body) return response;
        const onIdle = () => this.error("Transient", url, `${redactUrl(url)}: download stalled for ${this.idleTimeoutMs} ms`);
        return new Response(idleGuard(response.body, { idleMs: this.idleTimeoutMs, abort, onIdle, onChunk: (n) => recordUpstreamBytes(this.service, n) }), {
          status: response.status,
          statusText: response.statusText,
          headers: response.headers,
        });
      } finally {
        clearTimeout(headerTimer);
      }
    });
  }

  private async withRetries<T>(url: string, opts: RequestOptions, attempt: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const method = (opts.method ?? "GET").toUpperCase();
    const idempotent = method === "GET" || method === "HEAD";
    const signal = opts.signal ?? new AbortController().signal;
    for (let n = 0; ; n++) {
      try {
        return await attempt(signal);
      } catch (err) {
        const e = this.classify(err, url, method, signal);
        if (!idempotent || e.kind !== "Transient" || n >= this.retries || signal.aborted) throw e;
        await this.sleep(backoffDelay(n, this.baseDelayMs, this.maxDelayMs));
      }
    }
  }

  private classify(err: unknown, url: string, method: string, signal: AbortSignal): UpstreamError {
    if (err instanceof UpstreamError) return err;
    if (signal.aborted) return this.error("Invalid", url, `${method} ${redactUrl(url)} was cancelled`, undefined, undefined, err);
    const name = (err as { name?: string } | null)?.name;
    const detail = name === "TimeoutError" ? `timed out after ${this.timeoutMs} ms` : String((err as Error)?.message ?? err);
    return this.error("Transient", url, `${method} ${redactUrl(url)} failed: ${detail}`, undefined, undefined, err);
  }

  /** One exchange including manual redirects; non-success statuses become UpstreamErrors. */
  private async send(url: string, opts: RequestOptions, signal: AbortSignal): Promise<Response> {
    let current = url;
    let method = (opts.method ?? "GET").toUpperCase();
    let headers = { ...(opts.headers ?? {}) };
    let body = opts.body;
    const origin = new URL(url).origin;
    for (let hop = 0; ; hop++) {
      const res = await this.fetchImpl(current, { method, headers, body, signal, redirect: "manual" }).catch((e: unknown) => {
        recordUpstreamRequest(current, undefined);
        throw e;
      });
      recordUpstreamRequest(current, res.status);
      if (res.status >= 300 && res.status < 400 && res.headers.get("location") && !opts.allowStatus?.includes(res.status)) {
        await res.body?.cancel().catch(() => {});
        if (hop >= this.maxRedirects) throw this.error("Invalid", current, `too many redirects from ${redactUrl(url)}`, res.status);
        const next = new URL(res.headers.get("location")!, current);
        if (next.protocol !== "https:" && next.protocol !== "http:") throw this.error("Invalid", current, `refusing redirect to ${next.protocol} URL`, res.status);
        // Credentials belong to the API origin only (codeload, object stores and CDNs must never see the token).
        if (next.origin !== origin) headers = withoutCredentials(headers);
        if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === "POST")) {
          method = "GET";
          body = undefined;
        }
        current = next.toString();
        continue;
      }
      if ((res.status >= 200 && res.status < 300) || opts.allowStatus?.includes(res.status)) return res;
      throw await this.statusError(res, current, method);
    }
  }

  private async statusError(res: Response, url: string, method: string): Promise<UpstreamError> {
    let detail = "";
    try {
      const raw = new TextDecoder().decode(await readBounded(res, ERROR_BODY_LIMIT, () => this.error("Invalid", url, "error body too large")));
      try {
        const parsed = JSON.parse(raw) as { message?: unknown; errors?: unknown };
        detail = typeof parsed.message === "string" ? parsed.message : Array.isArray(parsed.errors) ? parsed.errors.join("; ") : "";
      } catch {
        detail = raw.trim().slice(0, 200);
      }
    } catch {
      // An unreadable error body must not hide the status itself.
    }
    const what = `${method} ${redactUrl(url)} answered ${res.status}${detail ? `: ${detail}` : ""}`;
    const s = res.status;
    const reset = rateLimitResetFrom(res, this.now());
    // GitHub's secondary limits are 403s that only say so in the message; its docs say to wait at least a minute.
    const secondary = s === 403 && /rate limit/i.test(detail);
    if (s === 429 || (s === 403 && (reset || secondary))) {
      recordUpstreamRateLimited(this.service);
      return this.error("RateLimited", url, `rate limited (${what})`, s, reset ?? new Date(this.now() + 60_000));
    }
    if (s === 404 || s === 410) return this.error("NotFound", url, what, s);
    if (s === 401 || s === 403) return this.error("Unauthorized", url, what, s);
    if (s >= 500) return this.error("Transient", url, what, s, reset);
    return this.error("Invalid", url, what, s);
  }
}

function withoutCredentials(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (!/^(authorization|cookie|proxy-authorization)$/i.test(k)) out[k] = v;
  }
  return out;
}
