// The Kubernetes-identity modes of v0.9 (§5.3), made safe:
// - bearer-token mode: the caller's token is authenticated with TokenReview and the request authorised with a
//   SubjectAccessReview (`get` on the module/provider in the requested namespace);
// - kubeconfig mode (v0.9's default): the bearer value is a base64 kubeconfig. Only the token inside it is used,
//   exactly like bearer-token mode. The server never runs exec plugins or auth-provider helpers and never contacts
//   the server URL written in a client's kubeconfig (v0.9 did both: RCE/SSRF, §12 item 20); anything other than a
//   plain token is refused with 401, and so is a kubeconfig naming a server other than the ones this registry
//   trusts (its own Kubernetes API, plus --kubeconfig-allowed-servers): its token was not issued for our cluster.
import { createHash } from "node:crypto";
import type { Logger } from "../log.ts";
import { runtime } from "../runtime/index.ts";
import { attributesFor, type KubernetesTokenAuthorizer } from "./auth/kubernetes.ts";
import { forbidden, unauthorized, unavailable } from "./auth/responses.ts";
import type { Gatekeeper, RegistryTarget } from "./context.ts";
import { BoundedMemo } from "./http.ts";
import { shapeProblem } from "../store/document-shape.ts";

export type KubeAuthMode = "bearer-token" | "kubeconfig";

/** A kubeconfig with a token and a CA is a few KiB; base64 adds a third. */
const MAX_CREDENTIAL = 16 * 1024;
/** A YAML anchor or alias: a kubeconfig never needs one, and aliases are how a small document gets expensive. */
const YAML_ANCHOR_OR_ALIAS = /(^|[\s[\]{},:-])[&*][^\s[\]{},]/m;
const NEGATIVE_TTL_MS = 30_000;

const normalizeServer = (url: string) => {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.hostname.toLowerCase()}:${u.port || (u.protocol === "https:" ? "443" : "80")}${u.pathname.replace(/\/+$/, "")}`;
  } catch {
    return undefined;
  }
};

/** The token a base64 kubeconfig carries, or why it is refused. Nothing in it is executed or contacted. */
export function tokenFromKubeconfig(encoded: string, allowedServers: string[] = []): { token: string } | { error: string } {
  if (encoded.length > MAX_CREDENTIAL) return { error: "kubeconfig credential is too large" };
  let doc: Record<string, unknown> | null;
  const text = Buffer.from(encoded, "base64").toString("utf8");
  if (YAML_ANCHOR_OR_ALIAS.test(text)) return { error: "kubeconfig credentials with YAML anchors or aliases are not accepted" };
  try {
    doc = runtime.parseYaml(text) as Record<string, unknown> | null;
  } catch {
    return { error: "credential is not a base64-encoded kubeconfig" };
  }
  if (shapeProblem(doc, { maxNodes: 10_000, maxDepth: 16, maxAliases: 0 })) return { error: "credential is not a base64-encoded kubeconfig" };
  if (!doc || typeof doc !== "object" || !Array.isArray(doc.users)) return { error: "credential is not a base64-encoded kubeconfig" };
  const contexts = Array.isArray(doc.contexts) ? (doc.contexts as { name?: string; context?: { user?: string; cluster?: string } }[]) : [];
  const context = contexts.find((c) => c?.name === doc["current-context"])?.context;
  const current = context?.user;
  const clusters = Array.isArray(doc.clusters) ? (doc.clusters as { name?: string; cluster?: { server?: unknown } }[]) : [];
  const server = clusters.find((c) => c?.name === context?.cluster)?.cluster?.server ?? (clusters.length === 1 ? clusters[0]?.cluster?.server : undefined);
  if (server !== undefined) {
    const allowed = new Set(allowedServers.map(normalizeServer));
    if (typeof server !== "string" || !allowed.has(normalizeServer(server))) return { error: "kubeconfig names a Kubernetes API server this registry does not trust" };
  }
  const users = doc.users as { name?: string; user?: Record<string, unknown> }[];
  const entry = current ? users.find((u) => u?.name === current) : users.length === 1 ? users[0] : undefined;
  const user = entry?.user;
  if (!user || typeof user !== "object") return { error: "kubeconfig has no user for its current context" };
  const allowed = new Set(["token"]);
  const extra = Object.keys(user).filter((k) => !allowed.has(k));
  if (extra.length) return { error: `kubeconfig credentials other than a token are not accepted (found ${extra.slice(0, 3).join(", ")})` };
  if (typeof user.token !== "string" || !user.token) return { error: "kubeconfig user has no token" };
  return { token: user.token };
}

/** All an anonymous caller learns about a refused token. */
export const INVALID_TOKEN = "invalid or expired token";

export class KubernetesGatekeeper implements Gatekeeper {
  /** Refused kubeconfig credentials, by hash, for a short while: a repeated bad value costs a lookup, not a parse. */
  private readonly refused = new BoundedMemo<{ error: string; until: number }>(4096);

  constructor(
    private readonly mode: KubeAuthMode,
    private readonly authorizer: KubernetesTokenAuthorizer,
    private readonly log: Logger,
    /** API server URLs a caller's kubeconfig may name (kubeconfig mode); ours first. */
    private readonly allowedServers: string[] = [],
  ) {}

  async authorize(request: Request, target: RegistryTarget): Promise<Response | undefined> {
    const header = request.headers.get("authorization");
    if (!header) return unauthorized("missing Authorization header", false);
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m) return unauthorized("expected a bearer token", true);
    let token = m[1]!;
    if (this.mode === "kubeconfig") {
      const key = createHash("sha256").update(token).digest("base64");
      const remembered = this.refused.get(key);
      const known = remembered && remembered.until > Date.now() ? remembered : undefined;
      const parsed = known ? { error: known.error } : tokenFromKubeconfig(token, this.allowedServers);
      if ("error" in parsed) {
        if (!known) this.refused.set(key, { error: parsed.error, until: Date.now() + NEGATIVE_TTL_MS });
        this.log.warn("access denied", { reason: parsed.error, ...target });
        return unauthorized(parsed.error, true);
      }
      token = parsed.token;
    }
    let decision;
    try {
      decision = await this.authorizer.review(token, attributesFor(target));
    } catch (error) {
      this.log.error("Kubernetes authorization unavailable", { error, ...target });
      return unavailable("authorization service unavailable");
    }
    if (decision.outcome === "unauthenticated") {
      // The API server's reason (e.g. `serviceaccounts "reader" not found`) goes to the log, never to the caller.
      this.log.warn("access denied", { reason: decision.reason, ...target });
      return unauthorized(INVALID_TOKEN, true);
    }
    if (decision.outcome === "denied") {
      this.log.warn("access denied", { subject: decision.user, reason: decision.reason, ...target });
      return forbidden(decision.reason);
    }
    this.log.debug("access allowed", { subject: decision.user, ...target });
    return undefined;
  }
}
