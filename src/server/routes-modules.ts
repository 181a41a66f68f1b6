// Module registry protocol (modules.v1) as an Elysia plugin: versions list, download redirect, and the signed
// archive download. Each group of routes shares its prologue as a `resolve` hook (parse → authorize → look up), so
// a handler only runs for a request that is valid, allowed and about something that exists.
import { Elysia } from "elysia";
import { ARTIFACT_ROUTES, ArtifactUrls, archiveContentType, MODULES_PREFIX, moduleAddressOf, type ModuleAddress } from "./artifact-urls.ts";
import type { ServerContext } from "./context.ts";
import { answersFor } from "./protocol-answers.ts";

export function moduleRoutes(ctx: ServerContext) {
  const links = new ArtifactUrls(ctx);
  const answers = answersFor(ctx);

  const api = new Elysia()
    // Parse the address (400); the answers authorize the caller (401/403) and find the module (404).
    .resolve(({ params }) => ({ module: moduleAddressOf(params as Record<string, string>) }))
    .get(`${MODULES_PREFIX}/:namespace/:name/:system/versions`, ({ module, request }) => answers.moduleVersions(request, module))
    .get(`${MODULES_PREFIX}/:namespace/:name/:system/:version/download`, ({ module, request }) => answers.moduleDownload(request, module as ModuleAddress));

  const archives = new Elysia()
    // Signed URLs are the credential here: an unknown, altered, expired or superseded URL is simply refused.
    .resolve(({ params, request }) => ({ version: links.verifiedModuleArchive(params as Record<string, string>, request) }))
    .get(ARTIFACT_ROUTES.moduleArchive, ({ version, request }) => ctx.delivery.respond(version, request, archiveContentType(version.spec.fileName!)));

  return new Elysia().use(api).use(archives);
}
