// The Kubernetes-compatible API in-process over an in-memory embedded store, for HTTP-level tests: requests go
// straight to the handler (no socket), with the admin token unless told otherwise.
import { createKubeApi, type KubeApi, type KubeApiOptions } from "../../src/kubeapi/api.ts";
import { ensureNamespaces } from "../../src/kubeapi/admin.ts";
import { silentLogger } from "../../src/log.ts";
import { EmbeddedStore } from "../../src/store/embedded.ts";
import type { JsonResponse } from "./ports.ts";

export const ADMIN_TOKEN = "test-admin-token-0123456789";

export interface RequestOptions {
  body?: unknown;
  /** Content-Type of the body; JSON by default. */
  type?: string;
  accept?: string;
  /** Bearer token; the admin's by default, `null` for none. */
  token?: string | null;
  headers?: Record<string, string>;
}

export interface TestApi {
  api: KubeApi;
  store: EmbeddedStore;
  request(method: string, path: string, options?: RequestOptions): Promise<JsonResponse>;
  get(path: string, options?: RequestOptions): Promise<JsonResponse>;
  post(path: string, body: unknown, options?: RequestOptions): Promise<JsonResponse>;
  close(): Promise<void>;
}

export async function startTestApi(options: Partial<KubeApiOptions> & { eventBufferSize?: number } = {}): Promise<TestApi> {
  const store = EmbeddedStore.open(":memory:", { eventBufferSize: options.eventBufferSize, log: silentLogger });
  await ensureNamespaces(store);
  const api = createKubeApi({ store, adminToken: ADMIN_TOKEN, log: silentLogger, ...options });
  const request = async (method: string, path: string, o: RequestOptions = {}) => {
    const headers: Record<string, string> = { ...(o.headers ?? {}) };
    const token = o.token === undefined ? ADMIN_TOKEN : o.token;
    if (token !== null) headers.authorization = `Bearer ${token}`;
    if (o.accept) headers.accept = o.accept;
    let body: string | Uint8Array | undefined;
    if (o.body !== undefined) {
      headers["content-type"] = o.type ?? "application/json";
      body = typeof o.body === "string" || o.body instanceof Uint8Array ? o.body : JSON.stringify(o.body);
    }
    return (await api.handle(new Request(`http://localhost${path}`, { method, headers, body }))) as JsonResponse;
  };
  return {
    api,
    store,
    request,
    get: (path, o) => request("GET", path, o),
    post: (path, body, o) => request("POST", path, { ...o, body }),
    async close() {
      api.close();
      await store.close();
    },
  };
}

export const MODULES = "/apis/opendepot.defdev.io/v1alpha1/namespaces/default/modules";

export function moduleManifest(name: string, extra: Record<string, unknown> = {}) {
  return {
    apiVersion: "opendepot.defdev.io/v1alpha1",
    kind: "Module",
    metadata: { name, ...((extra.metadata as object) ?? {}) },
    spec: { moduleConfig: { repoOwner: "acme", provider: "aws" }, versions: [{ version: "v1.0.0" }], ...((extra.spec as object) ?? {}) },
  };
}

/** Read a watch stream's events until `until` says stop (or the stream ends). */
export async function readEvents(response: Response, until: (events: { type: string; object: any }[]) => boolean, timeoutMs = 5000) {
  const reader = response.body!.getReader();
  const events: { type: string; object: any }[] = [];
  const decoder = new TextDecoder();
  let buf = "";
  const deadline = Date.now() + timeoutMs;
  try {
    while (!until(events)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for watch events; got ${JSON.stringify(events.map((e) => e.type))}`);
      const next = await Promise.race([reader.read(), Bun.sleep(left).then(() => ({ done: true, value: undefined, timeout: true }) as const)]);
      if ("timeout" in next) continue;
      if (next.done) break;
      buf += decoder.decode(next.value, { stream: true });
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (line) events.push(JSON.parse(line));
      }
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return events;
}
