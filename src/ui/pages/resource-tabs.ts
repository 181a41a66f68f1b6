// The Versions tab (server-side filters and pagination, as /versions) and the Security tab (scan findings per
// version and per platform, as /scan-findings) of a resource page.
import type { SecurityFinding } from "../../api/types.ts";
import type { Query } from "../../server/browse/query.ts";
import type { BrowseDeps } from "../../server/browse/routes.ts";
import type { BrowseResourceDetail } from "../../server/browse/types.ts";
import type { PageContext } from "../context.ts";
import { html, type Html, type Part } from "../html.ts";
import { bare, formatBytes, formatDate, formatNumber, options, pager, resourceHref, scanChips, syncChip, withParams } from "./parts.ts";

const PAGE_SIZES = ["10", "20", "50", "100"];

export function versionsTab(deps: BrowseDeps, ctx: PageContext, d: BrowseResourceDetail, q: Query): Html {
  const filters = {
    q: q.text("q", 128),
    synced: q.choice("synced", ["true", "false", "progressing"] as const),
    os: q.platform("os"),
    arch: q.platform("arch"),
    page: q.int("page", 1, 1, 100_000),
    pageSize: Number(q.choice("page_size", PAGE_SIZES, "20")),
  };
  const result = deps.model.versions(ctx.vis, d.kind, d.namespace, d.name, filters)!;
  const platformSelect = (name: "os" | "arch", label: string, values: string[] | undefined) =>
    values?.length ? html`<div><label for="v-${name}">${label}</label><select id="v-${name}" name="${name}" data-autosubmit><option value="">All</option>${options(values, filters[name])}</select></div>` : "";
  const rows = result.items.map((v) => html`<tr>
<td>${d.kind === "module" ? html`<a href="${resourceHref(d, `?version=${encodeURIComponent(bare(v.version))}`)}">${v.version}</a>` : v.version}</td>
<td>${syncChip(v.synced, v.syncStatus)}</td>
${d.kind === "provider" ? html`<td>${v.os ?? ""}/${v.arch ?? ""}</td>` : ""}
<td>${v.scanCounts ? html`<a href="${resourceHref(d, `?tab=security&${d.kind === "provider" ? "binaryVersion" : "version"}=${encodeURIComponent(bare(v.version))}`)}">${scanChips(v.scanCounts)}</a>` : scanChips(undefined)}</td>
<td>${formatNumber(v.downloadCount ?? 0)}</td>
<td>${v.archiveSizeBytes ? formatBytes(v.archiveSizeBytes) : "—"}</td>
<td>${formatDate(v.lastScanned)}</td>
<td>${v.checksum ? html`<code title="${v.checksum}">${v.checksum.slice(0, 12)}…</code>` : "—"}</td></tr>`);
  return html`<div class="panel"><h2>Versions</h2>
<form class="inline" method="get" action="${resourceHref(d)}"><input type="hidden" name="tab" value="versions">
<div><label for="v-q">Search</label><input type="search" id="v-q" name="q" value="${filters.q ?? ""}"></div>
<div><label for="v-synced">Sync</label><select id="v-synced" name="synced" data-autosubmit>${options([["", "All"], ["true", "Synced"], ["false", "Failed"], ["progressing", "In progress"]], filters.synced)}</select></div>
${platformSelect("os", "OS", result.availableOS)}${platformSelect("arch", "Arch", result.availableArch)}
<div><label for="v-size">Rows</label><select id="v-size" name="page_size" data-autosubmit>${options(PAGE_SIZES, String(filters.pageSize))}</select></div>
<button type="submit">Filter</button></form>
<p class="meta" role="status">${formatNumber(result.totalCount)} ${result.totalCount === 1 ? "version" : "versions"}</p>
${result.items.length ? html`<div class="table-wrap" tabindex="0"><table class="data"><caption class="visually-hidden">Versions</caption><thead><tr><th scope="col">Version</th><th scope="col">Sync</th>${d.kind === "provider" ? html`<th scope="col">Platform</th>` : ""}<th scope="col">Findings</th><th scope="col">Downloads</th><th scope="col">Size</th><th scope="col">Last scanned</th><th scope="col">Checksum</th></tr></thead><tbody>${rows}</tbody></table></div>` : html`<p>No versions match the current filters.</p>`}
${pager(ctx.url, { page: result.page, pageSize: result.pageSize, total: result.totalCount, label: "Version pages" })}</div>`;
}

function findingsTable(findings: SecurityFinding[] | undefined, caption: string): Part {
  if (!findings?.length) return html`<p>No findings.</p>`;
  return html`<div class="table-wrap" tabindex="0"><table class="data"><caption class="visually-hidden">${caption}</caption><thead><tr><th scope="col">Severity</th><th scope="col">ID</th><th scope="col">Package</th><th scope="col">Installed</th><th scope="col">Fixed in</th><th scope="col">Title</th></tr></thead>
<tbody>${findings.map((f) => html`<tr><td class="sev-${f.severity.toLowerCase()}">${f.severity}</td><td><code>${f.vulnerabilityID}</code></td><td>${f.pkgName}</td><td>${f.installedVersion}</td><td>${f.fixedVersion ?? "—"}</td><td>${f.title ?? ""}</td></tr>`)}</tbody></table></div>`;
}

export function securityTab(deps: BrowseDeps, ctx: PageContext, d: BrowseResourceDetail, q: Query): Html {
  const version = q.version("version");
  const binaryVersion = q.version("binaryVersion");
  const s = deps.model.scanFindings(ctx.vis, d.kind, d.namespace, d.name, { version, binaryVersion })!;
  const selected = s.selectedVersion ?? version;
  const platforms = Object.entries(s.binaryScanFindings ?? {}).sort(([a], [b]) => a.localeCompare(b));
  return html`<div class="panel"><h2>Security findings</h2>
${s.scannedVersions?.length || s.binaryVersions?.length ? html`<form class="inline" method="get" action="${resourceHref(d)}"><input type="hidden" name="tab" value="security">
${s.scannedVersions?.length ? html`<div><label for="s-version">Source scan of</label><select id="s-version" name="version" data-autosubmit>${options(s.scannedVersions, selected)}</select></div>` : ""}
${s.binaryVersions?.length ? html`<div><label for="s-binary">Binaries of</label><select id="s-binary" name="binaryVersion" data-autosubmit><option value="">Latest per platform</option>${options(s.binaryVersions, binaryVersion)}</select></div>` : ""}
<button type="submit">Show</button> <a href="${withParams(ctx.url, { version: undefined, binaryVersion: undefined })}">Latest</a></form>` : html`<p>No scans yet.</p>`}
<h3>Source${selected ? ` (${selected})` : ""}</h3>${findingsTable(s.sourceScanFindings, "Source findings")}
${d.kind === "provider" ? html`<h3>Binaries${binaryVersion ? ` (${binaryVersion})` : ""}</h3>${platforms.length ? platforms.map(([p, f]) => html`<h4>${p}</h4>${findingsTable(f, `Findings for ${p}`)}`) : html`<p>No binary findings.</p>`}` : ""}</div>`;
}
