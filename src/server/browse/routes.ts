// The browse API (/opendepot/ui/v1, read-only JSON) as an Elysia plugin: each route resolves the viewer, checks
// its query, and asks the read model. Invisible and missing resources both answer 404 "not found".
import { Elysia } from "elysia";
import { BoundedMemo, errorResponse, json, jsonText } from "../http.ts";
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
  // Serialised answers per caller and URL, until anything they depend on changes (the UI asks the same pages
  // again and again). Callers with too many groups to key on are answered fresh.
  const bodies = new BoundedMemo<{ generation: string; text: string | undefined }>(500);
  const cached = (request: Request, vis: Visibility, compute: () => unknown): Response => {
    const url = new URL(request.url);
    const key = vis.cacheKey === undefined ? undefined : `${url.pathname}${url.search}|${vis.cacheKey}`;
    const generation = model.generationFor(vis);
    const hit = key === undefined ? undefined : bodies.get(key);
    let text = hit && hit.generation === generation ? hit.text : undefined;
    if (!hit || hit.generation !== generation) {
      const body = compute();
      text = body === undefined ? undefined : JSON.stringify(body);
      if (key !== undefined) bodies.set(key, { generation, text });
    }
    return text === undefined ? notFound() : jsonText(text, 200, HEADERS);
  };

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
      return vis instanceof Response ? vis : cached(request, vis, () => model.namespaces(vis));
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
      return vis instanceof Response ? vis : cached(request, vis, () => model.resources(vis, filters));
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
      return cached(request, vis, () => model.versions(vis, kind, namespace, name, filters));
    })
    .get(`${BROWSE_PREFIX}/resources/:namespace/:kind/:name/scan-findings`, async ({ request, params }) => {
      const { namespace, kind, name } = resourcePath(params);
      const q = queryOf(request);
      const options = { version: q.version("version"), binaryVersion: q.version("binaryVersion") };
      const vis = await visibility(request, q);
      if (vis instanceof Response) return vis;
      return cached(request, vis, () => model.scanFindings(vis, kind, namespace, name, options));
    })
    .get(`${BROWSE_PREFIX}/depots`, async ({ request }) => {
      const q = queryOf(request);
      const ns = q.namespace();
      const vis = await visibility(request, q);
      return vis instanceof Response ? vis : cached(request, vis, () => model.depots(vis, ns));
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
      return vis instanceof Response ? vis : cached(request, vis, () => model.registryStats(vis, ns, days));
    });
}
