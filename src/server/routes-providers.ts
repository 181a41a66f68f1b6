// Provider registry protocol (providers.v1) as an Elysia plugin, per OS/arch throughout: versions, package
// metadata, and the signed SHA256SUMS, SHA256SUMS.sig and zip downloads. The API routes share a `resolve` hook
// (parse → authorize → find the provider); each signed artifact route one that checks its URL (artifact-urls.ts).
import { Elysia } from "elysia";
import type { VersionObject } from "../api/kinds.ts";
import { ARTIFACT_ROUTES, ArtifactUrls, buildAddressOf, PROVIDERS_PREFIX, shasumsOf, type ProviderArtifact } from "./artifact-urls.ts";
import type { ServerContext } from "./context.ts";
import { namespaceParam, nameParam } from "./params.ts";
import { answersFor } from "./protocol-answers.ts";

export function providerRoutes(ctx: ServerContext) {
  const links = new ArtifactUrls(ctx);
  const answers = answersFor(ctx);

  // Parse the address (400); the answers authorize the caller (401/403) and find the provider (404).
  const versions = new Elysia()
    .resolve(({ params }) => {
      const p = params as Record<string, string>;
      return { provider: { ns: namespaceParam(p.namespace!), type: nameParam(p.type!, "provider type") } };
    })
    .get(`${PROVIDERS_PREFIX}/:namespace/:type/versions`, ({ provider, request }) => answers.providerVersions(request, provider.ns, provider.type));

  const metadata = new Elysia()
    .resolve(({ params }) => ({ build: buildAddressOf(params as Record<string, string>) }))
    .get(`${PROVIDERS_PREFIX}/:namespace/:type/:version/download/:os/:arch`, ({ build, request }) => answers.providerMetadata(request, build));

  /** One signed artifact route: its hook accepts only a URL we minted for this build (else a 403). */
  const signed = (artifact: ProviderArtifact, respond: (v: VersionObject, request: Request) => Response | Promise<Response>) =>
    new Elysia()
      .resolve(({ params, request }) => ({ version: links.verifiedProviderArtifact(artifact, params as Record<string, string>, request) }))
      .get(ARTIFACT_ROUTES[artifact], ({ version, request }) => respond(version, request));

  const NO_STORE = { "cache-control": "private, no-store" };
  return new Elysia()
    .use(versions)
    .use(metadata)
    .use(signed("shasums", (v) => new Response(shasumsOf(v), { headers: { "content-type": "text/plain; charset=utf-8", ...NO_STORE } })))
    .use(
      signed("signature", async (v, request) => {
        const keyId = new URL(request.url).searchParams.get("key") ?? undefined;
        const signature = await (ctx.signer.signWith && keyId && /^[0-9A-Fa-f]{16}$/.test(keyId) ? ctx.signer.signWith(keyId, shasumsOf(v)) : ctx.signer.sign(shasumsOf(v)));
        return new Response(signature, { headers: { "content-type": "application/octet-stream", ...NO_STORE } });
      }),
    )
    .use(signed("zip", (v, request) => ctx.delivery.respond(v, request, "application/zip")));
}
