// The per-request log line and request id, built for the hot path: ids are a per-process random prefix plus a
// counter (UUID-shaped, unique across replicas by the prefix; no random draw per request), and the line is built as
// a string (no record object, no generic JSON.stringify of it) with a timestamp formatted once per millisecond.
import { randomBytes } from "node:crypto";
import type { Logger } from "../log.ts";

const prefix = (() => {
  const hex = randomBytes(10).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-`;
})();
let counter = 0;
// The id is the prefix, the counter's upper 40 bits (10 hex digits, rebuilt every 256 ids) and its lowest byte.
const LOW_BYTE = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
let head = "";

/** A fresh request id: `xxxxxxxx-xxxx-xxxx-xxxx-<12 hex digits of a per-process counter>`. */
export function nextRequestId(): string {
  counter = (counter + 1) % 0x1000000000000;
  const low = counter & 0xff;
  if (low === 0 || head === "") head = prefix + Math.floor(counter / 256).toString(16).padStart(10, "0");
  return head + LOW_BYTE[low]!;
}

// Characters a JSON string may hold as they are: printable ASCII but `"` and `\`. Protocol paths and methods are made
// of these, so their quoting needs no JSON.stringify.
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
/** The inside of a JSON string holding `text` (what goes between its quotes). */
const inQuotes = (text: string) => (PLAIN.test(text) ? text : JSON.stringify(text).slice(1, -1));

/** One access-log line (msg "request"): the fields and their order are those of the JSON log's other lines. */
export function logRequest(log: Logger, requestId: string, method: string, path: string, status: number, durationMs: number): void {
  const head = log.rawHead("info", "request");
  if (head === undefined) return;
  // requestId is either ours or passed REQUEST_ID's character check, so it needs no escaping; method and path do.
  // One template for the whole line: a single concatenation for the writer to flatten and encode.
  const m = method === "GET" || method === "HEAD" ? method : inQuotes(method);
  log.rawLine(`${head},"requestId":"${requestId}","method":"${m}","path":"${inQuotes(path)}","status":${status},"durationMs":${durationMs}}`);
}
