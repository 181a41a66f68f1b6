// Watch: a stream of newline-delimited JSON events `{"type":"ADDED|MODIFIED|DELETED|BOOKMARK|ERROR","object":...}`
// fed by the store's watch. A resourceVersion too old to replay ends the stream with one ERROR event carrying a
// 410 Expired Status, exactly like the API server; bookmarks when asked for; `timeoutSeconds`; `sendInitialEvents`
// (the watch-list protocol) ends its initial ADDED events with a bookmark annotated `k8s.io/initial-events-end`.
// A client that stops reading is disconnected once its backlog passes a bound, as the API server does.
import type { KubeObject } from "../api/meta.ts";
import { StoreError } from "../store/errors.ts";
import type { Watch, WatchEvent } from "../store/types.ts";
import type { Call } from "./call.ts";
import { parseFieldSelector } from "./field-selector.ts";
import { groupVersionOf } from "./resources.ts";
import { ApiError, badRequest, expired, fromStoreError, invalid, statusOf } from "./status.ts";
import { partialMetadata, toTable } from "./table.ts";

const MAX_BACKLOG_BYTES = 16 * 1024 * 1024;
const encoder = new TextEncoder();

function flag(query: URLSearchParams, name: string): boolean {
  const v = query.get(name);
  return v === "true" || v === "1";
}

function timeoutMs(query: URLSearchParams): number {
  const raw = query.get("timeoutSeconds");
  if (raw === null || raw === "") return (1800 + Math.random() * 1800) * 1000; // the API server's default spread
  if (!/^\d{1,6}$/.test(raw)) throw badRequest(`timeoutSeconds: invalid value ${JSON.stringify(raw.slice(0, 16))}`);
  return Math.max(1, Number(raw)) * 1000;
}

let open = 0;
export const activeWatches = () => open;

export function watchObjects(call: Call, maxWatches: number): Response {
  const { query, r, d, deps } = call;
  const fields = parseFieldSelector(query.get("fieldSelector"), r.resource);
  const nameOnly = call.name;
  const rv = query.get("resourceVersion") ?? "";
  if (rv !== "" && !/^\d{1,19}$/.test(rv)) throw badRequest(`invalid resource version: ${JSON.stringify(rv.slice(0, 32))}`);
  const bookmarks = flag(query, "allowWatchBookmarks");
  const initialEvents = flag(query, "sendInitialEvents");
  if (query.has("sendInitialEvents") && (query.get("resourceVersionMatch") !== "NotOlderThan" || !bookmarks)) {
    throw invalid(r, "", [{ field: "sendInitialEvents", message: "sendInitialEvents requires resourceVersionMatch=NotOlderThan and allowWatchBookmarks=true" }]);
  }
  const timeout = timeoutMs(query);
  if (open >= maxWatches) throw new ApiError(429, "TooManyRequests", "too many open watches, please try again later", { retryAfterSeconds: 1 });
  call.keepOpen?.();
  const labelSelector = query.get("labelSelector") ?? undefined;
  const output = call.output;
  let headersSent = false;

  const render = (e: WatchEvent<KubeObject>): unknown => {
    if (output.as === "Table") {
      if (e.type === "BOOKMARK") return { kind: "Table", apiVersion: `meta.k8s.io/${output.version}`, metadata: { resourceVersion: e.object.metadata.resourceVersion }, columnDefinitions: [], rows: [] };
      const t = toTable(r, [e.object], e.object.metadata.resourceVersion, { ...output, noHeaders: headersSent });
      headersSent = true;
      return t;
    }
    if (output.as === "PartialObjectMetadata") return partialMetadata(e.object, output.version);
    return e.object;
  };

  let watch: Watch | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  open++;

  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      const close = () => {
        if (closed) return;
        closed = true;
        open--;
        if (timer) clearTimeout(timer);
        watch?.stop();
        try {
          controller.close();
        } catch {
          // already closed by the client
        }
      };
      const send = (type: string, object: unknown) => {
        if (closed) return;
        controller.enqueue(encoder.encode(`${JSON.stringify({ type, object })}\n`));
        if ((controller.desiredSize ?? 0) < -MAX_BACKLOG_BYTES) {
          deps.log.warn("closing a watch whose client does not keep up", { resource: r.resource });
          close();
        }
      };
      const fail = (e: unknown) => {
        const err = e instanceof StoreError && e.reason === "Gone" ? expired(e.message) : fromStoreError(e, r, "");
        const status = err instanceof ApiError ? err : new ApiError(500, "InternalError", "the watch failed");
        if (!(err instanceof ApiError)) deps.log.error("watch failed", { resource: r.resource, error: e });
        send("ERROR", statusOf(status));
        close();
      };
      const deliver = (e: WatchEvent<KubeObject>) => {
        if (e.type !== "BOOKMARK" && (!fields.matches(e.object) || (nameOnly !== undefined && e.object.metadata.name !== nameOnly))) return;
        send(e.type, render(e));
      };
      const startWatch = (fromRv: string | undefined) => {
        watch = deps.store.watch<KubeObject>(d, { namespace: call.namespace, labelSelector, resourceVersion: fromRv, bookmarkIntervalMs: bookmarks ? deps.bookmarkIntervalMs : undefined }, deliver);
        watch.done.then(close, fail);
      };
      // Bun sends the response headers with the first body bytes; a watch with nothing to report yet must still
      // answer at once. JSON stream readers (client-go's decoder, line-based readers) skip blank lines.
      controller.enqueue(encoder.encode("\n"));
      timer = setTimeout(close, timeout);
      if (!initialEvents) {
        startWatch(rv || undefined);
        return;
      }
      // Watch-list: the current state as ADDED events, a bookmark marking their end, then changes.
      deps.store.list<KubeObject>(d, { namespace: call.namespace, labelSelector }).then((list) => {
        if (closed) return;
        for (const o of list.items) deliver({ type: "ADDED", object: o });
        const marker = { apiVersion: groupVersionOf(r), kind: r.kind, metadata: { resourceVersion: list.resourceVersion, annotations: { "k8s.io/initial-events-end": "true" } } } as unknown as KubeObject;
        send("BOOKMARK", render({ type: "BOOKMARK", object: marker }));
        startWatch(list.resourceVersion);
      }, fail);
    },
    cancel() {
      if (closed) return;
      closed = true;
      open--;
      if (timer) clearTimeout(timer);
      watch?.stop();
    },
  }, { highWaterMark: 64 * 1024, size: (chunk) => chunk?.byteLength ?? 0 });
  return new Response(stream, { status: 200, headers: { "content-type": "application/json", "cache-control": "no-cache, private" } });
}
