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
import type { MirrorConfig, ServerContext } from "./context.ts";
import { MirrorAnswers, mirrorAddressOf, mirrorAnswersFor } from "./mirror-answers.ts";

export const MIRROR_PREFIX = "/opendepot/mirror/v1";
export { DEFAULT_MIRROR_HOSTNAMES, mirrorConfig } from "./mirror-config.ts";

/** The mirror as an Elysia plugin: parse the address (400/404), then the shared answers. */
export function mirrorRoutes(ctx: ServerContext, mirror: MirrorConfig) {
  const answers = ctx.mirror === mirror ? mirrorAnswersFor(ctx)! : new MirrorAnswers(ctx, mirror);
  return new Elysia().get(`${MIRROR_PREFIX}/:hostname/:namespace/:type/:file`, ({ params, request }) => answers.answer(request, mirrorAddressOf(params as Record<string, string>)));
}
