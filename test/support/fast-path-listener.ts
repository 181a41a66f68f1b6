// An app behind the real listener on a free loopback port, with its fast path or without it: the two ways the
// fast-path comparison tests drive with the same requests. The fast path's own answers are counted, and every
// access-log line is kept (parsed), after the "listening" line.
import { createLogger } from "../../src/log.ts";
import { fastPathOf, type createApp } from "../../src/server/app.ts";
import type { FastPath } from "../../src/server/fast-path.ts";
import { listen } from "../../src/server/serve.ts";

export interface ListenedApp {
  port: number;
  logs: Record<string, unknown>[];
  /** Requests the fast path answered itself (always 0 without it). */
  fastAnswers: number;
  stop: () => void;
}

export function listenApp(app: ReturnType<typeof createApp>, fast: boolean): ListenedApp {
  const logs: Record<string, unknown>[] = [];
  const inner = fastPathOf(app)!;
  const counted: FastPath = (request, path, id) => {
    const answer = inner(request, path, id);
    if (answer !== undefined) served.fastAnswers++;
    return answer;
  };
  const server = listen((r) => app.handle(r), { hostname: "127.0.0.1", port: 0, ...(fast ? { fast: counted } : {}) }, createLogger({ write: (l) => logs.push(JSON.parse(l)) }));
  const served: ListenedApp = { port: server.port!, logs, fastAnswers: 0, stop: () => void server.stop(true) };
  logs.length = 0; // the "listening" line
  return served;
}
