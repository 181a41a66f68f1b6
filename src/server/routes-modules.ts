// Module registry protocol (modules.v1): versions list, download redirect, and the signed archive download.
import type { Elysia } from "elysia";
import { errorResponse, jsonText, notFound } from "./http.ts";
import { absolute, lifecyclePolicy, type ServerContext } from "./context.ts";
import { yankRefusal } from "./lifecycle.ts";
import { nameParam, namespaceParam, systemParam, versionParam } from "./params.ts";

export const MODULES_PREFIX = "/opendepot/modules/v1";

const archivePath = (ns: string, name: string, system: string, version: string, fileName: string) =>
  `${MODULES_PREFIX}/${ns}/${name}/${system}/${version}/archive/${fileName}`;

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

export function moduleRoutes(app: Elysia, ctx: ServerContext) {
  const { index } = ctx;

  /** A module is addressed as ns/name/system; a Module that declares its system must be asked for by it. */
  const knownModule = (ns: string, name: string, system: string) => {
    if (!index.hasModule(ns, name)) return false;
    const declared = index.module(ns, name)?.spec.moduleConfig.provider;
    return !declared || declared.toLowerCase() === system;
  };

  const archive = async ({ params, request }: { params: Record<string, string>; request: Request }) => {
    const ns = namespaceParam(params.namespace!);
    const name = nameParam(params.name!, "module name");
    const system = systemParam(params.system!);
    const version = versionParam(params.version!);
    const v = index.moduleVersion(ns, name, version);
    // Signed URLs are the credential here: an unknown, altered, expired or superseded URL is simply refused.
    const fileName = v?.spec.fileName;
    if (!v || !fileName || fileName !== params.fileName) return errorResponse(403, "download URL is not valid");
    const why = ctx.urls.check(archivePath(ns, name, system, version, fileName), new URL(request.url).searchParams, v.status!.checksum!);
    if (why) return errorResponse(403, why);
    return ctx.delivery.respond(v, request, contentTypeOf(fileName));
  };
  const archiveRoute = `${MODULES_PREFIX}/:namespace/:name/:system/:version/archive/:fileName`;

  return app
    .get(`${MODULES_PREFIX}/:namespace/:name/:system/versions`, async ({ params, request }) => {
      const ns = namespaceParam(params.namespace);
      const name = nameParam(params.name, "module name");
      const system = systemParam(params.system);
      const denied = await ctx.gatekeeper.authorize(request, { kind: "module", namespace: ns, name });
      if (denied) return denied;
      if (!knownModule(ns, name, system)) return notFound(`module ${ns}/${name}/${system}`);
      return jsonText(index.moduleVersionsBody(ns, name));
    })
    .get(`${MODULES_PREFIX}/:namespace/:name/:system/:version/download`, async ({ params, request }) => {
      const ns = namespaceParam(params.namespace);
      const name = nameParam(params.name, "module name");
      const system = systemParam(params.system);
      const version = versionParam(params.version);
      const denied = await ctx.gatekeeper.authorize(request, { kind: "module", namespace: ns, name });
      if (denied) return denied;
      if (!knownModule(ns, name, system)) return notFound(`module ${ns}/${name}/${system}`);
      const v = index.moduleVersion(ns, name, version);
      if (!v) return notFound(`module ${ns}/${name}/${system} version ${version}`);
      const refusal = yankRefusal(v, lifecyclePolicy(ctx));
      if (refusal) return errorResponse(404, `module ${ns}/${name}/${system} ${refusal}`);
      const path = archivePath(ns, name, system, version, v.spec.fileName!);
      return downloadAnswer(request, absolute(ctx, ctx.urls.sign(path, v.status!.checksum!)));
    })
    .get(archiveRoute, archive);
}
