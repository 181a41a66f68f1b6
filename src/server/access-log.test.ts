// The hand-built access-log line is the JSON line the generic logger would write (same fields, same order), hostile
// paths included; generated request ids are UUID-shaped and unique.
import { describe, expect, test } from "bun:test";
import { createLogger, isoNow } from "../log.ts";
import { logRequest, nextRequestId } from "./access-log.ts";

describe("access log", () => {
  test("the line parses as JSON with the generic logger's shape, for hostile paths too", () => {
    const raw: string[] = [];
    const generic: string[] = [];
    const fast = createLogger({ write: (l) => raw.push(l), fields: { role: "standalone", n: 1 } });
    const slow = createLogger({ write: (l) => generic.push(l), fields: { role: "standalone", n: 1 } });
    const paths = ["/opendepot/modules/v1/a/b/c/versions", '/"quoted"\\back', "/new\nline\u0000nul", "/\u00e9\u4e2d\ud83d\ude00", "/\u2028sep"];
    const methods = ["GET", "HEAD", "PROPFIND", 'A"B\\', "\u00e9"];
    for (const [i, path] of paths.entries()) {
      const method = methods[i % methods.length]!;
      logRequest(fast, "id-1", method, path, 404, 0.12);
      slow.info("request", { requestId: "id-1", method, path, status: 404, durationMs: 0.12 });
    }
    expect(raw).toHaveLength(paths.length);
    raw.forEach((line, i) => {
      const parsed = JSON.parse(line);
      const expected = JSON.parse(generic[i]!);
      expect(Object.keys(parsed)).toEqual(Object.keys(expected));
      expect({ ...parsed, time: 0 }).toEqual({ ...expected, time: 0 });
      expect(parsed.path).toBe(paths[i]);
      expect(line).not.toContain("\n");
    });
  });

  test("below the logger's level nothing is written", () => {
    const lines: string[] = [];
    const warn = createLogger({ level: "warn", write: (l) => lines.push(l) });
    logRequest(warn, "x", "GET", "/", 200, 1);
    expect(lines).toEqual([]);
    expect([warn.enabled("debug"), warn.enabled("info"), warn.enabled("warn"), warn.enabled("error")]).toEqual([false, false, true, true]);
    expect(warn.child({ a: 1 }).enabled("info")).toBe(false);
  });

  test("request ids: UUID-shaped, one per-process prefix, never repeated", () => {
    const ids = Array.from({ length: 10_000 }, nextRequestId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of [ids[0]!, ids[9_999]!]) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(new Set(ids.map((id) => id.slice(0, 24))).size).toBe(1);
  });

  test("the cached timestamp is the current time in ISO form", () => {
    const before = Date.now();
    const t = Date.parse(isoNow());
    expect(t).toBeGreaterThanOrEqual(before);
    expect(t).toBeLessThanOrEqual(Date.now());
    expect(isoNow()).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });
});
