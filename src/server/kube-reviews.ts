// KubernetesTokenAuthorizer against the Kubernetes API: TokenReview authenticates the caller's token,
// SubjectAccessReview asks whether that user may `get` the module or provider. Decisions are cached for a few
// seconds (keyed by a hash of the token, never the token) so a `terraform init` burst costs two API calls, not
// two per request. API failures are errors (→ 503), never denials. The server does not hold a Kubernetes client:
// the role hands it one function that creates a review object (a POST to the API server) and returns the answer.
import { createHash } from "node:crypto";
import type { KubernetesDecision, KubernetesTokenAuthorizer, ResourceAttributes } from "./auth/kubernetes.ts";
import { BoundedMemo } from "./http.ts";

interface TokenReviewStatus {
  authenticated?: boolean;
  user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
  error?: string;
}

/** Creates a TokenReview or SubjectAccessReview at `path` and resolves with the API server's answer; throws on API failures. */
export type CreateReview = <T>(path: string, review: object) => Promise<T>;

export class KubeTokenReviewer implements KubernetesTokenAuthorizer {
  private readonly cache = new BoundedMemo<{ at: number; decision: KubernetesDecision }>(10_000);

  constructor(
    private readonly createReview: CreateReview,
    private readonly ttlMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  async review(token: string, attributes: ResourceAttributes): Promise<KubernetesDecision> {
    const key = `${createHash("sha256").update(token).digest("base64url")}|${attributes.resource}|${attributes.namespace}|${attributes.name}`;
    const hit = this.cache.get(key);
    if (hit && this.now() - hit.at < this.ttlMs) return hit.decision;
    const decision = await this.decide(token, attributes);
    this.cache.set(key, { at: this.now(), decision });
    return decision;
  }

  private async decide(token: string, a: ResourceAttributes): Promise<KubernetesDecision> {
    const review = await this.createReview<{ status?: TokenReviewStatus }>("/apis/authentication.k8s.io/v1/tokenreviews", {
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenReview",
      spec: { token },
    });
    const status = review.status ?? {};
    if (!status.authenticated || !status.user?.username) return { outcome: "unauthenticated", reason: status.error ? `token rejected: ${status.error}` : "token not recognised by Kubernetes" };
    const user = { ...status.user, username: status.user.username };
    const sar = await this.createReview<{ status?: { allowed?: boolean; denied?: boolean; reason?: string } }>("/apis/authorization.k8s.io/v1/subjectaccessreviews", {
      apiVersion: "authorization.k8s.io/v1",
      kind: "SubjectAccessReview",
      spec: {
        user: user.username,
        uid: user.uid,
        groups: user.groups ?? [],
        extra: user.extra,
        resourceAttributes: { group: a.group, resource: a.resource, verb: a.verb, namespace: a.namespace, name: a.name },
      },
    });
    if (sar.status?.allowed === true && sar.status.denied !== true) return { outcome: "allowed", user: user.username };
    return { outcome: "denied", user: user.username, reason: sar.status?.reason || `${user.username} may not get ${a.resource} "${a.name}" in namespace ${a.namespace}` };
  }
}
