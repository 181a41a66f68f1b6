// The Kubernetes-compatible API in front of any ResourceStore: authentication (bearer tokens), authorization
// (rbac.ts), routing of discovery, OpenAPI and resource requests, and the mapping of every failure to a Status.
// A plain fetch handler (no framework): the API's routing and streaming follow Kubernetes, not a web framework.
import pkg from "../../package.json" with { type: "json" };
import { createLogger, type Logger } from "../log.ts";
import type { ServeContext } from "../runtime/index.ts";
import { parseSelector } from "../store/selector.ts";
import type { ResourceStore } from "../store/types.ts";
import { DEFAULT_MAX_BODY_BYTES, readObject } from "./body.ts";
import type { ApiDeps, Call } from "./call.ts";
import { CrdRegistry, watchCrds } from "./crds.ts";
import { apiGroupDoc, apiGroupList, apiResourceList, apiVersions, versionInfo } from "./discovery.ts";
import { AuthFailureThrottle, type ThrottleOptions } from "./auth-throttle.ts";
import { bearerToken, TokenAuthenticator, type UserInfo } from "./identity.ts";
import { NamespaceLifecycle } from "./namespaces.ts";
import { negotiate } from "./negotiate.ts";
import { openApiDocument, openApiRoot } from "./openapi.ts";
import { patchObject } from "./patch-request.ts";
import { parsePath } from "./paths.ts";
import { denialMessage, PolicyAuthorizer, type Attributes } from "./rbac.ts";
import { getObject, listObjects } from "./read.ts";
import { findResource } from "./resources.ts";
import { handleReview } from "./reviews.ts";
import { ApiError, badRequest, errorResponse, forbidden, jsonResponse, methodNotAllowed, pathNotFound, unauthorized } from "./status.ts";
import { watchObjects } from "./watch.ts";
import { createObject, deleteCollection, deleteObject, updateObject } from "./write.ts";

export interface KubeApiOptions {
  store: ResourceStore;
  /** The token of the built-in administrator (group system:masters). At least 16 characters. */
  adminToken: string;
  log?: Logger;
  maxBodyBytes?: number;
  /** Interval of BOOKMARK events on watches that allow them (default 60 s). */
  bookmarkIntervalMs?: number;
  /** Audiences a TokenReview reports when it names none. */
  audiences?: string[];
  maxWatches?: number;
  /** How long a deleted Namespace stays Terminating before its contents go (default 2 s). */
  namespaceGraceMs?: number;
  /** Prometheus text of the process at GET /metrics (authorised like kube-apiserver's: nonResourceURLs /metrics). */
  metrics?: () => Promise<Response>;
  /** Turn on the OwnerReferencesPermissionEnforcement admission plugin (as OpenShift does by default). */
  ownerReferencesPermissionEnforcement?: boolean;
  /** Rate limit of failed authentications per client address. */
  authThrottle?: ThrottleOptions;
}

export interface KubeApi {
  handle(request: Request, server?: ServeContext): Promise<Response>;
  readonly authenticator: TokenAuthenticator;
  readonly authorizer: PolicyAuthorizer;
  readonly maxBodyBytes: number;
  /** Stop background work (namespace deletions in progress resume on the next start). */
  close(): void;
}

const MAX_URL_LENGTH = 8192;

function safePath(url: string): string {
  try {
    return new URL(url).pathname.slice(0, 512);
  } catch {
    return url.slice(0, 512);
  }
}
const PUBLIC_PATHS = new Set(["/healthz", "/livez", "/readyz", "/version"]);

function verbOf(method: string, name: string | undefined, watch: boolean): string | undefined {
  switch (method) {
    case "GET":
      return watch ? "watch" : name ? "get" : "list";
    case "POST":
      return name ? undefined : "create";
    case "PUT":
      return name ? "update" : undefined;
    case "PATCH":
      return name ? "patch" : undefined;
    case "DELETE":
      return name ? "delete" : "deletecollection";
    default:
      return undefined;
  }
}

export function createKubeApi(options: KubeApiOptions): KubeApi {
  const log = options.log ?? createLogger({ fields: { component: "kubeapi" } });
  const deps: ApiDeps = {
    store: options.store,
    log,
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    bookmarkIntervalMs: options.bookmarkIntervalMs ?? 60_000,
    namespaces: new NamespaceLifecycle(options.store, log, options.namespaceGraceMs),
  };
  void deps.namespaces.resume().catch((e) => log.warn("could not resume namespace deletions", { error: e }));
  const maxWatches = options.maxWatches ?? 1024;
  const authenticator = new TokenAuthenticator(options.store, options.adminToken);
  const throttle = new AuthFailureThrottle(options.authThrottle);
  const authorizer = new PolicyAuthorizer(options.store, log);
  const crds = new CrdRegistry();
  const reviewDeps = { authenticator, authorizer, audiences: options.audiences ?? ["https://kubernetes.default.svc"] };
  if (options.ownerReferencesPermissionEnforcement) deps.ownerReferencesAuthorize = async (call, attrs) => (await authorizer.authorize(call.user, attrs)).allowed;

  async function authorize(user: UserInfo, attrs: Attributes, deny: () => ApiError): Promise<void> {
    const decision = await authorizer.authorize(user, attrs);
    if (!decision.allowed) throw deny();
  }

  async function nonResource(request: Request, url: URL, path: string, user: UserInfo): Promise<Response> {
    if (request.method !== "GET") throw methodNotAllowed();
    const attrs: Attributes = { nonResource: { verb: "get", path } };
    await authorize(user, attrs, () => forbidden(undefined, undefined, denialMessage(user, attrs)));
    if (path === "/metrics" && options.metrics) return options.metrics();
    const parts = path.split("/").filter(Boolean);
    let body: unknown;
    if (path === "/api") body = apiVersions(url.host);
    else if (parts[0] === "api" && parts.length === 2) body = apiResourceList("", parts[1]!);
    else if (path === "/apis") body = apiGroupList();
    else if (parts[0] === "apis" && parts.length === 2) body = apiGroupDoc(parts[1]!);
    else if (parts[0] === "apis" && parts.length === 3) body = apiResourceList(parts[1]!, parts[2]!);
    else if (path === "/openapi/v3") body = openApiRoot(pkg.version);
    else if (path.startsWith("/openapi/v3/")) {
      const doc = openApiDocument(path, pkg.version);
      if (doc) return new Response(doc, { headers: { "content-type": "application/json", "cache-control": "public, immutable" } });
    }
    if (body === undefined) throw pathNotFound();
    return jsonResponse(body);
  }

  async function resource(request: Request, url: URL, user: UserInfo, server?: ServeContext): Promise<Response> {
    const target = parsePath(url.pathname);
    if (!target) throw pathNotFound();
    if (target.type === "nonResource") return nonResource(request, url, target.path, user);
    const r = findResource(target.group, target.version, target.resource);
    if (!r) throw pathNotFound();
    const { namespace, name, subresource } = target;
    if (!r.namespaced && namespace !== undefined) throw pathNotFound();
    if (subresource !== undefined && (!r.subresources.includes(subresource) || !name)) throw pathNotFound();
    if (r.namespaced && namespace === undefined && name !== undefined) throw pathNotFound();
    const query = url.searchParams;
    const watchParam = query.get("watch");
    const watch = target.watchPath || watchParam === "true" || watchParam === "1";
    if (target.watchPath && request.method !== "GET") throw methodNotAllowed();
    const verb = verbOf(request.method, name, watch);
    if (!verb) throw methodNotAllowed();
    const allowed = subresource ? ["get", "update", "patch"] : r.verbs;
    if (!allowed.includes(verb)) throw methodNotAllowed();
    if (r.namespaced && namespace === undefined && verb !== "list" && verb !== "watch") throw methodNotAllowed();

    const attrs: Attributes = {
      resource: {
        verb,
        group: r.group,
        resource: r.resource,
        ...(subresource ? { subresource } : {}),
        ...((r.resource === "namespaces" ? name : namespace) ? { namespace: r.resource === "namespaces" ? name : namespace } : {}),
        ...(name ? { name } : {}),
      },
    };
    await authorize(user, attrs, () => forbidden(r, name, denialMessage(user, attrs)));
    if (verb === "list" || verb === "watch" || verb === "deletecollection") {
      try {
        parseSelector(query.get("labelSelector") ?? undefined);
      } catch (e) {
        throw badRequest((e as Error).message);
      }
    }
    const output = negotiate(request, query);
    const keepOpen = server ? () => server.keepOpen(request) : undefined;
    if (r.virtual === "crds") {
      const call = { request, query, r, namespace, name, user, output, deps, keepOpen };
      return verb === "watch" ? watchCrds(call, crds) : crds.handle(call, verb);
    }
    if (r.virtual) return handleReview(r, await readObject(request, deps.maxBodyBytes), user, reviewDeps);

    const call: Call = { request, query, r, d: r.descriptor!, namespace, name, subresource: subresource as "status" | undefined, user, output, deps, keepOpen };
    switch (verb) {
      case "get":
        return getObject(call);
      case "list":
        return listObjects(call);
      case "watch":
        return watchObjects(call, maxWatches);
      case "create":
        return createObject(call);
      case "update":
        return updateObject(call);
      case "patch":
        return patchObject(call);
      case "delete":
        return deleteObject(call);
      default:
        return deleteCollection(call);
    }
  }

  async function handle(request: Request, server?: ServeContext): Promise<Response> {
    const started = performance.now();
    let response: Response;
    let who = "";
    try {
      if (request.url.length > MAX_URL_LENGTH) throw new ApiError(414, "BadRequest", "the request URL is too long");
      let url: URL;
      try {
        url = new URL(request.url);
      } catch {
        // Without a usable Host header Bun's request.url is the bare target.
        throw badRequest("the request has no usable Host header or target");
      }
      if (PUBLIC_PATHS.has(url.pathname)) {
        // What the API server lets anyone read (system:public-info-viewer): liveness and the version.
        if (request.method !== "GET" && request.method !== "HEAD") throw methodNotAllowed();
        response = url.pathname === "/version" ? jsonResponse(versionInfo(pkg.version)) : new Response("ok", { headers: { "content-type": "text/plain" } });
      } else {
        // Calls handed in without a socket (in-process) have no address to throttle.
        const client = server?.remoteAddress(request);
        const wait = client ? throttle.retryAfter(client) : 0;
        if (wait > 0) throw new ApiError(429, "TooManyRequests", "too many failed authentications from this address, please try again later", { retryAfterSeconds: wait });
        const token = bearerToken(request);
        const found = token ? await authenticator.authenticate(token) : undefined;
        // A token bound to other audiences (say, the registry's) is no credential for this API.
        const user = found && (!found.audiences || found.audiences.some((a) => reviewDeps.audiences.includes(a))) ? found : undefined;
        if (!user) {
          if (client) throttle.failed(client);
          throw unauthorized();
        }
        who = user.username;
        response = await resource(request, url, user, server);
      }
    } catch (e) {
      response = errorResponse(e, (err) => log.error("kube API request failed", { method: request.method, path: request.url.slice(0, 512), error: err }));
    }
    const fields = { method: request.method, path: safePath(request.url), status: response.status, user: who, durationMs: Math.round((performance.now() - started) * 100) / 100 };
    if (response.status >= 500) log.warn("kube API request", fields);
    else log.debug("kube API request", fields);
    return response;
  }

  return { handle, authenticator, authorizer, maxBodyBytes: deps.maxBodyBytes, close: () => {
      deps.namespaces.stop();
      authenticator.close();
    },
  };
}
