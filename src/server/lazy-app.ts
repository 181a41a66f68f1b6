// The app (Elysia and every route module) imported and built at the first request that needs it, not at startup:
// the fast path (fast-path.ts) answers the protocol GETs without it, and the liveness and readiness probes are
// answered here with the app's own answers (probes.ts), so a process that only serves Terraform never pays the
// router's module graph (Elysia, its TypeBox compiler) in startup time or memory. Concurrent first requests share
// one load; a load that fails is retried by the next request.
import type { ServerContext } from "./context.ts";
import { createFastPath, type FastPath } from "./fast-path.ts";
import { healthAnswer, readyAnswer } from "./probes.ts";
import type { DiscoveryExtras } from "./protocol-answers.ts";

type App = Awaited<ReturnType<typeof buildApp>>;
const buildApp = async (ctx: ServerContext, discovery: DiscoveryExtras) => (await import("./app.ts")).createApp(ctx, discovery);

let loads = 0;
/** How many apps were built by lazy apps in this process (tests count them: none until a request needs one). */
export const lazyAppLoads = () => loads;

export interface LazyApp {
  /** The fast path over the same context and answers as the app (it needs no app). */
  fast: FastPath;
  handle(request: Request): Response | Promise<Response>;
  /** Builds the app now (when something needs its route table up front, e.g. request metrics). */
  load(): Promise<App>;
  /** The app's route paths; undefined until it is built. */
  routes(): string[] | undefined;
}

/** The path of an absolute request URL with its query, e.g. `/readyz` or `/readyz?x` (only exact probes are taken). */
const pathAndQuery = (url: string) => {
  const i = url.indexOf("/", url.indexOf("//") + 2);
  return i < 0 ? "/" : url.slice(i);
};

export function lazyApp(ctx: ServerContext, discovery: DiscoveryExtras = {}): LazyApp {
  let app: App | undefined;
  let loading: Promise<App> | undefined;
  const load = () => {
    loading ??= buildApp(ctx, discovery).then(
      (built) => {
        loads++;
        return (app = built);
      },
      (e: unknown) => {
        loading = undefined;
        throw e;
      },
    );
    return loading;
  };
  return {
    fast: createFastPath(ctx, discovery),
    load,
    routes: () => app?.routes.map((r) => r.path),
    handle(request) {
      if (app) return app.handle(request);
      // Exactly the probes' GETs (no query, no trailing slash): every other spelling goes to the app, as before.
      if (request.method === "GET") {
        const path = pathAndQuery(request.url);
        if (path === "/readyz") return readyAnswer(ctx);
        if (path === "/healthz") return healthAnswer();
      }
      return load().then((a) => a.handle(request));
    },
  };
}
