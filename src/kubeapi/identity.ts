// Who a bearer token belongs to. Three sources, checked in order:
//   1. the admin token of the process → `opendepot:admin` in group `system:masters` (allowed everything);
//   2. user tokens: Secrets of type `opendepot.defdev.io/user-token` in the system namespace, with data keys
//      `token`, `username` (default: the Secret's name), `groups` (comma-separated) and `audiences` (optional,
//      comma-separated: the token is then valid only for those, like a projected service-account token);
//   3. service-account tokens: Secrets of type `kubernetes.io/service-account-token` in any namespace, annotated
//      `kubernetes.io/service-account.name: <sa>` → `system:serviceaccount:<ns>:<sa>` in the groups
//      `system:serviceaccounts` and `system:serviceaccounts:<ns>` (data.token is filled in on create when absent).
// Every authenticated identity is also in `system:authenticated`. Tokens shorter than 16 characters never match.
// Write access to the system namespace therefore amounts to admin rights (as RBAC write access does in Kubernetes).
import { createHash, timingSafeEqual } from "node:crypto";
import { Secret } from "../api/kinds.ts";
import type { KubeObject } from "../api/meta.ts";
import type { ResourceStore } from "../store/types.ts";
import { SERVICE_ACCOUNT_NAME_ANNOTATION, SERVICE_ACCOUNT_TOKEN_TYPE, fromBase64 } from "./core-kinds.ts";

export const SYSTEM_NAMESPACE = "opendepot-system";
export const USER_TOKEN_TYPE = "opendepot.defdev.io/user-token";
export const ADMIN_USER = "opendepot:admin";
export const MASTERS_GROUP = "system:masters";
export const AUTHENTICATED_GROUP = "system:authenticated";
const MIN_TOKEN_LENGTH = 16;

export interface UserInfo {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
  /**
   * Audiences the token is bound to (a user token's `audiences` key, like a projected service-account token's
   * `aud`); absent: audience-agnostic, valid for the API server's own audiences only, as legacy tokens are.
   */
  audiences?: string[];
}

const digest = (token: string) => createHash("sha256").update(token).digest();

export class TokenAuthenticator {
  private readonly adminDigest: Buffer;

  constructor(
    private readonly store: ResourceStore,
    adminToken: string,
  ) {
    if (adminToken.length < MIN_TOKEN_LENGTH) throw new Error(`the admin token must be at least ${MIN_TOKEN_LENGTH} characters`);
    this.adminDigest = digest(adminToken);
  }

  /** The identity of `token`, or undefined when it matches nothing. */
  async authenticate(token: string): Promise<UserInfo | undefined> {
    if (token.length < MIN_TOKEN_LENGTH || token.length > 8192) return undefined;
    const d = digest(token);
    if (timingSafeEqual(d, this.adminDigest)) return { username: ADMIN_USER, uid: ADMIN_USER, groups: [MASTERS_GROUP, AUTHENTICATED_GROUP] };
    const { items } = await this.store.list<KubeObject>(Secret, {});
    let found: UserInfo | undefined;
    // Every candidate is compared, so the time taken does not depend on which Secret matched.
    for (const secret of items) {
      const who = identityOf(secret);
      if (!who) continue;
      const data = secret.data as Record<string, unknown> | undefined;
      const stored = typeof data?.token === "string" ? fromBase64(data.token).trim() : "";
      if (stored.length >= MIN_TOKEN_LENGTH && timingSafeEqual(digest(stored), d) && !found) found = who;
    }
    return found;
  }
}

/** The identity a token Secret stands for, or undefined when the Secret is not a (live) token Secret. */
function identityOf(secret: KubeObject): UserInfo | undefined {
  if (secret.metadata.deletionTimestamp) return undefined;
  const data = (secret.data ?? {}) as Record<string, unknown>;
  const text = (k: string) => (typeof data[k] === "string" ? fromBase64(data[k] as string).trim() : "");
  if (secret.type === USER_TOKEN_TYPE && secret.metadata.namespace === SYSTEM_NAMESPACE) {
    const groups = text("groups")
      .split(",")
      .map((g) => g.trim())
      .filter((g) => g);
    const audiences = text("audiences").split(",").map((a) => a.trim()).filter(Boolean);
    return { username: text("username") || secret.metadata.name, uid: secret.metadata.uid, groups: [...new Set([...groups, AUTHENTICATED_GROUP])], ...(audiences.length ? { audiences } : {}) };
  }
  if (secret.type === SERVICE_ACCOUNT_TOKEN_TYPE) {
    const sa = secret.metadata.annotations?.[SERVICE_ACCOUNT_NAME_ANNOTATION];
    const ns = secret.metadata.namespace ?? "default";
    if (!sa) return undefined;
    return {
      username: `system:serviceaccount:${ns}:${sa}`,
      uid: secret.metadata.uid,
      groups: ["system:serviceaccounts", `system:serviceaccounts:${ns}`, AUTHENTICATED_GROUP],
    };
  }
  return undefined;
}

/** `Authorization: Bearer <token>` → the token, or undefined. */
export function bearerToken(request: Request): string | undefined {
  const header = request.headers.get("authorization");
  const m = header && /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1] : undefined;
}
