// Authenticated GCS JSON-API requests (OAuth bearer token), with the shared timeout/retry policy and Google's JSON
// error shape ({"error": {"code", "message", "errors": [{"reason"}]}}) mapped to StorageError kinds.
import type { GcpCredentials } from "./credentials/gcp.ts";
import { assertEndpointAllowed, NO_REDIRECTS, sameOriginGuard, type EndpointGuard, type GuardedClientOptions } from "./endpoint-guard.ts";
import { fetchForStream, kindForStatus, networkError, readBoundedText, resolvePolicy, withRetries, type HttpPolicy, type ResolvedPolicy } from "./http.ts";
import { StorageError, type StorageErrorKind } from "./types.ts";

export interface GcsCall {
  method: "GET" | "HEAD" | "PUT" | "POST" | "PATCH" | "DELETE";
  url: string;
  headers?: Record<string, string>;
  body?: Uint8Array | string;
  idempotent: boolean;
  timeoutMs?: number;
  accept?: (status: number) => boolean;
}

const REASON_KINDS: Record<string, StorageErrorKind> = {
  notFound: "NotFound",
  forbidden: "Denied",
  required: "Denied",
  authError: "Denied",
  insufficientPermissions: "Denied",
  accessNotConfigured: "Denied",
  rateLimitExceeded: "Transient",
  userRateLimitExceeded: "Transient",
  backendError: "Transient",
  internalError: "Transient",
  conditionNotMet: "Invalid",
  invalid: "Invalid",
  requestedRangeNotSatisfiable: "Invalid",
};

export interface GcsTransportOptions extends HttpPolicy, GuardedClientOptions {
  bucket: string;
  /** JSON API base, default https://storage.googleapis.com (emulators and fakes: http://127.0.0.1:PORT). */
  endpoint?: string;
  credentials: GcpCredentials;
}

export class GcsTransport {
  readonly policy: ResolvedPolicy;
  readonly base: URL;
  readonly description: string;
  readonly guard: EndpointGuard;

  constructor(readonly options: GcsTransportOptions) {
    if (!/^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/.test(options.bucket)) throw new StorageError("Invalid", `invalid GCS bucket name ${JSON.stringify(options.bucket)}`);
    let base: URL;
    try {
      base = new URL(options.endpoint ?? "https://storage.googleapis.com");
    } catch {
      throw new StorageError("Invalid", `invalid GCS endpoint ${JSON.stringify(options.endpoint)}`);
    }
    if (base.protocol !== "https:" && base.protocol !== "http:") throw new StorageError("Invalid", `GCS endpoint must be http(s): ${options.endpoint}`);
    this.base = base;
    this.guard = options.endpointGuard ?? sameOriginGuard(base);
    this.policy = resolvePolicy(options);
    this.description = `gs://${options.bucket}${options.endpoint ? ` at ${options.endpoint}` : ""}`;
  }

  private root(): string {
    return `${this.base.origin}${this.base.pathname.replace(/\/+$/, "")}`;
  }

  /** JSON API object URL: the whole name is one path segment (slashes encoded). */
  objectUrl(name: string, query: Record<string, string> = {}): string {
    const q = new URLSearchParams(query).toString();
    return `${this.root()}/storage/v1/b/${encodeURIComponent(this.options.bucket)}/o/${encodeURIComponent(name)}${q ? `?${q}` : ""}`;
  }

  uploadUrl(query: Record<string, string>): string {
    return `${this.root()}/upload/storage/v1/b/${encodeURIComponent(this.options.bucket)}/o?${new URLSearchParams(query)}`;
  }

  /** A resumable session URI handed back by the server must stay on our endpoint: our token goes there. */
  checkSessionUri(uri: string | null): string {
    let u: URL | undefined;
    try {
      u = uri ? new URL(uri, this.base) : undefined;
    } catch {
      u = undefined;
    }
    if (!u || u.origin !== this.base.origin || uri!.length > 4096) {
      throw new StorageError("Transient", `resumable upload (${this.description}): unusable session URI ${JSON.stringify(uri?.slice(0, 200))}`);
    }
    return u.toString();
  }

  send(what: string, call: GcsCall): Promise<Response> {
    return this.exchange(what, call, false).then((r) => r.res);
  }

  sendForStream(what: string, call: GcsCall): Promise<{ res: Response; controller: AbortController }> {
    return this.exchange(what, call, true);
  }

  private exchange(what: string, call: GcsCall, stream: boolean): Promise<{ res: Response; controller: AbortController }> {
    const label = `${what} (${this.description})`;
    return withRetries(this.policy, call.idempotent, async () => {
      assertEndpointAllowed(this.guard, call.url, label);
      const { token } = await this.options.credentials.token();
      const headers = new Headers(call.headers);
      headers.set("authorization", `Bearer ${token}`);
      const init: RequestInit = { method: call.method, headers, body: call.body as Uint8Array<ArrayBuffer> | string | undefined, ...NO_REDIRECTS };
      let res: Response;
      let controller = new AbortController();
      if (stream) {
        ({ res, controller } = await fetchForStream(this.policy, call.url, init, label));
      } else {
        try {
          res = await this.policy.fetch(call.url, { ...init, signal: AbortSignal.timeout(call.timeoutMs ?? this.policy.timeoutMs) });
        } catch (e) {
          throw networkError(label, e);
        }
      }
      const accept = call.accept ?? ((s: number) => s >= 200 && s < 300);
      if (accept(res.status)) return { res, controller };
      throw await this.errorFrom(what, res);
    });
  }

  async errorFrom(what: string, res: Response): Promise<StorageError> {
    const text = await readBoundedText(res);
    let reason: string | undefined;
    let message: string | undefined;
    try {
      const body = JSON.parse(text) as { error?: { message?: unknown; errors?: { reason?: unknown }[] } };
      const r = body.error?.errors?.[0]?.reason;
      reason = typeof r === "string" ? r : undefined;
      message = typeof body.error?.message === "string" ? body.error.message : undefined;
    } catch {
      message = text.slice(0, 200) || undefined;
    }
    let kind = (reason && REASON_KINDS[reason]) || kindForStatus(res.status);
    if (res.status === 401) {
      // A token the server no longer accepts: drop it so the next call fetches a fresh one.
      this.options.credentials.invalidate?.();
      kind = "Denied";
    }
    const detail = `HTTP ${res.status}${reason ? ` ${reason}` : ""}${message ? `: ${message.slice(0, 300)}` : ""}`;
    return new StorageError(kind, `${what} (${this.description}): ${detail}${kind === "Denied" ? ` (credentials: ${this.options.credentials.source})` : ""}`);
  }
}
