// The registry HTTP application: discovery, module and provider protocols, provider network mirror, browse API, health. Read-only by design.
import { Elysia } from "elysia";
import type { ServerContext } from "./context.ts";
import { errorResponse, Refusal } from "./http.ts";
import { browseRoutes } from "./browse/routes.ts";
import { BadRequest } from "./params.ts";
import { mirrorRoutes } from "./routes-mirror.ts";
import { moduleRoutes } from "./routes-modules.ts";
import { providerRoutes } from "./routes-providers.ts";
import type { ProtocolDocument } from "./document.ts";
import { createFastPath, type FastPath } from "./fast-path.ts";
import { healthAnswer, readyAnswer } from "./probes.ts";
import { discoveryDocument, documentResponse, type DiscoveryExtras } from "./protocol-answers.ts";

export type { DiscoveryExtras } from "./protocol-answers.ts";

const fastPaths = new WeakMap<object, FastPath>();

/** The fast path (fast-path.ts) over the same context and answers as an app createApp made; for the listener. */
export function fastPathOf(app: object): FastPath | undefined {
  return fastPaths.get(app);
}

export function createApp(ctx: ServerContext, discovery: DiscoveryExtras = {}) {
  const discoveryDoc = discoveryDocument(discovery);
  const app = createRoutes(ctx, discoveryDoc);
  fastPaths.set(app, createFastPath(ctx, discovery));
  return app;
}

function createRoutes(ctx: ServerContext, discoveryDoc: ProtocolDocument) {

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
    .get("/.well-known/terraform.json", ({ request }) => documentResponse(discoveryDoc, request))
    .get("/healthz", () => healthAnswer())
    .get("/readyz", () => readyAnswer(ctx))
    .use(moduleRoutes(ctx))
    .use(providerRoutes(ctx))
    .use(ctx.mirror ? mirrorRoutes(ctx, ctx.mirror) : new Elysia())
    .use(ctx.browse ? browseRoutes(ctx.browse) : new Elysia());
}
