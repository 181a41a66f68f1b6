// The registry HTTP application: discovery, module and provider protocols, provider network mirror, browse API, health. Read-only by design.
import { Elysia } from "elysia";
import type { ServerContext } from "./context.ts";
import { errorResponse, json } from "./http.ts";
import { browseRoutes } from "./browse/routes.ts";
import { BadRequest } from "./params.ts";
import { mirrorRoutes } from "./routes-mirror.ts";
import { MODULES_PREFIX, moduleRoutes } from "./routes-modules.ts";
import { PROVIDERS_PREFIX, providerRoutes } from "./routes-providers.ts";

export interface DiscoveryExtras {
  /** `login.v1` document, present only when OIDC sign-in is configured. */
  login?: Record<string, unknown>;
}

export function createApp(ctx: ServerContext, discovery: DiscoveryExtras = {}) {
  const discoveryBody = JSON.stringify({
    "modules.v1": `${MODULES_PREFIX}/`,
    "providers.v1": `${PROVIDERS_PREFIX}/`,
    ...(discovery.login ? { "login.v1": discovery.login } : {}),
  });

  const app = new Elysia({ strictPath: false })
    .onError(({ code, error }) => {
      if (error instanceof BadRequest) return errorResponse(400, error.message);
      if (code === "NOT_FOUND") return errorResponse(404, "not found");
      if (code === "VALIDATION" || code === "PARSE") return errorResponse(400, "bad request");
      ctx.log.error("unhandled error", { error });
      return errorResponse(500, "internal error");
    })
    .get("/.well-known/terraform.json", () => new Response(discoveryBody, { headers: { "content-type": "application/json" } }))
    .get("/healthz", () => json({ status: "ok" }))
    .get("/readyz", () => (ctx.ready() ? json({ status: "ready" }) : errorResponse(503, "caches are still loading")));

  moduleRoutes(app as unknown as Elysia, ctx);
  providerRoutes(app as unknown as Elysia, ctx);
  if (ctx.mirror) mirrorRoutes(app as unknown as Elysia, ctx, ctx.mirror);
  return ctx.browse ? app.use(browseRoutes(ctx.browse)) : app;
}
