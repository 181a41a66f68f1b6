// Module documentation (inputs, outputs, submodules, examples, requirements) rendered defensively from the JSON
// the docs extractor stores: every field is optional, unknown shapes are skipped, every string is escaped.
// Also the side-by-side comparison of two versions' inputs and outputs.
import { html, type Html, type Part } from "../html.ts";

export interface DocInput {
  name: string;
  type?: string;
  description?: string;
  default?: unknown;
  required?: boolean;
  sensitive?: boolean;
}
export interface DocOutput {
  name: string;
  description?: string;
  sensitive?: boolean;
}
export interface ModuleDocs {
  inputs: DocInput[];
  outputs: DocOutput[];
  submodules: { name: string; path?: string; inputs: DocInput[]; outputs: DocOutput[] }[];
  examples: { name: string; path?: string }[];
  requiredProviders: { name: string; source?: string; version?: string }[];
  requiredVersion?: string;
  resources: { type: string; name?: string; count?: number }[];
}

const obj = (v: unknown): Record<string, unknown> | undefined => (v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : typeof v === "number" || typeof v === "boolean" ? String(v) : undefined);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v.slice(0, 2000) : []);

function inputsOf(v: unknown): DocInput[] {
  return arr(v).flatMap((x) => {
    const o = obj(x);
    const name = str(o?.name);
    if (!o || !name) return [];
    return [{ name, type: typeof o.type === "string" ? o.type : o.type !== undefined ? JSON.stringify(o.type) : undefined, description: str(o.description), default: o.default, required: o.required === true || (o.required === undefined && !("default" in o)), sensitive: o.sensitive === true }];
  });
}
function outputsOf(v: unknown): DocOutput[] {
  return arr(v).flatMap((x) => {
    const o = obj(x);
    const name = str(o?.name);
    return o && name ? [{ name, description: str(o.description), sensitive: o.sensitive === true }] : [];
  });
}

/** The parsed documentation, or undefined when there is none worth showing. */
export function parseDocs(raw: unknown): ModuleDocs | undefined {
  const top = obj(raw);
  if (!top) return undefined;
  // The extractor's shape (api/module-docs.ts) keeps the root module's declarations under `root`; submodules and
  // examples stay at the top. A flat object (inputs at the top) is read the same way.
  const d: Record<string, unknown> = { ...top, ...(obj(top.root) ?? {}), submodules: top.submodules, examples: top.examples };
  const providers = obj(d.requiredProviders);
  const requiredProviders = Array.isArray(d.requiredProviders)
    ? arr(d.requiredProviders).flatMap((p) => {
        const o = obj(p);
        const name = str(o?.name);
        const constraints = arr(o?.versionConstraints).flatMap((c) => (typeof c === "string" ? [c] : []));
        return o && name ? [{ name, source: str(o.source), version: str(o.version) ?? str(o.versionConstraint) ?? (constraints.length ? constraints.join(", ") : undefined) }] : [];
      })
    : Object.entries(providers ?? {}).map(([name, p]) => ({ name, source: str(obj(p)?.source), version: str(obj(p)?.version) ?? (typeof p === "string" ? p : undefined) }));
  return {
    inputs: inputsOf(d.inputs),
    outputs: outputsOf(d.outputs),
    submodules: arr(d.submodules).flatMap((s) => {
      const o = obj(s);
      const name = str(o?.name) ?? str(o?.path);
      return o && name ? [{ name, path: str(o.path), inputs: inputsOf(o.inputs), outputs: outputsOf(o.outputs) }] : [];
    }),
    examples: arr(d.examples).flatMap((e) => {
      const name = str(e) ?? str(obj(e)?.name) ?? str(obj(e)?.path);
      return name ? [{ name, path: str(obj(e)?.path) }] : [];
    }),
    requiredProviders,
    requiredVersion: str(d.requiredVersion),
    resources: arr(d.resources).flatMap((r) => {
      const t = str(r) ?? str(obj(r)?.type);
      const count = obj(r)?.count;
      return t ? [{ type: t, name: str(obj(r)?.name), ...(typeof count === "number" && count > 1 ? { count } : {}) }] : [];
    }),
  };
}

export function showDefault(i: DocInput): string {
  if (i.sensitive) return "(sensitive)";
  if (i.default === undefined) return i.required ? "—" : "null";
  const text = typeof i.default === "string" ? JSON.stringify(i.default) : JSON.stringify(i.default);
  return text === undefined ? "" : text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

function inputsTable(inputs: DocInput[], caption: string): Part {
  if (!inputs.length) return html`<p class="meta">No inputs.</p>`;
  return html`<div class="table-wrap" tabindex="0"><table class="data"><caption class="visually-hidden">${caption}</caption>
<thead><tr><th scope="col">Name</th><th scope="col">Type</th><th scope="col">Description</th><th scope="col">Default</th><th scope="col">Required</th></tr></thead>
<tbody>${inputs.map((i) => html`<tr><td><code>${i.name}</code>${i.sensitive ? html` <span class="chip warn">sensitive</span>` : ""}</td><td><code>${i.type ?? "any"}</code></td><td>${i.description ?? ""}</td><td><code>${showDefault(i)}</code></td><td>${i.required ? "yes" : "no"}</td></tr>`)}</tbody></table></div>`;
}

function outputsTable(outputs: DocOutput[], caption: string): Part {
  if (!outputs.length) return html`<p class="meta">No outputs.</p>`;
  return html`<div class="table-wrap" tabindex="0"><table class="data"><caption class="visually-hidden">${caption}</caption>
<thead><tr><th scope="col">Name</th><th scope="col">Description</th></tr></thead>
<tbody>${outputs.map((o) => html`<tr><td><code>${o.name}</code>${o.sensitive ? html` <span class="chip warn">sensitive</span>` : ""}</td><td>${o.description ?? ""}</td></tr>`)}</tbody></table></div>`;
}

export function documentationSection(raw: unknown, version: string | undefined): Html {
  const d = parseDocs(raw);
  if (!d) return html`<div class="panel"><p>No documentation has been extracted for ${version ? `version ${version}` : "this module"} yet.</p></div>`;
  return html`<div class="panel">
<h2 id="requirements">Requirements</h2>
${d.requiredVersion ? html`<p>Terraform <code>${d.requiredVersion}</code></p>` : html`<p class="meta">No Terraform version requirement.</p>`}
${d.requiredProviders.length ? html`<ul>${d.requiredProviders.map((p) => html`<li><code>${p.name}</code>${p.source ? html` — <code>${p.source}</code>` : ""}${p.version ? html` <code>${p.version}</code>` : ""}</li>`)}</ul>` : ""}
<h2 id="inputs">Inputs (${d.inputs.length})</h2>${inputsTable(d.inputs, "Inputs")}
<h2 id="outputs">Outputs (${d.outputs.length})</h2>${outputsTable(d.outputs, "Outputs")}
${d.submodules.length ? html`<h2 id="submodules">Submodules (${d.submodules.length})</h2>${d.submodules.map((s) => html`<details><summary><code>${s.path ?? s.name}</code> — ${s.inputs.length} inputs, ${s.outputs.length} outputs</summary>${inputsTable(s.inputs, `Inputs of ${s.name}`)}${outputsTable(s.outputs, `Outputs of ${s.name}`)}</details>`)}` : ""}
${d.examples.length ? html`<h2 id="examples">Examples</h2><ul>${d.examples.map((e) => html`<li><code>${e.path ?? e.name}</code></li>`)}</ul>` : ""}
${d.resources.length ? html`<h2 id="resources">Resources (${d.resources.length})</h2><ul>${d.resources.slice(0, 500).map((r) => html`<li><code>${r.type}${r.name ? `.${r.name}` : ""}</code>${r.count ? ` ×${r.count}` : ""}</li>`)}</ul>` : ""}
</div>`;
}

export interface DocsDiff {
  inputs: { added: DocInput[]; removed: DocInput[]; changed: { before: DocInput; after: DocInput; what: string[] }[] };
  outputs: { added: DocOutput[]; removed: DocOutput[] };
}

export function diffDocs(a: ModuleDocs, b: ModuleDocs): DocsDiff {
  const before = new Map(a.inputs.map((i) => [i.name, i]));
  const after = new Map(b.inputs.map((i) => [i.name, i]));
  const changed: DocsDiff["inputs"]["changed"] = [];
  for (const [name, x] of after) {
    const y = before.get(name);
    if (!y) continue;
    const what = [
      (x.type ?? "") !== (y.type ?? "") ? "type" : "",
      showDefault(x) !== showDefault(y) ? "default" : "",
      x.required !== y.required ? "required" : "",
    ].filter(Boolean);
    if (what.length) changed.push({ before: y, after: x, what });
  }
  const outA = new Set(a.outputs.map((o) => o.name));
  const outB = new Set(b.outputs.map((o) => o.name));
  return {
    inputs: { added: b.inputs.filter((i) => !before.has(i.name)), removed: a.inputs.filter((i) => !after.has(i.name)), changed },
    outputs: { added: b.outputs.filter((o) => !outA.has(o.name)), removed: a.outputs.filter((o) => !outB.has(o.name)) },
  };
}

export function compareSection(from: string, to: string, a: unknown, b: unknown): Html {
  const da = parseDocs(a);
  const db = parseDocs(b);
  if (!da || !db) return html`<p>Documentation is missing for ${!da ? from : to}; nothing to compare.</p>`;
  const d = diffDocs(da, db);
  const none = !d.inputs.added.length && !d.inputs.removed.length && !d.inputs.changed.length && !d.outputs.added.length && !d.outputs.removed.length;
  if (none) return html`<p role="status">Inputs and outputs are the same in ${from} and ${to}.</p>`;
  return html`<div class="table-wrap" tabindex="0"><table class="data"><caption>What changed from ${from} to ${to}</caption>
<thead><tr><th scope="col">Change</th><th scope="col">Name</th><th scope="col">${from}</th><th scope="col">${to}</th></tr></thead><tbody>
${d.inputs.added.map((i) => html`<tr><td class="added">Input added</td><td><code>${i.name}</code></td><td>—</td><td><code>${i.type ?? "any"}</code>${i.required ? " (required)" : html` = <code>${showDefault(i)}</code>`}</td></tr>`)}
${d.inputs.removed.map((i) => html`<tr><td class="removed">Input removed</td><td><code>${i.name}</code></td><td><code>${i.type ?? "any"}</code></td><td>—</td></tr>`)}
${d.inputs.changed.map((c) => html`<tr><td class="changed">Input changed (${c.what.join(", ")})</td><td><code>${c.after.name}</code></td><td><code>${c.before.type ?? "any"}</code> = <code>${showDefault(c.before)}</code>${c.before.required ? " (required)" : ""}</td><td><code>${c.after.type ?? "any"}</code> = <code>${showDefault(c.after)}</code>${c.after.required ? " (required)" : ""}</td></tr>`)}
${d.outputs.added.map((o) => html`<tr><td class="added">Output added</td><td><code>${o.name}</code></td><td>—</td><td>${o.description ?? ""}</td></tr>`)}
${d.outputs.removed.map((o) => html`<tr><td class="removed">Output removed</td><td><code>${o.name}</code></td><td>${o.description ?? ""}</td><td>—</td></tr>`)}
</tbody></table></div>`;
}
