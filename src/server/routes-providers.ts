// Provider registry protocol (providers.v1), per OS/arch throughout: versions, package metadata, and the signed
// SHA256SUMS, SHA256SUMS.sig and zip downloads.
import type { Elysia } from "elysia";
import type { VersionObject } from "../api/kinds.ts";
import { protocolVersion } from "../api/naming.ts";
import { base64ToHex } from "../artifacts/hash.ts";
import { absolute, lifecyclePolicy, type ServerContext } from "./context.ts";
import { BoundedMemo, errorResponse, jsonText, notFound } from "./http.ts";
import { yankRefusal } from "./lifecycle.ts";
import { nameParam, namespaceParam, platformParam, versionParam } from "./params.ts";

export const PROVIDERS_PREFIX = "/opendepot/providers/v1";
const DEFAULT_PROTOCOLS = ["5.0"];

const base = (ns: string, type: string, version: string) => `${PROVIDERS_PREFIX}/${ns}/${type}/${version}`;
const shasumsPath = (ns: string, type: string, version: string, os: string, arch: string) => `${base(ns, type, version)}/SHA256SUMS/${os}/${arch}`;
const signaturePath = (ns: string, type: string, version: string, os: string, arch: string) => `${base(ns, type, version)}/SHA256SUMS.sig/${os}/${arch}`;
const zipPath = (ns: string, type: string, version: string, os: string, arch: string, fileName: string) =>
  `${base(ns, type, version)}/download/${os}/${arch}/${fileName}`;

/** The signed URL of a provider build's zip, served by the download route below (and linked by the network mirror). */
export function signedZipUrl(ctx: ServerContext, ns: string, type: string, v: VersionObject, expires = ctx.urls.expiresAt()): string {
  const path = zipPath(ns, type, protocolVersion(v.spec.version), v.spec.operatingSystem!, v.spec.architecture!, v.spec.fileName!);
  return absolute(ctx, ctx.urls.sign(path, v.status!.checksum!, expires));
}

export function shasumsOf(v: VersionObject): string {
  return `${base64ToHex(v.status!.checksum!)}  ${v.spec.fileName}\n`;
}

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

export function providerRoutes(app: Elysia, ctx: ServerContext) {
  const { index } = ctx;
  // Metadata documents are identical within one URL-expiry window for one Version revision: build each once.
  const metadataMemo = new BoundedMemo<string>(10_000);

  const coordinates = (params: Record<string, string>) => ({
    ns: namespaceParam(params.namespace!),
    type: nameParam(params.type!, "provider type"),
    version: versionParam(params.version!),
    os: platformParam(params.os!, "os"),
    arch: platformParam(params.arch!, "arch"),
  });

  /** Resolve a signed artifact URL to its provider build, or a 403 for anything that isn't exactly what we issued. */
  const signedBuild = (params: Record<string, string>, request: Request, pathOf: (c: ReturnType<typeof coordinates>, v: VersionObject) => string) => {
    const c = coordinates(params);
    const v = index.providerBuild(c.ns, c.type, c.version, c.os, c.arch);
    if (!v) return { denied: errorResponse(403, "download URL is not valid") };
    const why = ctx.urls.check(pathOf(c, v), new URL(request.url).searchParams, v.status!.checksum!);
    return why ? { denied: errorResponse(403, why) } : { v };
  };

  const zip = ({ params, request }: { params: Record<string, string>; request: Request }) => {
    const r = signedBuild(params, request, (c, v) => zipPath(c.ns, c.type, c.version, c.os, c.arch, v.spec.fileName!));
    if (r.denied) return r.denied;
    if (r.v.spec.fileName !== params.fileName) return errorResponse(403, "download URL is not valid");
    return ctx.delivery.respond(r.v, request, "application/zip");
  };
  const zipRoute = `${PROVIDERS_PREFIX}/:namespace/:type/:version/download/:os/:arch/:fileName`;

  return app
    .get(`${PROVIDERS_PREFIX}/:namespace/:type/versions`, async ({ params, request }) => {
      const ns = namespaceParam(params.namespace);
      const type = nameParam(params.type, "provider type");
      const denied = await ctx.gatekeeper.authorize(request, { kind: "provider", namespace: ns, name: type });
      if (denied) return denied;
      if (!index.hasProvider(ns, type)) return notFound(`provider ${ns}/${type}`);
      return jsonText(index.providerVersionsBody(ns, type));
    })
    .get(`${PROVIDERS_PREFIX}/:namespace/:type/:version/download/:os/:arch`, async ({ params, request }) => {
      const { ns, type, version, os, arch } = coordinates(params);
      const denied = await ctx.gatekeeper.authorize(request, { kind: "provider", namespace: ns, name: type });
      if (denied) return denied;
      if (!index.hasProvider(ns, type)) return notFound(`provider ${ns}/${type}`);
      const v = index.providerBuild(ns, type, version, os, arch);
      if (!v) return notFound(`provider ${ns}/${type} version ${version} for ${os}_${arch}`);
      const refusal = yankRefusal(v, lifecyclePolicy(ctx));
      if (refusal) return errorResponse(404, `provider ${ns}/${type} ${refusal}`);
      const checksum = v.status!.checksum!;
      const fileName = v.spec.fileName!;
      const expires = ctx.urls.expiresAt();
      const builds = index.providerBuilds(ns, type, version);
      const keys = ctx.signer.activeKeys ?? [ctx.signer];
      const memoKey = `${ns}/${v.metadata.name}/${expires}/${builds.map((b) => `${b.metadata.name}@${b.metadata.resourceVersion}`).join(",")}/${keys.map((k) => k.keyId).join(",")}`;
      const memoised = metadataMemo.get(memoKey);
      if (memoised) return jsonText(memoised);
      const signed = (path: string) => absolute(ctx, ctx.urls.sign(path, checksum, expires));
      const body = JSON.stringify({
        protocols: v.status?.protocols?.length ? v.status.protocols : DEFAULT_PROTOCOLS,
        os,
        arch,
        filename: fileName,
        download_url: signedZipUrl(ctx, ns, type, v, expires),
        shasums_url: signed(shasumsPath(ns, type, version, os, arch)),
        // Names the signing key this document chose, so a replica with an older or newer ring signs with a listed key.
        shasums_signature_url: `${signed(signaturePath(ns, type, version, os, arch))}&key=${ctx.signer.keyId}`,
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
    })
    .get(`${PROVIDERS_PREFIX}/:namespace/:type/:version/SHA256SUMS/:os/:arch`, ({ params, request }) => {
      const r = signedBuild(params, request, (c) => shasumsPath(c.ns, c.type, c.version, c.os, c.arch));
      if (r.denied) return r.denied;
      return new Response(shasumsOf(r.v), { headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "private, no-store" } });
    })
    .get(`${PROVIDERS_PREFIX}/:namespace/:type/:version/SHA256SUMS.sig/:os/:arch`, async ({ params, request }) => {
      const r = signedBuild(params, request, (c) => signaturePath(c.ns, c.type, c.version, c.os, c.arch));
      if (r.denied) return r.denied;
      const keyId = new URL(request.url).searchParams.get("key") ?? undefined;
      const signature = await (ctx.signer.signWith && keyId && /^[0-9A-Fa-f]{16}$/.test(keyId) ? ctx.signer.signWith(keyId, shasumsOf(r.v)) : ctx.signer.sign(shasumsOf(r.v)));
      return new Response(signature, { headers: { "content-type": "application/octet-stream", "cache-control": "private, no-store" } });
    })
    .get(zipRoute, zip);
}
