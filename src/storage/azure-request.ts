// Authenticated Azure Blob requests: Shared Key or Entra bearer token, signed anew per attempt (x-ms-date), with
// the shared timeout/retry policy and the service's error codes mapped to StorageError kinds.
import { AZURE_API_VERSION, sharedKeyAuthorization } from "./azure-sign.ts";
import type { AzureCredential } from "./credentials/azure.ts";
import { assertEndpointAllowed, NO_REDIRECTS, sameOriginGuard, type EndpointGuard, type GuardedClientOptions } from "./endpoint-guard.ts";
import { encodeKeyPath, fetchForStream, kindForStatus, networkError, readBoundedText, resolvePolicy, withRetries, type HttpPolicy, type ResolvedPolicy } from "./http.ts";
import { StorageError, type StorageErrorKind } from "./types.ts";
import { xmlText } from "./xml.ts";

export interface AzureCall {
  method: "GET" | "HEAD" | "PUT" | "POST" | "DELETE";
  /** Blob name; absent = the container itself; null = the account (service-level calls). */
  blob?: string | null;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: Uint8Array | string;
  idempotent: boolean;
  timeoutMs?: number;
  accept?: (status: number) => boolean;
}

const CODE_KINDS: Record<string, StorageErrorKind> = {
  BlobNotFound: "NotFound",
  ContainerNotFound: "NotFound",
  ResourceNotFound: "NotFound",
  AuthenticationFailed: "Denied",
  AuthorizationFailure: "Denied",
  AuthorizationPermissionMismatch: "Denied",
  InsufficientAccountPermissions: "Denied",
  InvalidAuthenticationInfo: "Denied",
  ServerBusy: "Transient",
  InternalError: "Transient",
  OperationTimedOut: "Transient",
  InvalidRange: "Invalid",
  Md5Mismatch: "Invalid",
  InvalidBlockList: "Invalid",
};

export interface AzureTransportOptions extends HttpPolicy, GuardedClientOptions {
  /** e.g. https://acct.blob.core.windows.net or http://127.0.0.1:10000/devstoreaccount1 */
  accountUrl: string;
  accountName: string;
  container: string;
  credential: AzureCredential;
}

export class AzureTransport {
  readonly policy: ResolvedPolicy;
  readonly base: string;
  readonly description: string;
  readonly guard: EndpointGuard;

  constructor(readonly options: AzureTransportOptions) {
    let u: URL;
    try {
      u = new URL(options.accountUrl);
    } catch {
      throw new StorageError("Invalid", `invalid Azure accountUrl ${JSON.stringify(options.accountUrl)}`);
    }
    if (u.protocol !== "https:" && u.protocol !== "http:") throw new StorageError("Invalid", `Azure accountUrl must be http(s): ${options.accountUrl}`);
    if (u.search || u.hash) throw new StorageError("Invalid", "Azure accountUrl must not carry a query (put SAS tokens nowhere in config)");
    if (!/^[a-z0-9]{3,24}$/.test(options.accountName)) throw new StorageError("Invalid", `invalid Azure storage account name ${JSON.stringify(options.accountName)}`);
    if (!/^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}$/.test(options.container)) throw new StorageError("Invalid", `invalid Azure container name ${JSON.stringify(options.container)}`);
    this.base = `${u.origin}${u.pathname.replace(/\/+$/, "")}`;
    this.guard = options.endpointGuard ?? sameOriginGuard(u);
    this.policy = resolvePolicy(options);
    this.description = `azure://${options.accountName}/${options.container}`;
  }

  url(call: Pick<AzureCall, "blob" | "query">): URL {
    const path = call.blob === null ? "/" : `/${this.options.container}${call.blob ? `/${encodeKeyPath(call.blob)}` : ""}`;
    const u = new URL(this.base + path);
    for (const [k, v] of Object.entries(call.query ?? {})) u.searchParams.set(k, v);
    return u;
  }

  private async authorize(call: AzureCall, what: string): Promise<{ url: URL; headers: Headers }> {
    const url = this.url(call);
    assertEndpointAllowed(this.guard, url, what);
    const headers = new Headers(call.headers);
    headers.set("x-ms-date", new Date().toUTCString());
    headers.set("x-ms-version", AZURE_API_VERSION);
    const length = call.body === undefined ? 0 : typeof call.body === "string" ? Buffer.byteLength(call.body) : call.body.byteLength;
    // Signed as sent: fetch adds the same Content-Length for a buffered body.
    if (call.method === "PUT" || call.method === "POST") headers.set("content-length", String(length));
    const cred = this.options.credential;
    if (cred.kind === "sharedKey") {
      headers.set("authorization", sharedKeyAuthorization(call.method, url, headers, cred.key));
    } else {
      headers.set("authorization", `Bearer ${(await cred.provider.get()).token}`);
    }
    return { url, headers };
  }

  async send(what: string, call: AzureCall): Promise<Response> {
    return (await this.exchange(what, call, false)).res;
  }

  sendForStream(what: string, call: AzureCall): Promise<{ res: Response; controller: AbortController }> {
    return this.exchange(what, call, true);
  }

  private exchange(what: string, call: AzureCall, stream: boolean): Promise<{ res: Response; controller: AbortController }> {
    const label = `${what} (${this.description})`;
    return withRetries(this.policy, call.idempotent, async () => {
      const { url, headers } = await this.authorize(call, label);
      const init: RequestInit = { method: call.method, headers, body: call.body as Uint8Array<ArrayBuffer> | string | undefined, ...NO_REDIRECTS };
      let res: Response;
      let controller = new AbortController();
      if (stream) {
        ({ res, controller } = await fetchForStream(this.policy, url.toString(), init, label));
      } else {
        try {
          res = await this.policy.fetch(url.toString(), { ...init, signal: AbortSignal.timeout(call.timeoutMs ?? this.policy.timeoutMs) });
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
    const header = res.headers.get("x-ms-error-code");
    const code = (header && /^\w{1,64}$/.test(header) ? header : undefined) ?? xmlText(text, "Code");
    const message = xmlText(text, "Message")?.split("\n")[0];
    let kind = (code && CODE_KINDS[code]) || kindForStatus(res.status);
    const cred = this.options.credential;
    if (res.status === 401 && cred.kind === "token") {
      cred.provider.invalidate?.();
      kind = "Denied";
    }
    const source = cred.kind === "sharedKey" ? cred.source : cred.provider.source;
    const detail = code ? `${code}${message ? `: ${message.slice(0, 300)}` : ""}` : `HTTP ${res.status}`;
    return new StorageError(kind, `${what} (${this.description}): ${detail}${kind === "Denied" ? ` (credentials: ${source})` : ""}`);
  }
}
