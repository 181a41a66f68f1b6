// Small pieces several pages share: status chips, severity counts, pagers, numbers and links.
import type { BrowseResource, ScanCounts } from "../../server/browse/types.ts";
import { html, type Html, type Part } from "../html.ts";

export const SEVERITY_ORDER = ["critical", "high", "medium", "low", "unknown"] as const;

export const resourceHref = (r: { namespace: string; kind: string; name: string }, query = "") =>
  `/${encodeURIComponent(r.namespace)}/${r.kind}/${encodeURIComponent(r.name)}${query}`;

export const bare = (version: string | undefined) => (version ?? "").trim().replace(/^v/i, "");

export function syncChip(synced: boolean, syncStatus?: string): Html {
  if (synced) return html`<span class="chip ok">Synced</span>`;
  const failed = /failed|error/i.test(syncStatus ?? "");
  return html`<span class="chip ${failed ? "bad" : "warn"}" title="${syncStatus ?? ""}">${failed ? "Sync failed" : "Not synced"}</span>`;
}

export function scanChips(counts: ScanCounts | undefined, emptyText = "No scan"): Html {
  if (!counts) return html`<span class="chip">${emptyText}</span>`;
  const present = SEVERITY_ORDER.filter((s) => counts[s] > 0);
  if (!present.length) return html`<span class="chip ok">No findings</span>`;
  return html`${present.map((s) => html`<span class="chip sev-${s}">${counts[s]} ${s}</span> `)}`;
}

export const formatNumber = (n: number) => n.toLocaleString("en-US");

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

export const formatDate = (iso: string | undefined) => (iso ? iso.slice(0, 16).replace("T", " ") + " UTC" : "—");

/** `base` with `params` replacing (or, when undefined/empty, removing) query parameters. */
export function withParams(url: URL, params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams(url.search);
  q.delete("fragment");
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === "") q.delete(k);
    else q.set(k, String(v));
  }
  const s = q.toString();
  return `${url.pathname}${s ? `?${s}` : ""}`;
}

export function pager(url: URL, o: { page: number; pageSize: number; total: number; param?: string; label: string }): Part {
  const pages = Math.max(1, Math.ceil(o.total / o.pageSize));
  if (pages <= 1) return "";
  const param = o.param ?? "page";
  return html`<nav class="pager" aria-label="${o.label}">
${o.page > 1 ? html`<a href="${withParams(url, { [param]: o.page - 1 })}" rel="prev">Previous</a>` : ""}
<span>Page ${o.page} of ${pages}</span>
${o.page < pages ? html`<a href="${withParams(url, { [param]: o.page + 1 })}" rel="next">Next</a>` : ""}
</nav>`;
}

export function kindLabel(r: Pick<BrowseResource, "kind">): string {
  return r.kind === "module" ? "Module" : "Provider";
}

export function options(values: readonly (string | [string, string])[], selected: string | undefined): Html {
  return html`${values.map((v) => {
    const [value, label] = Array.isArray(v) ? v : [v, v];
    return html`<option value="${value}"${value === (selected ?? "") ? html` selected` : ""}>${label}</option>`;
  })}`;
}
