// The browse API (/opendepot/ui/v1, read-only JSON) as an Elysia plugin: each route resolves the viewer, checks
// its query, and asks the read model. Invisible and missing resources both answer 404 "not found".
import { Elysia } from "elysia";
import { errorResponse, json } from "../http.ts";
import type { BrowseCatalog } from "./catalog.ts";
import { Query, resourcePath } from "./query.ts";
import { SEVERITIES, SORT_KEYS, type BrowseReadModel } from "./read-model.ts";
import { Visibility, type BrowseAuth } from "./viewer.ts";

export const BROWSE_PREFIX = "/opendepot/ui/v1";

export interface BrowseDeps {
  model: BrowseReadModel;
  catalog: BrowseCatalog;
  auth: BrowseAuth;
}

const HEADERS = { "cache-control": "private, no-cache", vary: "Authorization" };
const ok = (body: unknown) => json(body, 200, HEADERS);
const notFound = () => errorResponse(404, "not found", HEADERS);

export function browseRoutes(deps: BrowseDeps) {
  const { model, catalog, auth } = deps;

  /** The request's visibility, or the 401 to answer. */
  const visibility = async (request: Request, q: Query): Promise<Visibility | Response> => {
    const publicOnly = q.bool("public_only") === true;
    const viewer = await auth.viewerOf(request);
    if (viewer instanceof Response) return viewer;
    return new Visibility(viewer, (ns) => catalog.isNamespacePublic(ns), auth.bindings, publicOnly);
  };
  const queryOf = (request: Request) => new Query(new URL(request.url).searchParams);

  return new Elysia({ name: "opendepot-browse" })
    .get(`${BROWSE_PREFIX}/namespaces`, async ({ request }) => {
      const q = queryOf(request);
      const vis = await visibility(request, q);
      return vis instanceof Response ? vis : ok(model.namespaces(vis));
    })
    .get(`${BROWSE_PREFIX}/resources`, async ({ request }) => {
      const q = queryOf(request);
      const filters = {
        namespaces: q.namespaces(),
        kind: q.kind(),
        q: q.text("q"),
        synced: q.bool("synced"),
        os: q.platform("os"),
        arch: q.platform("arch"),
        severity: q.choice("severity", SEVERITIES),
        sortBy: q.choice("sort_by", SORT_KEYS, "name"),
        sortDir: q.choice("sort_dir", ["asc", "desc"] as const, "asc"),
        ...q.page(),
      };
      const vis = await visibility(request, q);
      return vis instanceof Response ? vis : ok(model.resources(vis, filters));
    })
    .get(`${BROWSE_PREFIX}/resources/:namespace/:kind/:name`, async ({ request, params }) => {
      const { namespace, kind, name } = resourcePath(params);
      const q = queryOf(request);
      const version = q.version("version");
      const days = q.days(30);
      const vis = await visibility(request, q);
      if (vis instanceof Response) return vis;
      if (version && kind !== "module") return errorResponse(400, "version selects a module's documentation; providers have none", HEADERS);
      const detail = model.detail(vis, kind, namespace, name, { version, days });
      if (detail === "no-such-version") return errorResponse(404, `version ${version} not found`, HEADERS);
      return detail ? ok(detail) : notFound();
    })
    .get(`${BROWSE_PREFIX}/resources/:namespace/:kind/:name/versions`, async ({ request, params }) => {
      const { namespace, kind, name } = resourcePath(params);
      const q = queryOf(request);
      const filters = {
        q: q.text("q", 128),
        synced: q.choice("synced", ["true", "false", "progressing"] as const),
        os: q.platform("os"),
        arch: q.platform("arch"),
        ...q.page(),
      };
      const vis = await visibility(request, q);
      if (vis instanceof Response) return vis;
      const page = model.versions(vis, kind, namespace, name, filters);
      return page ? ok(page) : notFound();
    })
    .get(`${BROWSE_PREFIX}/resources/:namespace/:kind/:name/scan-findings`, async ({ request, params }) => {
      const { namespace, kind, name } = resourcePath(params);
      const q = queryOf(request);
      const options = { version: q.version("version"), binaryVersion: q.version("binaryVersion") };
      const vis = await visibility(request, q);
      if (vis instanceof Response) return vis;
      const findings = model.scanFindings(vis, kind, namespace, name, options);
      return findings ? ok(findings) : notFound();
    })
    .get(`${BROWSE_PREFIX}/depots`, async ({ request }) => {
      const q = queryOf(request);
      const ns = q.namespace();
      const vis = await visibility(request, q);
      return vis instanceof Response ? vis : ok(model.depots(vis, ns));
    })
    .get(`${BROWSE_PREFIX}/depots/graph`, async ({ request }) => {
      const q = queryOf(request);
      const ns = q.namespace();
      const vis = await visibility(request, q);
      return vis instanceof Response ? vis : ok(model.graph(vis, ns));
    })
    .get(`${BROWSE_PREFIX}/stats`, async ({ request }) => {
      const q = queryOf(request);
      const ns = q.namespace();
      const days = q.days(30);
      const vis = await visibility(request, q);
      return vis instanceof Response ? vis : ok(model.registryStats(vis, ns, days));
    });
}
