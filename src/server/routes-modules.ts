// Module registry protocol (modules.v1) as an Elysia plugin: versions list, download redirect, and the signed
// archive download. Each group of routes shares its prologue as a `resolve` hook (parse → authorize → look up), so
// a handler only runs for a request that is valid, allowed and about something that exists.
import { Elysia } from "elysia";
import { ARTIFACT_ROUTES, ArtifactUrls, MODULES_PREFIX, moduleAddressOf, type ModuleAddress } from "./artifact-urls.ts";
import { errorResponse, jsonText, notFound, Refusal } from "./http.ts";
import { lifecyclePolicy, type ServerContext } from "./context.ts";
import { yankRefusal } from "./lifecycle.ts";


/**
 * OpenTofu (User-Agent `OpenTofu/…`) gets its direct-install answer: `200` with `{"location", "use_registry_credentials":
 * false}` (the URL is signed, so no token is needed or sent) plus the header; everyone else the classic `204` + header,
 * which every Terraform and OpenTofu version understands (peers.md §4.2).
 */
export function isOpenTofu(request: Request): boolean {
  return /^opentofu\//i.test(request.headers.get("user-agent") ?? "");
}

function downloadAnswer(request: Request, location: string): Response {
  if (!isOpenTofu(request)) return new Response(null, { status: 204, headers: { "x-terraform-get": location } });
  return new Response(JSON.stringify({ location, use_registry_credentials: false }), {
    status: 200,
    headers: { "content-type": "application/json", "x-terraform-get": location, "cache-control": "private, no-store" },
  });
}

const contentTypeOf = (fileName: string) => (fileName.endsWith(".zip") ? "application/zip" : "application/gzip");

export function moduleRoutes(ctx: ServerContext) {
  const { index } = ctx;
  const links = new ArtifactUrls(ctx);

  /** A module is addressed as ns/name/system; a Module that declares its system must be asked for by it. */
  const knownModule = (ns: string, name: string, system: string) => {
    if (!index.hasModule(ns, name)) return false;
    const declared = index.module(ns, name)?.spec.moduleConfig.provider;
    return !declared || declared.toLowerCase() === system;
  };

  const api = new Elysia()
    // Parse the address (400), authorize the caller (401/403), find the module (404).
    .resolve(async ({ params, request }) => {
      const module = moduleAddressOf(params as Record<string, string>);
      const denied = await ctx.gatekeeper.authorize(request, { kind: "module", namespace: module.ns, name: module.name });
      if (denied) throw new Refusal(denied);
      if (!knownModule(module.ns, module.name, module.system)) throw new Refusal(notFound(`module ${module.ns}/${module.name}/${module.system}`));
      return { module };
    })
    .get(`${MODULES_PREFIX}/:namespace/:name/:system/versions`, ({ module }) => jsonText(index.moduleVersionsBody(module.ns, module.name)))
    .get(`${MODULES_PREFIX}/:namespace/:name/:system/:version/download`, ({ module, request }) => {
      const m = module as ModuleAddress;
      const v = index.moduleVersion(m.ns, m.name, m.version);
      if (!v) return notFound(`module ${m.ns}/${m.name}/${m.system} version ${m.version}`);
      const refusal = yankRefusal(v, lifecyclePolicy(ctx));
      if (refusal) return errorResponse(404, `module ${m.ns}/${m.name}/${m.system} ${refusal}`);
      return downloadAnswer(request, links.moduleArchive(m, v));
    });

  const archives = new Elysia()
    // Signed URLs are the credential here: an unknown, altered, expired or superseded URL is simply refused.
    .resolve(({ params, request }) => ({ version: links.verifiedModuleArchive(params as Record<string, string>, request) }))
    .get(ARTIFACT_ROUTES.moduleArchive, ({ version, request }) => ctx.delivery.respond(version, request, contentTypeOf(version.spec.fileName!)));

  return new Elysia().use(api).use(archives);
}
