// HTTP for credential endpoints (STS, container/instance metadata, OAuth token endpoints). Every failure becomes a
// StorageError("Credentials") naming the source, so an operator sees which credential path was tried and why it failed.
import { stat } from "node:fs/promises";
import { readBounded } from "../../kits/http.ts";
import { runtime } from "../../runtime/index.ts";
import { readBoundedText, resolvePolicy, withRetries, type HttpPolicy, type ResolvedPolicy } from "../http.ts";
import { StorageError } from "../types.ts";

export type Env = Record<string, string | undefined>;

export interface CredentialOptions extends HttpPolicy {
  /** Environment to read (defaults to process.env); tests pass their own. */
  env?: Env;
}

export function credentialPolicy(o: CredentialOptions | undefined): ResolvedPolicy {
  return resolvePolicy({ timeoutMs: 5_000, retries: 2, retryBaseMs: 100, ...o });
}

export function credentialError(source: string, message: string, cause?: unknown): StorageError {
  return new StorageError("Credentials", `${source}: ${message}`, cause === undefined ? undefined : { cause });
}

/**
 * One request to a credential endpoint, retried on network errors and 5xx/429; returns the (bounded) body text of
 * a 2xx answer. Non-2xx answers fail with the status and the start of the body.
 */
export async function credentialRequest(
  policy: ResolvedPolicy,
  source: string,
  makeRequest: () => Request | Promise<Request>,
  limit = 256 * 1024,
): Promise<{ text: string; res: Response }> {
  return withRetries(policy, true, async () => {
    let res: Response;
    try {
      const req = await makeRequest();
      res = await policy.fetch(new Request(req, { signal: AbortSignal.timeout(policy.timeoutMs) }));
    } catch (e) {
      if (e instanceof StorageError) throw e;
      // Network errors are worth a retry (Transient to withRetries); they surface as Credentials below.
      throw new StorageError("Transient", `${source}: request failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
    // A token answer is read whole or refused (a cut-off answer would only fail later as "not JSON").
    if (res.ok) return { text: new TextDecoder().decode(await readBounded(res, limit, () => credentialError(source, `response larger than ${limit} bytes`))), res };
    const text = await readBoundedText(res, limit);
    const message = `HTTP ${res.status}: ${text.slice(0, 300).replace(/\s+/g, " ")}`;
    if (res.status >= 500 || res.status === 429) throw new StorageError("Transient", `${source}: ${message}`);
    throw credentialError(source, message);
  }).catch((e: unknown) => {
    if (e instanceof StorageError && e.kind === "Transient") throw credentialError(source, e.message.replace(`${source}: `, ""), e);
    throw e;
  });
}

export async function readTokenFile(source: string, path: string): Promise<string> {
  try {
    if ((await stat(path)).size > 64 * 1024) throw new Error("file is too large for a token");
    const text = (await runtime.readText(path)).trim();
    if (!text) throw new Error("file is empty");
    return text;
  } catch (e) {
    throw credentialError(source, `cannot read token file ${path}: ${e instanceof Error ? e.message : String(e)}`, e);
  }
}

export function parseJsonObject(source: string, text: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw credentialError(source, "response is not JSON", e);
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw credentialError(source, "response is not a JSON object");
  return v as Record<string, unknown>;
}

export function requireString(source: string, obj: Record<string, unknown>, field: string): string {
  const v = obj[field];
  if (typeof v !== "string" || v === "" || v.length > 16 * 1024) throw credentialError(source, `response lacks a valid "${field}"`);
  return v;
}

export function parseExpiry(source: string, value: unknown): Date {
  const d = typeof value === "string" ? new Date(value) : undefined;
  if (!d || Number.isNaN(d.getTime())) throw credentialError(source, `invalid expiration ${JSON.stringify(value)}`);
  return d;
}
