// KubernetesTokenAuthorizer against the Kubernetes API: TokenReview authenticates the caller's token,
// SubjectAccessReview asks whether that user may `get` the module or provider. Decisions are cached for a few
// seconds (keyed by a hash of the token, never the token) so a `terraform init` burst costs two API calls, not
// two per request. API failures are errors (→ 503), never denials.
import { createHash } from "node:crypto";
import type { KubeClient } from "../store/kube/client.ts";
import type { KubernetesDecision, KubernetesTokenAuthorizer, ResourceAttributes } from "./auth/kubernetes.ts";
import { BoundedMemo } from "./http.ts";

interface TokenReviewStatus {
  authenticated?: boolean;
  audiences?: string[];
  user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
  error?: string;
}

/**
 * Which token audiences the registry accepts (`--token-audiences`): its own (the registry URL), so that clients
 * can hand it a token minted for the registry rather than one that also works against the Kubernetes API; and,
 * with `apiServer`, also tokens the API server accepts for its own audiences (compatibility with v0.9 clients).
 */
export interface TokenAudiences {
  audiences: string[];
  apiServer: boolean;
}

/** `--token-audiences`: a comma-separated list; `api-server` stands for the API server's own audiences. */
export function parseTokenAudiences(value: string | undefined, publicUrl: string | undefined): TokenAudiences {
  const items = (value ?? [publicUrl, "api-server"].filter(Boolean).join(",")).split(",").map((s) => s.trim()).filter(Boolean);
  const audiences = [...new Set(items.filter((a) => a !== "api-server"))];
  for (const a of audiences) if (a.length > 1024 || /[\s"]/.test(a)) throw new Error(`--token-audiences: invalid audience "${a.slice(0, 64)}"`);
  const apiServer = items.includes("api-server");
  if (!audiences.length && !apiServer) throw new Error("--token-audiences: name at least one audience (or api-server)");
  return { audiences, apiServer };
}

export class KubeTokenReviewer implements KubernetesTokenAuthorizer {
  private readonly cache = new BoundedMemo<{ at: number; decision: KubernetesDecision }>(10_000);

  constructor(
    private readonly client: KubeClient,
    private readonly ttlMs = 10_000,
    private readonly now: () => number = Date.now,
    private readonly tokenAudiences: TokenAudiences = { audiences: [], apiServer: true },
  ) {}

  /** One TokenReview; with `audiences`, the token must be valid for one of them (checked on the answer too). */
  private async tokenReview(token: string, audiences: string[] | undefined): Promise<TokenReviewStatus> {
    const review = await this.client.request<{ status?: TokenReviewStatus }>("POST", "/apis/authentication.k8s.io/v1/tokenreviews", {
      body: { apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", spec: { token, ...(audiences ? { audiences } : {}) } },
    });
    const status = review.status ?? {};
    // As client-go's webhook authenticator: an answer for none of the audiences asked for is no authentication.
    if (status.authenticated && audiences && !(status.audiences ?? []).some((a) => audiences.includes(a))) {
      return { authenticated: false, error: `token is valid for ${JSON.stringify(status.audiences ?? [])}, not for ${JSON.stringify(audiences)}` };
    }
    return status;
  }

  async review(token: string, attributes: ResourceAttributes): Promise<KubernetesDecision> {
    const key = `${createHash("sha256").update(token).digest("base64url")}|${attributes.resource}|${attributes.namespace}|${attributes.name}`;
    const hit = this.cache.get(key);
    if (hit && this.now() - hit.at < this.ttlMs) return hit.decision;
    const decision = await this.decide(token, attributes);
    this.cache.set(key, { at: this.now(), decision });
    return decision;
  }

  private async decide(token: string, a: ResourceAttributes): Promise<KubernetesDecision> {
    const { audiences, apiServer } = this.tokenAudiences;
    let status = audiences.length ? await this.tokenReview(token, audiences) : { authenticated: false };
    if (!status.authenticated && apiServer) status = await this.tokenReview(token, undefined);
    if (!status.authenticated || !status.user?.username) return { outcome: "unauthenticated", reason: status.error ? `token rejected: ${status.error}` : "token not recognised by Kubernetes" };
    const user = { ...status.user, username: status.user.username };
    const sar = await this.client.request<{ status?: { allowed?: boolean; denied?: boolean; reason?: string } }>("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", {
      body: {
        apiVersion: "authorization.k8s.io/v1",
        kind: "SubjectAccessReview",
        spec: {
          user: user.username,
          uid: user.uid,
          groups: user.groups ?? [],
          extra: user.extra,
          resourceAttributes: { group: a.group, resource: a.resource, verb: a.verb, namespace: a.namespace, name: a.name },
        },
      },
    });
    if (sar.status?.allowed === true && sar.status.denied !== true) return { outcome: "allowed", user: user.username };
    return { outcome: "denied", user: user.username, reason: sar.status?.reason || `${user.username} may not get ${a.resource} "${a.name}" in namespace ${a.namespace}` };
  }
}
