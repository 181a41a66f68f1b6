// Local verification of the issuer's JWTs: signature against the issuer's JWKS, an algorithm allow-list
// (asymmetric only: never `none`, never HMAC, whose "secret" would be the public key), issuer, audience,
// expiry and not-before with a configured clock skew, and a subject. Tokens for the login client (or an extra
// audience) are users whose groups come from the groups claim; with client credentials enabled, tokens from the
// same issuer for another audience are machines, in the virtual group `client:<sub>`. Verified tokens are
// remembered until they expire (at most 4,096 of up to 4 KiB each) so a CLI's burst of requests costs one
// signature check; the memo is keyed by the whole token, so a hit is an exact match, never a hash collision.
import type { JWTPayload, JWSAlgorithm } from "jose";
import { BoundedMemo } from "../http.ts";
import { loadJose, loadedJose, type JwksCache } from "./jwks.ts";

export const ALLOWED_ALGORITHMS: JWSAlgorithm[] = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA", "Ed25519"];
/** More groups than this, or longer ones, and we refuse to decide (truncating could skip a deny rule). */
export const MAX_GROUPS = 1000;
export const MAX_GROUP_LENGTH = 1024;
/** RFC 6750 b64token. */
export const TOKEN_SYNTAX = /^[A-Za-z0-9\-._~+/]+=*$/;
/** Tokens up to this size are remembered once verified (bigger ones are verified every time). */
const MEMO_MAX_TOKEN_LENGTH = 4096;

export interface Principal {
  kind: "user" | "client";
  subject: string;
  groups: string[];
  /** Set when the groups claim cannot be used as is (too many, too long); access is then refused. */
  groupsProblem?: string;
}

export interface OidcVerifierOptions {
  issuer: string;
  clientId: string;
  extraAudiences?: string[];
  groupsClaim?: string;
  clockSkewSeconds?: number;
  clientCredentials?: {
    enabled: boolean;
    /** Audiences accepted as machine tokens; empty = any audience from the issuer (v0.9's behaviour). */
    audiences?: string[];
  };
  now?: () => number;
}

/** Why a token was refused. `reason` is safe to log and to return; it never contains the token. */
export class TokenRejected extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

interface Remembered {
  principal: Principal;
  exp: number;
  nbf: number;
  generation: number;
}

export class OidcVerifier {
  private readonly userAudiences: string[];
  private readonly memo = new BoundedMemo<Remembered>(4096);
  private readonly now: () => number;

  constructor(
    private readonly options: OidcVerifierOptions,
    private readonly jwks: JwksCache,
  ) {
    this.userAudiences = [options.clientId, ...(options.extraAudiences ?? [])];
    this.now = options.now ?? Date.now;
  }

  /** True when the token's (unverified) `iss` is our issuer; decides whether SA fallback may take it. */
  claimsOurIssuer(token: string): boolean {
    // Synchronous: jose was loaded by the JwksCache this verifier is built on (its load() comes first).
    const { decodeJwt } = loadedJose();
    try {
      return decodeJwt(token).iss === this.options.issuer;
    } catch {
      return false;
    }
  }

  /**
   * The principal of a token verified before that is still valid now (same keys, within exp/nbf and the skew),
   * found by a lookup alone; undefined when the token must be verified.
   */
  remembered(token: string): Principal | undefined {
    const hit = this.memo.get(token);
    if (!hit || hit.generation !== this.jwks.generation) return undefined;
    const nowSeconds = this.now() / 1000;
    const skew = this.options.clockSkewSeconds ?? 30;
    return nowSeconds < hit.exp + skew && nowSeconds >= hit.nbf - skew ? hit.principal : undefined;
  }

  async verify(token: string): Promise<Principal> {
    const remembered = this.remembered(token);
    if (remembered) return remembered;

    if (!TOKEN_SYNTAX.test(token)) throw new TokenRejected("malformed token");
    const { payload, principal } = await this.verifyFresh(token);
    if (token.length <= MEMO_MAX_TOKEN_LENGTH) this.memo.set(token, { principal, exp: payload.exp!, nbf: payload.nbf ?? -Infinity, generation: this.jwks.generation });
    return principal;
  }

  private async verifyFresh(token: string): Promise<{ payload: JWTPayload; principal: Principal }> {
    const { decodeJwt, decodeProtectedHeader, jwtVerify, errors } = await loadJose();
    let alg: string | undefined;
    let claims: JWTPayload;
    try {
      alg = decodeProtectedHeader(token).alg;
      claims = decodeJwt(token);
    } catch {
      throw new TokenRejected("malformed token");
    }
    if (!alg || !(ALLOWED_ALGORITHMS as string[]).includes(alg)) throw new TokenRejected(`signing algorithm ${JSON.stringify(alg ?? "")} is not allowed`);
    if (claims.iss !== this.options.issuer) throw new TokenRejected("token was not issued by the configured OIDC issuer");

    const audiences = typeof claims.aud === "string" ? [claims.aud] : Array.isArray(claims.aud) ? claims.aud : [];
    const forUsers = audiences.some((a) => this.userAudiences.includes(a));
    const cc = this.options.clientCredentials;
    const ccAudiences = cc?.audiences ?? [];
    const forMachines = !forUsers && cc?.enabled === true && (ccAudiences.length === 0 || audiences.some((a) => ccAudiences.includes(a)));
    if (!forUsers && !forMachines) throw new TokenRejected("token was issued for another audience");

    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.jwks.resolve, {
        issuer: this.options.issuer,
        audience: forUsers ? this.userAudiences : ccAudiences.length ? ccAudiences : undefined,
        algorithms: ALLOWED_ALGORITHMS,
        clockTolerance: this.options.clockSkewSeconds ?? 30,
        requiredClaims: ["exp", "sub"],
        currentDate: new Date(this.now()),
      }));
    } catch (e) {
      throw new TokenRejected(describeJoseError(errors, e));
    }
    if (typeof payload.sub !== "string" || payload.sub === "") throw new TokenRejected("token has no subject");
    if (forMachines) return { payload, principal: { kind: "client", subject: payload.sub, groups: [`client:${payload.sub}`] } };
    return { payload, principal: { kind: "user", subject: payload.sub, ...this.groupsOf(payload) } };
  }

  /** The groups claim: an array of strings, or a single string (some IdPs send one group that way). */
  private groupsOf(payload: JWTPayload): { groups: string[]; groupsProblem?: string } {
    const raw = payload[this.options.groupsClaim ?? "groups"];
    const groups = typeof raw === "string" ? [raw] : Array.isArray(raw) ? raw.filter((g): g is string => typeof g === "string") : [];
    if (groups.length > MAX_GROUPS) return { groups: [], groupsProblem: `token carries ${groups.length} groups (more than ${MAX_GROUPS})` };
    if (groups.some((g) => g.length > MAX_GROUP_LENGTH)) return { groups: [], groupsProblem: `token carries a group name longer than ${MAX_GROUP_LENGTH} characters` };
    // Control characters have no place in a group name and are how cache keys and log lines get confused.
    if (groups.some(hasControlCharacter)) return { groups: [], groupsProblem: "token carries a group name with control characters" };
    return { groups };
  }
}

// eslint-disable-next-line no-control-regex
export const hasControlCharacter = (s: string) => /[\u0000-\u001f\u007f-\u009f]/.test(s);

function describeJoseError(errors: typeof import("jose").errors, e: unknown): string {
  if (e instanceof errors.JWTExpired) return "token has expired";
  if (e instanceof errors.JWTClaimValidationFailed) {
    if (e.claim === "nbf") return "token is not valid yet";
    if (e.claim === "aud") return "token was issued for another audience";
    if (e.claim === "iss") return "token was not issued by the configured OIDC issuer";
    return `token claim ${e.claim} is invalid`;
  }
  if (e instanceof errors.JWKSNoMatchingKey || e instanceof errors.JWKSMultipleMatchingKeys) return "token is signed by an unknown key";
  if (e instanceof errors.JWSSignatureVerificationFailed) return "token signature is invalid";
  if (e instanceof errors.JOSEAlgNotAllowed) return "token signing algorithm is not allowed";
  if (e instanceof errors.JOSEError) return "token is invalid";
  return "token could not be verified";
}
