// Provider registry protocol (providers.v1) as an Elysia plugin, per OS/arch throughout: versions, package
// metadata, and the signed SHA256SUMS, SHA256SUMS.sig and zip downloads. The API routes share a `resolve` hook
// (parse → authorize → find the provider); each signed artifact route one that checks its URL (artifact-urls.ts).
import { Elysia } from "elysia";
import type { VersionObject } from "../api/kinds.ts";
import { base64ToHex } from "../artifacts/hash.ts";
import { ARTIFACT_ROUTES, ArtifactUrls, buildAddressOf, PROVIDERS_PREFIX, shasumsOf, type ProviderArtifact } from "./artifact-urls.ts";
import { lifecyclePolicy, type ServerContext } from "./context.ts";
import { BoundedMemo, errorResponse, jsonText, notFound, Refusal } from "./http.ts";
import { yankRefusal } from "./lifecycle.ts";
import { namespaceParam, nameParam } from "./params.ts";


const DEFAULT_PROTOCOLS = ["5.0"];

/**
 * OpenTofu's optional `packages` map: every servable platform of the version with its `h1:` (status.h1) and `zh:`
 * (the zip's SHA-256, as in SHA256SUMS) hashes, so one `tofu init` locks all platforms. Terraform ignores it.
 */
export function packagesOf(builds: VersionObject[]): Record<string, { hashes: string[]; package_size?: number }> {
  const out: Record<string, { hashes: string[]; package_size?: number }> = {};
  for (const b of [...builds].sort((x, y) => `${x.spec.operatingSystem}_${x.spec.architecture}`.localeCompare(`${y.spec.operatingSystem}_${y.spec.architecture}`))) {
    const hashes = [...(b.status?.h1?.startsWith("h1:") ? [b.status.h1] : []), `zh:${base64ToHex(b.status!.checksum!)}`];
    out[`${b.spec.operatingSystem}_${b.spec.architecture}`] = { hashes, ...(typeof b.status?.archiveSizeBytes === "number" ? { package_size: b.status.archiveSizeBytes } : {}) };
  }
  return out;
}

export function providerRoutes(ctx: ServerContext) {
  const { index } = ctx;
  const links = new ArtifactUrls(ctx);
  // Metadata documents are identical within one URL-expiry window for one Version revision: build each once.
  const metadataMemo = new BoundedMemo<string>(10_000);

  /** Parse the address (400), authorize the caller (401/403), find the provider (404). */
  const authorized = async (ns: string, type: string, request: Request) => {
    const denied = await ctx.gatekeeper.authorize(request, { kind: "provider", namespace: ns, name: type });
    if (denied) throw new Refusal(denied);
    if (!index.hasProvider(ns, type)) throw new Refusal(notFound(`provider ${ns}/${type}`));
  };

  const versions = new Elysia()
    .resolve(async ({ params, request }) => {
      const p = params as Record<string, string>;
      const provider = { ns: namespaceParam(p.namespace!), type: nameParam(p.type!, "provider type") };
      await authorized(provider.ns, provider.type, request);
      return { provider };
    })
    .get(`${PROVIDERS_PREFIX}/:namespace/:type/versions`, ({ provider }) => jsonText(index.providerVersionsBody(provider.ns, provider.type)));

  const metadata = new Elysia()
    .resolve(async ({ params, request }) => {
      const build = buildAddressOf(params as Record<string, string>);
      await authorized(build.ns, build.type, request);
      return { build };
    })
    .get(`${PROVIDERS_PREFIX}/:namespace/:type/:version/download/:os/:arch`, ({ build }) => {
      const { ns, type, version, os, arch } = build;
      const v = index.providerBuild(ns, type, version, os, arch);
      if (!v) return notFound(`provider ${ns}/${type} version ${version} for ${os}_${arch}`);
      const refusal = yankRefusal(v, lifecyclePolicy(ctx));
      if (refusal) return errorResponse(404, `provider ${ns}/${type} ${refusal}`);
      const checksum = v.status!.checksum!;
      const fileName = v.spec.fileName!;
      const expires = links.expiresAt();
      const builds = index.providerBuilds(ns, type, version);
      const keys = ctx.signer.activeKeys ?? [ctx.signer];
      const memoKey = `${ns}/${v.metadata.name}/${expires}/${builds.map((b) => `${b.metadata.name}@${b.metadata.resourceVersion}`).join(",")}/${keys.map((k) => k.keyId).join(",")}`;
      const memoised = metadataMemo.get(memoKey);
      if (memoised) return jsonText(memoised);
      const body = JSON.stringify({
        protocols: v.status?.protocols?.length ? v.status.protocols : DEFAULT_PROTOCOLS,
        os,
        arch,
        filename: fileName,
        download_url: links.providerZip(ns, type, v, expires),
        shasums_url: links.providerArtifact("shasums", build, v, expires),
        // Names the signing key this document chose, so a replica with an older or newer ring signs with a listed key.
        shasums_signature_url: `${links.providerArtifact("signature", build, v, expires)}&key=${ctx.signer.keyId}`,
        shasum: base64ToHex(checksum),
        signing_keys: {
          gpg_public_keys: keys.map((k) => ({
            key_id: k.keyId,
            ascii_armor: k.publicKeyArmored,
            ...(ctx.signingKeySourceUrl ? { source_url: ctx.signingKeySourceUrl } : {}),
          })),
        },
        packages: packagesOf(builds),
      });
      metadataMemo.set(memoKey, body);
      return jsonText(body);
    });

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
