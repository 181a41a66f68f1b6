// Provider network mirror protocol (https://developer.hashicorp.com/terraform/internals/provider-network-mirror-protocol),
// served from the registry's own synced providers so `provider_installation { network_mirror { ... } }` installs
// public providers (hashicorp/aws, ...) with no change to their `source` addresses.
//
// Mapping: GET /opendepot/mirror/v1/<hostname>/<namespace>/<type>/... is answered from the Providers in ONE
// Kubernetes namespace (ctx.mirror.namespace, --mirror-namespace) whose upstream address — providerConfig.namespace
// (default hashicorp) / providerConfig.name (default the resource name) — equals <namespace>/<type>. <hostname> only
// has to be in the allow-list (--mirror-hostnames); it does not select anything. Several matching Providers: the one
// named <type> wins, else the first by name (RegistryIndex.mirrorProvider).
//
// Hashes: only `h1:` (status.h1). Terraform rejects a mirror answer carrying `zh:` hashes (hashicorp/terraform#27984),
// and a build without a recorded h1 is left out of the mirror altogether rather than served unverified.
import { Elysia } from "elysia";
import { ArtifactUrls } from "./artifact-urls.ts";
import { lifecyclePolicy, type MirrorConfig, type ServerContext } from "./context.ts";
import { yankRefusal } from "./lifecycle.ts";
import { BoundedMemo, errorResponse, jsonText, notFound, Refusal } from "./http.ts";
import { hostnameParam, nameParam, namespaceParam, versionParam } from "./params.ts";

export const MIRROR_PREFIX = "/opendepot/mirror/v1";
export { DEFAULT_MIRROR_HOSTNAMES, mirrorConfig } from "./mirror-config.ts";

/** The mirror as an Elysia plugin; its `resolve` hook parses the address, authorizes the caller and finds the Provider. */
export function mirrorRoutes(ctx: ServerContext, mirror: MirrorConfig) {
  const { index } = ctx;
  const links = new ArtifactUrls(ctx);
  // version.json bodies are identical within one URL-expiry window for one set of build revisions: build each once.
  const memo = new BoundedMemo<string>(10_000);

  return new Elysia()
    .resolve(async ({ params, request }) => {
      const p = params as Record<string, string>;
      const hostname = hostnameParam(p.hostname!);
      const upstreamNs = namespaceParam(p.namespace!);
      const type = nameParam(p.type!, "provider type");
      const file = p.file!;
      const version = file === "index.json" ? undefined : file.endsWith(".json") ? versionParam(file.slice(0, -".json".length)) : undefined;
      if (file !== "index.json" && version === undefined) throw new Refusal(notFound("document"));
      const address = `${hostname}/${upstreamNs}/${type}`;
      const provider = mirror.hostnames.has(hostname) ? index.mirrorProvider(mirror.namespace, upstreamNs, type) : undefined;
      const name = provider?.metadata.name ?? type;
      const denied = await ctx.gatekeeper.authorize(request, { kind: "provider", namespace: mirror.namespace, name });
      if (denied) throw new Refusal(denied);
      if (!provider) throw new Refusal(notFound(`provider ${address}`));
      return { mirrored: { address, name, version } };
    })
    .get(`${MIRROR_PREFIX}/:hostname/:namespace/:type/:file`, ({ mirrored: { address, name, version } }) => {
      if (version === undefined) return jsonText(index.mirrorVersionsBody(mirror.namespace, name));

      const found = index.mirrorBuilds(mirror.namespace, name, version);
      if (found.length === 0) return notFound(`provider ${address} version ${version}`);
      const refusal = yankRefusal(found[0]!, lifecyclePolicy(ctx));
      const builds = found.filter((v) => !yankRefusal(v, lifecyclePolicy(ctx)));
      if (builds.length === 0) return errorResponse(404, `provider ${address} ${refusal}`);
      const expires = links.expiresAt();
      const memoKey = `${mirror.namespace}/${name}/${version}/${expires}/${builds.map((v) => `${v.metadata.name}@${v.metadata.resourceVersion}:${v.status!.checksum}:${v.status!.h1}`).sort().join(",")}`;
      const memoised = memo.get(memoKey);
      if (memoised) return jsonText(memoised);
      const archives: Record<string, { url: string; hashes: string[] }> = {};
      for (const v of [...builds].sort((a, b) => `${a.spec.operatingSystem}_${a.spec.architecture}`.localeCompare(`${b.spec.operatingSystem}_${b.spec.architecture}`))) {
        archives[`${v.spec.operatingSystem}_${v.spec.architecture}`] = { url: links.providerZip(mirror.namespace, name, v, expires), hashes: [v.status!.h1!] };
      }
      const body = JSON.stringify({ archives });
      memo.set(memoKey, body);
      return jsonText(body);
    });
}
