// `/stats`: cards, sync health, security posture, storage distribution, top downloads and the 30-day downloads
// chart, all from the same registryStats() the browse API serves. Charts are server-drawn SVG with a table
// alternative, so they need no script and read out to screen readers.
import { Query } from "../../server/browse/query.ts";
import type { BrowseDeps } from "../../server/browse/routes.ts";
import type { BrowseStats } from "../../server/browse/types.ts";
import type { PageContext } from "../context.ts";
import { html, type Html } from "../html.ts";
import { page } from "../layout.ts";
import { formatBytes, formatDate, formatNumber, resourceHref, SEVERITY_ORDER } from "./parts.ts";

function downloadsChart(s: BrowseStats): Html {
  const series = s.downloadsSeries;
  const max = Math.max(1, ...series.map((d) => d.count));
  const w = 720;
  const h = 180;
  const bw = w / Math.max(1, series.length);
  return html`<figure><svg role="img" aria-labelledby="chart-title" viewBox="0 0 ${w} ${h + 2}" width="100%" preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg"><title id="chart-title">Downloads per day over the last ${series.length} days; highest ${max}</title>
<line class="axis" x1="0" y1="${h}" x2="${w}" y2="${h}"/>
${series.map((d, i) => {
    const bh = Math.round((d.count / max) * (h - 10));
    return html`<rect class="bar" x="${(i * bw + 1).toFixed(1)}" y="${h - bh}" width="${Math.max(1, bw - 2).toFixed(1)}" height="${bh}"><title>${d.date}: ${d.count}</title></rect>`;
  })}
</svg>${series.length ? html`<div class="axis-labels meta" aria-hidden="true"><span>${series[0]!.date}</span><span>${series.at(-1)!.date}</span></div>` : ""}<figcaption class="meta">Downloads per UTC day.</figcaption></figure>
<details><summary>Downloads per day as a table</summary><div class="table-wrap" tabindex="0"><table class="data"><thead><tr><th scope="col">Day</th><th scope="col">Downloads</th></tr></thead><tbody>${series.map((d) => html`<tr><td>${d.date}</td><td>${d.count}</td></tr>`)}</tbody></table></div></details>`;
}

function healthBar(s: BrowseStats): Html {
  const { syncedVersions: ok, unsyncedVersions: wait, failedVersions: bad } = s.syncHealth;
  const total = Math.max(1, ok + wait + bad);
  const w = 600;
  const a = (ok / total) * w;
  const b = (wait / total) * w;
  return html`<svg role="img" aria-label="${ok} synced, ${wait} unsynced, ${bad} failed versions" viewBox="0 0 ${w} 18" width="100%" xmlns="http://www.w3.org/2000/svg"><rect class="seg-ok" x="0" y="0" width="${a.toFixed(1)}" height="18"/><rect class="seg-warn" x="${a.toFixed(1)}" y="0" width="${b.toFixed(1)}" height="18"/><rect class="seg-bad" x="${(a + b).toFixed(1)}" y="0" width="${(w - a - b).toFixed(1)}" height="18"/></svg>
<ul class="chips"><li><span class="chip ok">${ok} synced</span></li><li><span class="chip warn">${wait} unsynced</span></li><li><span class="chip bad">${bad} failed</span></li></ul>`;
}

export function statsPage(deps: BrowseDeps, ctx: PageContext): Html {
  const ns = new Query(ctx.url.searchParams).namespace();
  const s = deps.model.registryStats(ctx.vis, ns, 30);
  const namespaces = deps.model.namespaces(ctx.vis).items;
  const card = (label: string, value: string) => html`<li><span class="n">${value}</span>${label}</li>`;
  const body = html`<h1>Stats</h1>
<form class="inline" method="get" action="/stats"><div><label for="s-ns">Namespace</label><select id="s-ns" name="namespace" data-autosubmit><option value="">All namespaces</option>${namespaces.map((n) => html`<option value="${n.name}"${n.name === ns ? html` selected` : ""}>${n.name}</option>`)}</select></div><button type="submit">Show</button></form>
<h2>Overview</h2>
<ul class="cards">${card("Modules", formatNumber(s.totalModules))}${card("Providers", formatNumber(s.totalProviders))}${card("Versions", formatNumber(s.totalVersions))}${card("Depots", formatNumber(s.totalDepots))}${card("Storage used", formatBytes(s.totalStorageBytes))}${card("Total downloads", formatNumber(s.totalDownloads))}</ul>
<div class="detail"><div>
<section class="panel"><h2>Downloads, last 30 days</h2>${downloadsChart(s)}</section>
<section class="panel"><h2>Most downloaded</h2>${s.mostDownloaded.length ? html`<div class="table-wrap" tabindex="0"><table class="data"><thead><tr><th scope="col">Resource</th><th scope="col">Version</th><th scope="col">Downloads</th><th scope="col">Last</th></tr></thead><tbody>${s.mostDownloaded.map((m) => html`<tr><td><a href="${resourceHref(m)}">${m.namespace}/${m.name}</a> <span class="meta">${m.kind}</span></td><td>${m.version}</td><td>${formatNumber(m.downloadCount)}</td><td>${formatDate(m.lastDownloadedAt)}</td></tr>`)}</tbody></table></div>` : html`<p>No downloads yet.</p>`}</section>
</div><div class="side">
<section class="panel"><h2>Sync health</h2>${healthBar(s)}</section>
<section class="panel"><h2>Security posture</h2><ul class="chips">${SEVERITY_ORDER.map((k) => html`<li><span class="chip sev-${k}">${s.securityPosture[k]} ${k}</span></li>`)}</ul><p class="meta">${s.securityPosture.totalAffectedResources} affected versions</p></section>
<section class="panel"><h2>Storage distribution</h2>${s.storageDistribution.length ? html`<dl class="facts">${s.storageDistribution.map((b) => html`<dt>${b.backend}</dt><dd>${b.count}</dd>`)}</dl>` : html`<p>Nothing stored yet.</p>`}</section>
</div></div>`;
  return page(ctx, { title: "Stats", section: "stats", body });
}
