// The liveness and readiness answers, shared by the app's routes and the listener's front (lazy-app.ts), which
// gives them before Elysia is loaded: readiness is about the caches, not about the router.
import type { ServerContext } from "./context.ts";
import { errorResponse, json } from "./http.ts";

export const healthAnswer = (): Response => json({ status: "ok" });

export function readyAnswer(ctx: Pick<ServerContext, "ready" | "unsynced">): Response {
  return ctx.ready() ? json({ status: "ready" }) : errorResponse(503, `caches are still loading${(ctx.unsynced?.() ?? []).map((name, i) => (i ? ", " : ": ") + name).join("")}`);
}
