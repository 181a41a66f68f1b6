// TokenReview, SubjectAccessReview and their self-service variants, with the request and response shapes of the
// real API server (authentication.k8s.io/v1, authorization.k8s.io/v1), so that code written against a cluster
// authenticates and authorizes against this API unchanged.
import type { FieldError } from "../api/validate.ts";
import { isPlainObject } from "../store/patch.ts";
import type { TokenAuthenticator, UserInfo } from "./identity.ts";
import type { Attributes, PolicyAuthorizer } from "./rbac.ts";
import { groupVersionOf, type ResourceInfo } from "./resources.ts";
import { badRequest, invalid, jsonResponse } from "./status.ts";

export interface ReviewDeps {
  authenticator: TokenAuthenticator;
  authorizer: PolicyAuthorizer;
  /** What a token is valid for when a TokenReview names no audiences. */
  audiences: string[];
}

type Json = Record<string, unknown>;

const str = (v: unknown) => (typeof v === "string" ? v : "");

function userInfoJson(u: UserInfo): Json {
  return { username: u.username, ...(u.uid ? { uid: u.uid } : {}), groups: u.groups, ...(u.extra ? { extra: u.extra } : {}) };
}

function reply(r: ResourceInfo, spec: unknown, status: Json): Response {
  return jsonResponse({ kind: r.kind, apiVersion: groupVersionOf(r), metadata: { creationTimestamp: null }, spec: spec ?? {}, status }, 201);
}

function checkType(r: ResourceInfo, body: Json): void {
  if (body.kind !== undefined && body.kind !== r.kind) throw badRequest(`the kind of the object (${String(body.kind).slice(0, 64)}) does not match ${r.kind}`);
  if (body.apiVersion !== undefined && body.apiVersion !== groupVersionOf(r)) {
    throw badRequest(`the apiVersion of the object (${String(body.apiVersion).slice(0, 64)}) does not match ${groupVersionOf(r)}`);
  }
}

/** spec.resourceAttributes / spec.nonResourceAttributes → attributes, or the API server's validation errors. */
function attributesOf(spec: Json, errors: FieldError[]): Attributes | undefined {
  const ra = spec.resourceAttributes;
  const nra = spec.nonResourceAttributes;
  if ((ra === undefined || ra === null) === (nra === undefined || nra === null)) {
    errors.push({ field: "spec.resourceAttributes", message: '"null": exactly one of nonResourceAttributes or resourceAttributes must be specified' });
    return undefined;
  }
  if (isPlainObject(ra)) {
    return {
      resource: {
        verb: str(ra.verb),
        group: str(ra.group),
        resource: str(ra.resource),
        ...(str(ra.subresource) ? { subresource: str(ra.subresource) } : {}),
        ...(str(ra.namespace) ? { namespace: str(ra.namespace) } : {}),
        ...(str(ra.name) ? { name: str(ra.name) } : {}),
      },
    };
  }
  if (isPlainObject(nra)) return { nonResource: { verb: str(nra.verb), path: str(nra.path) } };
  errors.push({ field: ra !== undefined ? "spec.resourceAttributes" : "spec.nonResourceAttributes", message: "must be an object" });
  return undefined;
}

async function decide(deps: ReviewDeps, user: UserInfo, attrs: Attributes): Promise<Json> {
  const d = await deps.authorizer.authorize(user, attrs);
  return { allowed: d.allowed, ...(d.reason ? { reason: d.reason } : {}), ...(d.evaluationError ? { evaluationError: d.evaluationError } : {}) };
}

export async function handleReview(r: ResourceInfo, body: Json, caller: UserInfo, deps: ReviewDeps): Promise<Response> {
  checkType(r, body);
  const spec = isPlainObject(body.spec) ? body.spec : {};
  switch (r.virtual) {
    case "tokenreviews": {
      const token = spec.token;
      if (typeof token !== "string" || !token) throw badRequest("token is required for TokenReview in authentication");
      const requested = Array.isArray(spec.audiences) ? spec.audiences.filter((a): a is string => typeof a === "string") : [];
      const user = await deps.authenticator.authenticate(token);
      if (!user) return reply(r, spec, { user: {} });
      // As the API server: a bound token is valid for its own audiences, an audience-agnostic (legacy) one for the
      // API server's; the answer lists the requested audiences it is valid for, and none means not authenticated.
      const valid = user.audiences ?? deps.audiences;
      const target = requested.length ? requested : deps.audiences;
      const granted = target.filter((a) => valid.includes(a));
      if (!granted.length) return reply(r, spec, { user: {}, error: `[invalid bearer token, token audiences ${JSON.stringify(valid)} is invalid for the target audiences ${JSON.stringify(target)}]` });
      return reply(r, spec, { authenticated: true, user: userInfoJson(user), audiences: granted });
    }
    case "selfsubjectreviews":
      return reply(r, undefined, { userInfo: userInfoJson(caller) });
    case "subjectaccessreviews": {
      const errors: FieldError[] = [];
      const attrs = attributesOf(spec, errors);
      const username = str(spec.user);
      const groups = Array.isArray(spec.groups) ? spec.groups.filter((g): g is string => typeof g === "string") : [];
      if (!username && !groups.length) errors.push({ field: "spec.user", message: '"": at least one of user or group must be specified' });
      if (errors.length || !attrs) throw invalid(r, "", errors);
      const extra = isPlainObject(spec.extra) ? (spec.extra as Record<string, string[]>) : undefined;
      const subject: UserInfo = { username, groups, ...(str(spec.uid) ? { uid: str(spec.uid) } : {}), ...(extra ? { extra } : {}) };
      return reply(r, spec, await decide(deps, subject, attrs));
    }
    case "selfsubjectaccessreviews": {
      const errors: FieldError[] = [];
      const attrs = attributesOf(spec, errors);
      if (errors.length || !attrs) throw invalid(r, "", errors);
      return reply(r, spec, await decide(deps, caller, attrs));
    }
    default:
      throw badRequest(`${r.resource} cannot be reviewed`);
  }
}
