// The seam to Kubernetes for bearer tokens the OIDC issuer did not sign (ServiceAccount tokens, with
// --oidc-allow-sa-fallback): authenticate the token with a TokenReview, then ask a SubjectAccessReview whether
// that user may `get` the module or provider. Implemented against the Kubernetes API elsewhere (with a
// short-lived decision cache, per ARCHITECTURE.md); the gatekeeper only needs this interface.
import type { RegistryTarget } from "../context.ts";

export const API_GROUP = "opendepot.defdev.io";

/** What the SubjectAccessReview asks about. */
export interface ResourceAttributes {
  group: typeof API_GROUP;
  resource: "modules" | "providers";
  verb: "get";
  namespace: string;
  name: string;
}

export type KubernetesDecision =
  | { outcome: "allowed"; user: string }
  | { outcome: "denied"; user: string; reason: string }
  | { outcome: "unauthenticated"; reason: string };

export interface KubernetesTokenAuthorizer {
  /** TokenReview + SubjectAccessReview. Throws when the Kubernetes API cannot be asked (→ 503, not a denial). */
  review(token: string, attributes: ResourceAttributes): Promise<KubernetesDecision>;
}

export function attributesFor(target: RegistryTarget): ResourceAttributes {
  return { group: API_GROUP, resource: target.kind === "module" ? "modules" : "providers", verb: "get", namespace: target.namespace, name: target.name };
}
