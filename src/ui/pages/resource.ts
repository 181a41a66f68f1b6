// `/<namespace>/<kind>/<name>`: a module's or provider's page. Tabs are links (`?tab=`), so every view, the
// chosen version (`?version=`), the version filters and the compared pair are deep links that survive a reload.
import { BadRequest } from "../../server/params.ts";
import { Query } from "../../server/browse/query.ts";
import type { BrowseDeps } from "../../server/browse/routes.ts";
import type { BrowseResourceDetail, BrowseKind } from "../../server/browse/types.ts";
import type { PageContext } from "../context.ts";
import { attr, html, trusted, type Html, type Part } from "../html.ts";
import { page } from "../layout.ts";
import { renderReadmeCached } from "../markdown.ts";
import { compareSection, documentationSection } from "./docs.ts";
import { bare, formatDate, formatNumber, kindLabel, resourceHref, scanChips, syncChip, withParams } from "./parts.ts";
import { securityTab, versionsTab } from "./resource-tabs.ts";

const TABS = ["overview", "docs", "versions", "security", "compare"] as const;
type Tab = (typeof TABS)[number];

export function usageSnippet(d: BrowseResourceDetail, host: string, version: string | undefined): string {
  const constraint = version ? `= ${version}` : d.versionConstraints || bare(d.latestVersion) || undefined;
  if (d.kind === "module") {
    const lines = [`module "${d.name.replace(/[^A-Za-z0-9_-]/g, "_")}" {`, `  source  = "${host}/${d.namespace}/${d.name}/${d.provider ?? "generic"}"`];
    if (constraint) lines.push(`  version = "${constraint}"`);
    return [...lines, "}"].join("\n");
  }
  const lines = ["terraform {", "  required_providers {", `    ${d.name} = {`, `      source  = "${host}/${d.namespace}/${d.name}"`];
  if (constraint) lines.push(`      version = "${constraint}"`);
  return [...lines, "    }", "  }", "}"].join("\n");
}

function facts(rows: [string, Part][]): Html {
  return html`<dl class="facts">${rows.filter(([, v]) => v !== undefined && v !== "").map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl>`;
}

function sidePanels(d: BrowseResourceDetail, ctx: PageContext, version: string | undefined): Html {
  const s = d.storageConfig;
  const snippet = usageSnippet(d, ctx.host, version);
  return html`<div class="side">
<section class="panel" aria-labelledby="usage-h"><div class="copy-row"><h2 id="usage-h">Usage</h2><button type="button" class="secondary" data-copy="usage-snippet" hidden>Copy</button></div>
<pre tabindex="0"><code id="usage-snippet">${snippet}</code></pre><p id="usage-snippet-status" class="meta" role="status"></p></section>
<section class="panel" aria-labelledby="overview-h"><h2 id="overview-h">Overview</h2>${facts([
    ["Namespace", d.namespace],
    ["Kind", kindLabel(d)],
    ["Provider", d.provider ?? d.providerNamespace],
    ["Latest version", d.latestVersion ?? "—"],
    ["Sync", syncChip(d.synced, d.syncStatus)],
    ["Sync status", d.syncStatus],
    ["Versions", String(d.versions.length)],
    ["Downloads", formatNumber(d.totalDownloads)],
    ["Last downloaded", d.lastDownloadedAt ? formatDate(d.lastDownloadedAt) : ""],
    ["Last scanned", d.lastScanned ? formatDate(d.lastScanned) : ""],
    ["Version constraints", d.versionConstraints ? html`<code>${d.versionConstraints}</code>` : ""],
    ["History limit", d.versionHistoryLimit !== undefined ? String(d.versionHistoryLimit) : ""],
    ["Source repository", d.sourceRepository],
    ["Public", d.public ? "yes" : "no"],
  ])}</section>
<section class="panel" aria-labelledby="storage-h"><h2 id="storage-h">Storage configuration</h2>${s ? facts([
    ["Backend", s.backend],
    ["Bucket", s.bucket],
    ["Region", s.region],
    ["Key prefix", s.key],
    ["Directory", s.directoryPath],
    ["Account", s.accountName],
    ["Account URL", s.accountUrl],
    ["Subscription", s.subscriptionID],
    ["Resource group", s.resourceGroup],
    ["Presigned URLs", s.presignEnabled ? `on${s.presignTTL ? ` (${s.presignTTL})` : ""}` : ""],
    ["Inherited from", d.depotRef ? html`Depot <a href="/depots?focus=${`depot/${d.depotRef.namespace}/${d.depotRef.name}`}">${d.depotRef.name}</a>` : ""],
  ]) : html`<p class="meta">Default storage.</p>`}</section>
<section class="panel" aria-labelledby="github-h"><h2 id="github-h">GitHub configuration</h2>${facts([
    ["Repository owner", d.repoOwner],
    ["Authenticated client", d.githubConfig?.useAuthenticatedClient ? "yes" : "no"],
  ])}</section>
${d.depotRef ? html`<section class="panel" aria-labelledby="depot-h"><h2 id="depot-h">Depot</h2><p>Managed by <a href="/depots?focus=${`depot/${d.depotRef.namespace}/${d.depotRef.name}`}">${d.depotRef.namespace}/${d.depotRef.name}</a></p></section>` : ""}
</div>`;
}

function readmeContext(d: BrowseResourceDetail, ctx: PageContext) {
  const repo = d.repoUrl?.replace(/\.git$/, "").replace(/\/+$/, "");
  return {
    repoUrl: repo && /^https?:\/\//.test(repo) ? repo : undefined,
    ref: d.documentationVersion,
    source: { address: `${ctx.host}/${d.namespace}/${d.name}/${d.provider ?? "generic"}`, names: [d.name, repo?.split("/").pop() ?? d.name, `terraform-${d.provider}-${d.name}`] },
  };
}

function versionSwitcher(d: BrowseResourceDetail, ctx: PageContext, tab: Tab, selected: string | undefined): Part {
  if (d.kind !== "module" || d.versions.length < 1) return "";
  const current = selected ?? bare(d.documentationVersion);
  return html`<form class="inline" method="get" action="${resourceHref(d)}"><input type="hidden" name="tab" value="${tab}">
<div><label for="version">Version</label><select id="version" name="version" data-autosubmit>${d.versions.map((v) => html`<option value="${bare(v.version)}"${bare(v.version) === current ? html` selected` : ""}>${v.version}${v.synced ? "" : " (not synced)"}</option>`)}</select></div>
<button type="submit" class="secondary">Show</button></form>`;
}

function compareTab(deps: BrowseDeps, ctx: PageContext, d: BrowseResourceDetail, q: Query): Html {
  const versions = d.versions.map((v) => bare(v.version));
  const to = q.version("to") ?? versions[0];
  const from = q.version("from") ?? versions[1] ?? versions[0];
  const docsAt = (v: string | undefined) => {
    if (!v) return undefined;
    const r = deps.model.detail(ctx.vis, d.kind, d.namespace, d.name, { version: v });
    return r && r !== "no-such-version" ? r.documentation : undefined;
  };
  const picker = (name: string, value: string | undefined, label: string) =>
    html`<div><label for="${name}">${label}</label><select id="${name}" name="${name}">${versions.map((v) => html`<option value="${v}"${v === value ? html` selected` : ""}>${v}</option>`)}</select></div>`;
  return html`<div class="panel"><h2>Compare versions</h2>
<form class="inline" method="get" action="${resourceHref(d)}"><input type="hidden" name="tab" value="compare">${picker("from", from, "From")}${picker("to", to, "To")}<button type="submit">Compare</button></form>
${from && to ? compareSection(from, to, docsAt(from), docsAt(to)) : html`<p>Two versions are needed to compare.</p>`}</div>`;
}

export function resourcePage(deps: BrowseDeps, ctx: PageContext, kind: BrowseKind, ns: string, name: string): { status: number; body: Html } | undefined {
  const q = new Query(ctx.url.searchParams);
  const tab = q.choice("tab", TABS, "overview")!;
  const version = q.version("version");
  if (version && kind !== "module") throw new BadRequest("version selects a module's documentation; providers have none");
  if (kind === "provider" && (tab === "docs" || tab === "compare")) throw new BadRequest(`the ${tab} tab is for modules`);
  const detail = deps.model.detail(ctx.vis, kind, ns, name, { version: tab === "overview" || tab === "docs" ? version : undefined });
  if (detail === undefined) return undefined;
  if (detail === "no-such-version") throw new BadRequest(`version ${version} does not exist`);
  const d = detail;
  const tabs = TABS.filter((t) => kind === "module" || (t !== "docs" && t !== "compare"));
  const labels: Record<Tab, string> = { overview: "Overview", docs: "Documentation", versions: "Versions", security: "Security", compare: "Compare" };
  const keep = version ? { version } : {};
  let content: Part;
  switch (tab) {
    case "overview":
      content = html`<div class="detail"><div>${versionSwitcher(d, ctx, tab, version)}<section class="panel readme" aria-labelledby="readme-h"><h2 id="readme-h">README${d.documentationVersion ? html` <span class="meta">(${d.documentationVersion})</span>` : ""}</h2>
${d.readmeContent ? trusted(renderReadmeCached(d.readmeContent, readmeContext(d, ctx))) : html`<p class="meta">${kind === "module" ? "No README for this version." : "Providers have no README."}</p>`}</section></div>${sidePanels(d, ctx, version)}</div>`;
      break;
    case "docs":
      content = html`${versionSwitcher(d, ctx, tab, version)}${documentationSection(d.documentation, d.documentationVersion)}`;
      break;
    case "versions":
      content = versionsTab(deps, ctx, d, q);
      break;
    case "security":
      content = securityTab(deps, ctx, d, q);
      break;
    case "compare":
      content = compareTab(deps, ctx, d, q);
      break;
  }
  const body = html`<nav aria-label="Breadcrumb" class="meta"><a href="/">Explorer</a> / <a href="${withParams(new URL("http://x/"), { namespace: d.namespace })}">${d.namespace}</a> / ${d.name}</nav>
<h1>${d.name}</h1>
<ul class="chips" aria-label="Summary"><li><span class="chip">${kindLabel(d)}</span></li>${d.provider ? html`<li><span class="chip">${d.provider}</span></li>` : ""}<li><span class="chip">${d.latestVersion ? `Latest ${d.latestVersion}` : "No version"}</span></li><li>${syncChip(d.synced, d.syncStatus)}</li><li>${scanChips(d.scanCounts)}</li></ul>
${d.repoUrl && /^https?:\/\//.test(d.repoUrl) ? html`<p><a href="${d.repoUrl}" rel="noopener noreferrer nofollow">${d.repoUrl}</a></p>` : ""}
<nav aria-label="Sections"><ul class="tabs">${tabs.map((t) => html`<li><a href="${resourceHref(d, t === "overview" ? (version ? `?version=${encodeURIComponent(version)}` : "") : `?tab=${t}${keep.version && t === "docs" ? `&version=${encodeURIComponent(keep.version)}` : ""}`)}"${attr("aria-current", t === tab && "page")}>${labels[t]}</a></li>`)}</ul></nav>
${content}`;
  return { status: 200, body: page(ctx, { title: `${d.name} (${d.namespace})`, section: "explorer", body }) };
}
