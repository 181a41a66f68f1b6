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
import type { Elysia } from "elysia";
import { lifecyclePolicy, type MirrorConfig, type ServerContext } from "./context.ts";
import { yankRefusal } from "./lifecycle.ts";
import { BoundedMemo, errorResponse, jsonText, notFound } from "./http.ts";
import { hostnameParam, nameParam, namespaceParam, versionParam } from "./params.ts";
import { signedZipUrl } from "./routes-providers.ts";

export const MIRROR_PREFIX = "/opendepot/mirror/v1";
export const DEFAULT_MIRROR_HOSTNAMES = ["registry.opentofu.org", "registry.terraform.io"];

/** `--mirror-namespace` / `--mirror-hostnames` → the mirror's config; undefined (mirror off) for namespace "off". */
export function mirrorConfig(namespace: string | undefined, hostnames: string | undefined): MirrorConfig | undefined {
  if (!namespace || namespace === "off") return undefined;
  namespaceParam(namespace);
  const list = (hostnames ?? DEFAULT_MIRROR_HOSTNAMES.join(",")).split(",").map((h) => h.trim().toLowerCase()).filter(Boolean);
  for (const h of list) hostnameParam(h);
  return { namespace, hostnames: new Set(list) };
}

export function mirrorRoutes(app: Elysia, ctx: ServerContext, mirror: MirrorConfig) {
  const { index } = ctx;
  // version.json bodies are identical within one URL-expiry window for one set of build revisions: build each once.
  const memo = new BoundedMemo<string>(10_000);

  return app.get(`${MIRROR_PREFIX}/:hostname/:namespace/:type/:file`, async ({ params, request }) => {
    const hostname = hostnameParam(params.hostname);
    const upstreamNs = namespaceParam(params.namespace);
    const type = nameParam(params.type, "provider type");
    const file = params.file;
    const version = file === "index.json" ? undefined : file.endsWith(".json") ? versionParam(file.slice(0, -".json".length)) : undefined;
    if (file !== "index.json" && version === undefined) return notFound("document");
    const address = `${hostname}/${upstreamNs}/${type}`;

    const provider = mirror.hostnames.has(hostname) ? index.mirrorProvider(mirror.namespace, upstreamNs, type) : undefined;
    const name = provider?.metadata.name ?? type;
    const denied = await ctx.gatekeeper.authorize(request, { kind: "provider", namespace: mirror.namespace, name });
    if (denied) return denied;
    if (!provider) return notFound(`provider ${address}`);

    if (version === undefined) return jsonText(index.mirrorVersionsBody(mirror.namespace, name));

    const found = index.mirrorBuilds(mirror.namespace, name, version);
    if (found.length === 0) return notFound(`provider ${address} version ${version}`);
    const refusal = yankRefusal(found[0]!, lifecyclePolicy(ctx));
    const builds = found.filter((v) => !yankRefusal(v, lifecyclePolicy(ctx)));
    if (builds.length === 0) return errorResponse(404, `provider ${address} ${refusal}`);
    const expires = ctx.urls.expiresAt();
    const memoKey = `${mirror.namespace}/${name}/${version}/${expires}/${builds.map((v) => `${v.metadata.name}@${v.metadata.resourceVersion}:${v.status!.checksum}:${v.status!.h1}`).sort().join(",")}`;
    const memoised = memo.get(memoKey);
    if (memoised) return jsonText(memoised);
    const archives: Record<string, { url: string; hashes: string[] }> = {};
    for (const v of [...builds].sort((a, b) => `${a.spec.operatingSystem}_${a.spec.architecture}`.localeCompare(`${b.spec.operatingSystem}_${b.spec.architecture}`))) {
      archives[`${v.spec.operatingSystem}_${v.spec.architecture}`] = { url: signedZipUrl(ctx, mirror.namespace, name, v, expires), hashes: [v.status!.h1!] };
    }
    const body = JSON.stringify({ archives });
    memo.set(memoKey, body);
    return jsonText(body);
  });
}
