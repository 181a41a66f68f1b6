// `/depots`: the relationship graph of Depots and the Modules/Providers they manage, laid out on the server as
// SVG (depots left, modules middle, providers right; edges as curves), every node a link to `?focus=<id>`
// whose detail panel the server renders (the client script swaps it in without a reload).
import { Query } from "../../server/browse/query.ts";
import type { BrowseDeps } from "../../server/browse/routes.ts";
import type { DepotGraph } from "../../server/browse/types.ts";
import type { PageContext } from "../context.ts";
import { html, type Html, type Part } from "../html.ts";
import { page } from "../layout.ts";
import { resourceHref, scanChips, syncChip, withParams } from "./parts.ts";

const MAX_NODES_PER_COLUMN = 300;
const NODE_W = 190;
const NODE_H = 34;
const GAP = 12;
const COLS = [10, 240, 470];
const LANE = 16;

interface Node {
  id: string;
  label: string;
  sub: string;
  kind: "depot" | "module" | "provider";
  x: number;
  y: number;
}

export function layoutGraph(g: DepotGraph): { nodes: Node[]; edges: { from: Node; to: Node }[]; width: number; height: number; truncated: boolean } {
  const columns: Node[][] = [
    g.depots.map((d) => ({ id: d.id, label: d.name, sub: `${d.namespace} · ${d.storageBackend}`, kind: "depot" as const, x: COLS[0]!, y: 0 })),
    g.modules.map((m) => ({ id: m.id, label: m.name, sub: `${m.namespace}${m.latestVersion ? ` · ${m.latestVersion}` : ""}`, kind: "module" as const, x: COLS[1]!, y: 0 })),
    g.providers.map((p) => ({ id: p.id, label: p.name, sub: p.namespace, kind: "provider" as const, x: COLS[2]!, y: 0 })),
  ];
  const truncated = columns.some((c) => c.length > MAX_NODES_PER_COLUMN);
  const shown = columns.map((c) => c.slice(0, MAX_NODES_PER_COLUMN));
  for (const col of shown) col.forEach((n, i) => (n.y = 30 + i * (NODE_H + GAP)));
  const byId = new Map(shown.flat().map((n) => [n.id, n]));
  const edges = g.edges.flatMap((e) => {
    const from = byId.get(e.source);
    const to = byId.get(e.target);
    return from && to ? [{ from, to }] : [];
  });
  const rows = Math.max(1, ...shown.map((c) => c.length));
  // Depot → provider edges skip the module column: they run in a lane below it (LANE), never through a module box.
  return { nodes: shown.flat(), edges, width: COLS[2]! + NODE_W + 20, height: 40 + rows * (NODE_H + GAP) + LANE, truncated };
}

function graphSvg(g: DepotGraph, url: URL, focus: string | undefined): Html {
  const l = layoutGraph(g);
  const trim = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
  return html`<svg role="group" aria-label="Depots and the resources they manage" width="${l.width}" height="${l.height}" viewBox="0 0 ${l.width} ${l.height}" xmlns="http://www.w3.org/2000/svg">
<text x="${COLS[0]}" y="18" font-weight="600">Depots</text><text x="${COLS[1]}" y="18" font-weight="600">Modules</text><text x="${COLS[2]}" y="18" font-weight="600">Providers</text>
${l.edges.map(({ from, to }) => {
    const x1 = from.x + NODE_W;
    const y1 = from.y + NODE_H / 2;
    const x2 = to.x;
    const y2 = to.y + NODE_H / 2;
    const mid = (x1 + x2) / 2;
    if (from.kind === "depot" && to.kind === "provider") {
      // Down into the lane under the modules, across, and up to the provider.
      const lane = l.height - LANE / 2;
      const inX = COLS[1]! - 15;
      const outX = COLS[1]! + NODE_W + 15;
      return html`<path class="edge" d="M${x1} ${y1} C${inX} ${y1} ${x1} ${lane} ${inX} ${lane} L${outX} ${lane} C${x2} ${lane} ${outX} ${y2} ${x2} ${y2}" aria-hidden="true"/>`;
    }
    return html`<path class="edge" d="M${x1} ${y1} C${mid} ${y1} ${mid} ${y2} ${x2} ${y2}" aria-hidden="true"/>`;
  })}
${l.nodes.map((n) => html`<a class="node ${n.kind}${n.id === focus ? " selected" : ""}" href="${withParams(url, { focus: n.id })}" data-node="${n.id}"><rect x="${n.x}" y="${n.y}" width="${NODE_W}" height="${NODE_H}" rx="6"/><text x="${n.x + 8}" y="${n.y + 15}">${trim(n.label, 28)}</text><text x="${n.x + 8}" y="${n.y + 28}" font-size="10">${trim(n.sub, 34)}</text></a>`)}
</svg>${l.truncated ? html`<p class="meta">Showing the first ${MAX_NODES_PER_COLUMN} of each column; pick a namespace to narrow it.</p>` : ""}`;
}

export function nodePanel(g: DepotGraph, focus: string | undefined): Part {
  if (!focus) return html`<p class="meta">Select a node to see its details.</p>`;
  const depot = g.depots.find((d) => d.id === focus);
  if (depot) {
    return html`<h2>Depot ${depot.name}</h2><dl class="facts"><dt>Namespace</dt><dd>${depot.namespace}</dd><dt>Storage backend</dt><dd>${depot.storageBackend}</dd><dt>Polling</dt><dd>${depot.pollingIntervalMinutes !== undefined ? `every ${depot.pollingIntervalMinutes} min` : "default"}</dd><dt>Modules</dt><dd>${depot.managedModuleNames.length}</dd><dt>Providers</dt><dd>${depot.managedProviderNames.length}</dd></dl>
${depot.managedModuleNames.length ? html`<h3>Modules</h3><ul>${depot.managedModuleNames.map((n) => html`<li><a href="${resourceHref({ namespace: depot.namespace, kind: "module", name: n })}">${n}</a></li>`)}</ul>` : ""}
${depot.managedProviderNames.length ? html`<h3>Providers</h3><ul>${depot.managedProviderNames.map((n) => html`<li><a href="${resourceHref({ namespace: depot.namespace, kind: "provider", name: n })}">${n}</a></li>`)}</ul>` : ""}`;
  }
  const m = g.modules.find((x) => x.id === focus);
  if (m) {
    return html`<h2>Module ${m.name}</h2><dl class="facts"><dt>Namespace</dt><dd>${m.namespace}</dd><dt>Latest</dt><dd>${m.latestVersion ?? "—"}</dd><dt>Sync</dt><dd>${syncChip(m.synced, m.syncStatus)}</dd><dt>Findings</dt><dd>${scanChips(m.scanCounts)}</dd></dl><p><a href="${resourceHref({ namespace: m.namespace, kind: "module", name: m.name })}">Open ${m.name}</a></p>`;
  }
  const p = g.providers.find((x) => x.id === focus);
  if (p) {
    return html`<h2>Provider ${p.name}</h2><dl class="facts"><dt>Namespace</dt><dd>${p.namespace}</dd><dt>Provider namespace</dt><dd>${p.providerNamespace ?? "—"}</dd><dt>Sync</dt><dd>${syncChip(p.synced)}</dd></dl><p><a href="${resourceHref({ namespace: p.namespace, kind: "provider", name: p.name })}">Open ${p.name}</a></p>`;
  }
  return html`<p>Nothing with that id is visible here.</p>`;
}

export function depotsView(deps: BrowseDeps, ctx: PageContext): { graph: DepotGraph; focus?: string; ns?: string } {
  const q = new Query(ctx.url.searchParams);
  const ns = q.namespace();
  const focus = q.text("focus", 600);
  return { graph: deps.model.graph(ctx.vis, ns), focus, ns };
}

export function depotsPage(deps: BrowseDeps, ctx: PageContext): Html {
  const { graph, focus, ns } = depotsView(deps, ctx);
  const namespaces = deps.model.namespaces(ctx.vis).items;
  const body = html`<h1>Depots</h1>
<form class="inline" method="get" action="/depots"><div><label for="d-ns">Namespace</label><select id="d-ns" name="namespace" data-autosubmit><option value="">All namespaces</option>${namespaces.map((n) => html`<option value="${n.name}"${n.name === ns ? html` selected` : ""}>${n.name}</option>`)}</select></div><button type="submit">Show</button></form>
<p class="meta">${graph.summary.totalDepots} depots · ${graph.summary.totalModules} modules · ${graph.summary.totalProviders} providers</p>
<div class="detail"><div class="panel graph">${graphSvg(graph, ctx.url, focus)}</div>
<section class="panel" id="graph-detail" tabindex="-1" aria-live="polite" aria-label="Selected node">${nodePanel(graph, focus)}</section></div>`;
  return page(ctx, { title: "Depots", section: "depots", body });
}
