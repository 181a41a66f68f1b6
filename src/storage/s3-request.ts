// Signed S3 requests (SigV4 via aws4fetch's signer), addressing (virtual-hosted or path-style), error mapping and
// pre-signed URLs. Each retry is signed anew so that X-Amz-Date stays fresh.
import { createHash } from "node:crypto";
import { AwsV4Signer } from "aws4fetch";
import { awsCredentialChain, type AwsCredentialProvider, type AwsCredentials } from "./credentials/aws.ts";
import type { Env } from "./credentials/http.ts";
import { assertEndpointAllowed, NO_REDIRECTS, sameOriginGuard, type EndpointGuard, type GuardedClientOptions } from "./endpoint-guard.ts";
import { encodeKeyPath, fetchForStream, networkError, readBoundedText, resolvePolicy, withRetries, kindForStatus, type HttpPolicy, type ResolvedPolicy } from "./http.ts";
import { StorageError, type StorageErrorKind } from "./types.ts";
import { xmlText } from "./xml.ts";

export interface S3Location {
  bucket: string;
  region: string;
  /** Custom endpoint (MinIO, Ceph, R2, Swift); AWS's regional endpoint otherwise. */
  endpoint?: string;
  forcePathStyle?: boolean;
}

export interface S3TransportOptions extends S3Location, HttpPolicy, GuardedClientOptions {
  credentials?: AwsCredentialProvider;
  env?: Env;
}

export interface S3Call {
  method: "GET" | "HEAD" | "PUT" | "POST" | "DELETE";
  key?: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  /** Request bodies are always buffered (bounded by the part size) so that they can be signed and retried. */
  body?: Uint8Array | string;
  /** Safe to repeat after a transient failure. */
  idempotent: boolean;
  /** A whole-request timeout override (uploads of a part). */
  timeoutMs?: number;
  /** Statuses that are not errors (2xx by default). */
  accept?: (status: number) => boolean;
}

const UNSIGNED = "UNSIGNED-PAYLOAD";

/** S3 error codes whose meaning is clearer than their HTTP status. */
const CODE_KINDS: Record<string, StorageErrorKind> = {
  NoSuchKey: "NotFound",
  NoSuchBucket: "NotFound",
  NoSuchUpload: "NotFound",
  AccessDenied: "Denied",
  SignatureDoesNotMatch: "Denied",
  InvalidAccessKeyId: "Denied",
  InvalidToken: "Denied",
  ExpiredToken: "Denied",
  RequestTimeTooSkewed: "Denied",
  SlowDown: "Transient",
  InternalError: "Transient",
  ServiceUnavailable: "Transient",
  RequestTimeout: "Transient",
  InvalidRange: "Invalid",
  BadDigest: "Invalid",
  EntityTooSmall: "Invalid",
  InvalidPart: "Invalid",
};

export class S3Transport {
  readonly policy: ResolvedPolicy;
  readonly credentials: AwsCredentialProvider;
  readonly base: URL;
  /** Endpoint path prefix without a trailing slash (URL would turn an empty path back into "/"). */
  readonly basePath: string;
  readonly pathStyle: boolean;
  readonly description: string;
  private readonly guard: EndpointGuard;
  private readonly keyCache = new Map<string, ArrayBuffer>();

  constructor(readonly options: S3TransportOptions) {
    if (!options.bucket || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(options.bucket)) throw new StorageError("Invalid", `invalid S3 bucket name ${JSON.stringify(options.bucket)}`);
    if (!options.region || !/^[a-z0-9-]{1,40}$/.test(options.region)) throw new StorageError("Invalid", `invalid S3 region ${JSON.stringify(options.region)}`);
    this.policy = resolvePolicy(options);
    this.credentials = options.credentials ?? awsCredentialChain({ env: options.env, region: options.region, fetch: options.fetch });
    let endpoint: URL;
    try {
      endpoint = new URL(options.endpoint ?? `https://s3.${options.region}.amazonaws.com`);
    } catch {
      throw new StorageError("Invalid", `invalid S3 endpoint ${JSON.stringify(options.endpoint)}`);
    }
    if (endpoint.protocol !== "https:" && endpoint.protocol !== "http:") throw new StorageError("Invalid", `S3 endpoint must be http(s): ${options.endpoint}`);
    // Bucket names with dots break TLS wildcard certificates in virtual-hosted style, so they force path style.
    this.pathStyle = options.forcePathStyle ?? options.bucket.includes(".");
    if (!this.pathStyle) endpoint.hostname = `${options.bucket}.${endpoint.hostname}`;
    this.base = endpoint;
    this.basePath = endpoint.pathname.replace(/\/+$/, "");
    this.description = `s3://${options.bucket}${options.endpoint ? ` at ${options.endpoint}` : ""}`;
    this.guard = options.endpointGuard ?? sameOriginGuard(endpoint);
  }

  url(key?: string, query?: Record<string, string>): URL {
    const path = `${this.basePath}${this.pathStyle ? `/${this.options.bucket}` : ""}/${key ? encodeKeyPath(key) : ""}`;
    const u = new URL(this.base.origin + path);
    for (const [k, v] of Object.entries(query ?? {})) u.searchParams.set(k, v);
    return u;
  }

  async sign(call: S3Call, creds: AwsCredentials, datetime?: string): Promise<{ url: URL; headers: Headers }> {
    const headers = new Headers(call.headers);
    if (!headers.has("x-amz-content-sha256")) {
      headers.set("x-amz-content-sha256", call.body === undefined ? UNSIGNED : createHash("sha256").update(call.body).digest("hex"));
    }
    const signed = await this.signer(call.method, this.url(call.key, call.query), creds, datetime, { headers }).sign();
    return { url: signed.url, headers: signed.headers };
  }

  /** SigV4 for this bucket's region, with the derived-key cache shared by header and query signing. */
  private signer(method: string, url: URL, creds: AwsCredentials, datetime: string | undefined, extra: { headers?: Headers; signQuery?: boolean }): AwsV4Signer {
    return new AwsV4Signer({
      method,
      url: url.toString(),
      accessKeyId: creds.accessKeyId,
      secretAccessKey: creds.secretAccessKey,
      sessionToken: creds.sessionToken,
      service: "s3",
      region: this.options.region,
      cache: this.keyCache,
      ...extra,
      ...(datetime ? { datetime } : {}),
    });
  }

  async send(what: string, call: S3Call): Promise<Response> {
    return (await this.exchange(what, call, false)).res;
  }

  /** For responses whose body is streamed to the caller: the timeout covers the headers; `controller` aborts. */
  sendForStream(what: string, call: S3Call): Promise<{ res: Response; controller: AbortController }> {
    return this.exchange(what, call, true);
  }

  private exchange(what: string, call: S3Call, stream: boolean): Promise<{ res: Response; controller: AbortController }> {
    return withRetries(this.policy, call.idempotent, async () => {
      assertEndpointAllowed(this.guard, this.url(call.key, call.query), `${what} (${this.description})`);
      const creds = await this.credentials.get();
      const { url, headers } = await this.sign(call, creds);
      assertEndpointAllowed(this.guard, url, `${what} (${this.description})`);
      const init: RequestInit = { method: call.method, headers, body: call.body as Uint8Array<ArrayBuffer> | string | undefined, ...NO_REDIRECTS };
      let res: Response;
      let controller = new AbortController();
      if (stream) {
        ({ res, controller } = await fetchForStream(this.policy, url.toString(), init, `${what} (${this.description})`));
      } else {
        try {
          res = await this.policy.fetch(url.toString(), { ...init, signal: AbortSignal.timeout(call.timeoutMs ?? this.policy.timeoutMs) });
        } catch (e) {
          throw networkError(`${what} (${this.description})`, e);
        }
      }
      const accept = call.accept ?? ((s: number) => s >= 200 && s < 300);
      if (accept(res.status)) return { res, controller };
      throw await this.errorFrom(what, res);
    });
  }

  async errorFrom(what: string, res: Response): Promise<StorageError> {
    const text = await readBoundedText(res);
    const code = xmlText(text, "Code");
    const message = xmlText(text, "Message");
    let kind = (code && CODE_KINDS[code]) || kindForStatus(res.status);
    if (code === "ExpiredToken" || code === "InvalidToken") {
      // The cached session credentials went stale early: drop them so the retry fetches new ones.
      this.credentials.invalidate?.();
      kind = "Transient";
    }
    const detail = code ? `${code}${message ? `: ${message.slice(0, 300)}` : ""}` : `HTTP ${res.status}`;
    const credentialHint = kind === "Denied" ? ` (credentials: ${this.credentials.source})` : "";
    return new StorageError(kind, `${what} (${this.description}): ${detail}${credentialHint}`);
  }

  /** A SigV4 query-signed GET URL valid for ttlSeconds (S3 allows at most 7 days). */
  async presign(key: string, ttlSeconds: number, datetime?: string): Promise<string> {
    if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > 604_800) {
      throw new StorageError("Invalid", `S3 pre-signed URL lifetime must be 1..604800 s, got ${ttlSeconds}`);
    }
    const url = this.url(key, { "X-Amz-Expires": String(ttlSeconds) });
    assertEndpointAllowed(this.guard, url, `presign ${key} (${this.description})`);
    const creds = await this.credentials.get();
    return (await this.signer("GET", url, creds, datetime, { signQuery: true }).sign()).url.toString();
  }
}
