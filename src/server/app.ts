// The registry HTTP application: discovery, module and provider protocols, provider network mirror, browse API, health. Read-only by design.
import { Elysia } from "elysia";
import type { ServerContext } from "./context.ts";
import { MODULES_PREFIX, PROVIDERS_PREFIX } from "./artifact-urls.ts";
import { errorResponse, json, Refusal } from "./http.ts";
import { browseRoutes } from "./browse/routes.ts";
import { BadRequest } from "./params.ts";
import { mirrorRoutes } from "./routes-mirror.ts";
import { moduleRoutes } from "./routes-modules.ts";
import { providerRoutes } from "./routes-providers.ts";

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

  return new Elysia({ strictPath: false })
    .onError(({ code, error }) => {
      // Route hooks refuse with a ready response (401/403/404); bad path segments are 400s.
      if (error instanceof Refusal) return error.response;
      if (error instanceof BadRequest) return errorResponse(400, error.message);
      if (code === "NOT_FOUND") return errorResponse(404, "not found");
      if (code === "VALIDATION" || code === "PARSE") return errorResponse(400, "bad request");
      ctx.log.error("unhandled error", { error });
      return errorResponse(500, "internal error");
    })
    .get("/.well-known/terraform.json", () => new Response(discoveryBody, { headers: { "content-type": "application/json" } }))
    .get("/healthz", () => json({ status: "ok" }))
    .get("/readyz", () => (ctx.ready() ? json({ status: "ready" }) : errorResponse(503, `caches are still loading${(ctx.unsynced?.() ?? []).map((name, i) => (i ? ", " : ": ") + name).join("")}`)))
    .use(moduleRoutes(ctx))
    .use(providerRoutes(ctx))
    .use(ctx.mirror ? mirrorRoutes(ctx, ctx.mirror) : new Elysia())
    .use(ctx.browse ? browseRoutes(ctx.browse) : new Elysia());
}
