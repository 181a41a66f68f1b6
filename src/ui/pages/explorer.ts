// `/`: the Registry Explorer — filters (search, namespace, kind, sort), resource cards, pagination and the
// empty-state hint. `?fragment=results` renders only the results, for search-as-you-type.
import { Query } from "../../server/browse/query.ts";
import type { BrowseResource } from "../../server/browse/types.ts";
import type { BrowseDeps } from "../../server/browse/routes.ts";
import type { PageContext } from "../context.ts";
import { html, type Html } from "../html.ts";
import { page } from "../layout.ts";
import { formatNumber, kindLabel, options, pager, resourceHref, scanChips, syncChip, withParams } from "./parts.ts";

const SORTS = [["name", "Name"], ["namespace", "Namespace"], ["latest_version", "Latest version"], ["last_scanned", "Last scanned"]] as [string, string][];
const PAGE_SIZES = ["12", "24", "48", "96"];

export interface ExplorerQuery {
  q?: string;
  namespace?: string;
  kind?: "module" | "provider";
  sortBy: "name" | "namespace" | "latest_version" | "last_scanned";
  sortDir: "asc" | "desc";
  page: number;
  pageSize: number;
}

export function explorerQuery(url: URL): ExplorerQuery {
  const q = new Query(url.searchParams);
  return {
    q: q.text("q"),
    namespace: q.namespace(),
    kind: q.kind(),
    sortBy: q.choice("sort_by", ["name", "namespace", "latest_version", "last_scanned"] as const, "name")!,
    sortDir: q.choice("sort_dir", ["asc", "desc"] as const, "asc")!,
    page: q.int("page", 1, 1, 100_000),
    pageSize: Number(q.choice("page_size", PAGE_SIZES, "24")),
  };
}

function card(r: BrowseResource): Html {
  return html`<li class="card">
<h3><a href="${resourceHref(r)}">${r.name}</a></h3>
<p class="meta">${kindLabel(r)} · ${r.namespace}${r.provider ? ` · ${r.provider}` : ""}${r.providerNamespace ? ` · ${r.providerNamespace}` : ""}</p>
<ul class="chips" aria-label="Status">
<li><span class="chip">${r.latestVersion ? `Latest ${r.latestVersion}` : "No version yet"}</span></li>
<li>${syncChip(r.synced, r.syncStatus)}</li>
${r.hasUnsyncedVersions ? html`<li><span class="chip warn" role="img" aria-label="Some versions are out of sync" title="Some versions are out of sync">⚠ Some versions are out of sync</span></li>` : ""}
${r.public ? html`<li><span class="chip">Public</span></li>` : ""}
</ul>
<p class="chips">${scanChips(r.scanCounts)}</p>
<p class="meta">${formatNumber(r.totalDownloads)} downloads${r.platforms?.length ? html` · ${r.platforms.map((p) => `${p.os}/${p.arch}`).join(", ")}` : ""}</p>
</li>`;
}

export function explorerResults(deps: BrowseDeps, ctx: PageContext, f: ExplorerQuery): Html {
  const result = deps.model.resources(ctx.vis, { q: f.q, namespaces: f.namespace ? [f.namespace] : undefined, kind: f.kind, sortBy: f.sortBy, sortDir: f.sortDir, page: f.page, pageSize: f.pageSize });
  const summary = html`<p class="meta"><span role="status">${formatNumber(result.totalCount)} ${result.totalCount === 1 ? "result" : "results"}</span> · <a href="${withParams(ctx.url, {})}">Refresh</a></p>`;
  if (!result.items.length) {
    return html`${summary}<div class="panel empty"><p><strong>No modules or providers match.</strong></p>
<p>A resource is listed for everyone when both it and its namespace carry the label <code>opendepot.defdev.io/public=true</code>.${ctx.signIn && !ctx.user ? html` <a href="/auth/login">Sign in</a> to see what your groups are granted.` : ""}</p></div>`;
  }
  return html`${summary}<ul class="grid">${result.items.map(card)}</ul>
${pager(ctx.url, { page: result.page, pageSize: result.pageSize, total: result.totalCount, label: "Results pages" })}`;
}

export function explorerPage(deps: BrowseDeps, ctx: PageContext, f: ExplorerQuery): Html {
  const namespaces = deps.model.namespaces(ctx.vis).items;
  const body = html`<h1>Registry Explorer</h1>
<div class="layout">
<aside class="panel" aria-label="Filters">
<form class="filters" method="get" action="/" data-live-search role="search">
<label for="q" class="wide">Search</label>
<input class="wide" type="search" id="q" name="q" value="${f.q ?? ""}" placeholder="Name, namespace, provider…" autocomplete="off">
<label for="namespace" class="wide">Namespace</label>
<select class="wide" id="namespace" name="namespace"><option value="">All namespaces</option>${namespaces.map((n) => html`<option value="${n.name}"${n.name === f.namespace ? html` selected` : ""}>${n.name}${n.public ? " (public)" : ""}</option>`)}</select>
<fieldset class="wide"><legend>Kind</legend>
${[["", "All"], ["module", "Modules"], ["provider", "Providers"]].map(([v, label]) => html`<label class="radio"><input type="radio" name="kind" value="${v}"${(f.kind ?? "") === v ? html` checked` : ""}> ${label}</label>`)}
</fieldset>
<label for="sort_by">Sort by</label>
<select id="sort_by" name="sort_by">${options(SORTS, f.sortBy)}</select>
<label for="sort_dir">Order</label>
<select id="sort_dir" name="sort_dir">${options([["asc", "Ascending"], ["desc", "Descending"]], f.sortDir)}</select>
<label for="page_size">Per page</label>
<select id="page_size" name="page_size">${options(PAGE_SIZES, String(f.pageSize))}</select>
<p class="wide"><button type="submit">Apply</button> <a href="/">Reset</a></p>
</form>
</aside>
<section id="results" aria-label="Results" aria-live="polite">${explorerResults(deps, ctx, f)}</section>
</div>`;
  return page(ctx, { title: "Registry Explorer", section: "explorer", body });
}
