// A small HCL/Terraform highlighter for README code fences: comments, strings (with ${...} left as text),
// numbers, booleans, block keywords and attribute names become <span class="hl-*">. Input is escaped text
// in, escaped markup out: every token passes through escapeHtml, so highlighting cannot inject markup.
import { escapeHtml } from "./html.ts";

const BLOCKS = new Set(["module", "resource", "data", "variable", "output", "provider", "terraform", "locals", "required_providers", "backend", "dynamic", "moved", "import", "check"]);
const TOKEN = /(#[^\n]*|\/\/[^\n]*|\/\*[\s\S]*?\*\/)|("(?:[^"\\\n]|\\.)*")|\b(\d+(?:\.\d+)?)\b|\b(true|false|null)\b|^([ \t]*)([A-Za-z_][\w-]*)(?=[ \t]*=(?!=))|^([ \t]*)([A-Za-z_][\w-]*)(?=[ \t]+["{A-Za-z])/gm;

export function highlightHcl(code: string): string {
  let out = "";
  let last = 0;
  for (const m of code.matchAll(TOKEN)) {
    out += escapeHtml(code.slice(last, m.index));
    last = m.index + m[0].length;
    const span = (cls: string, text: string) => `<span class="hl-${cls}">${escapeHtml(text)}</span>`;
    if (m[1]) out += span("comment", m[1]);
    else if (m[2]) out += span("string", m[2]);
    else if (m[3]) out += span("number", m[3]);
    else if (m[4]) out += span("literal", m[4]);
    else if (m[6]) out += escapeHtml(m[5] ?? "") + span("attr", m[6]);
    else if (m[8]) out += escapeHtml(m[7] ?? "") + (BLOCKS.has(m[8]) ? span("keyword", m[8]) : escapeHtml(m[8]));
  }
  return out + escapeHtml(code.slice(last));
}

const REGISTRY_ADDRESS = /^(?:[a-z0-9.-]+\.[a-z]{2,}(?::\d+)?\/|[0-9.]+:\d+\/)?([A-Za-z0-9_-]+)\/([A-Za-z0-9_-]+)\/([A-Za-z0-9_-]+)((?:\/\/[^"\s]*)?)$/;

/**
 * `source = "<registry address>"` lines pointing at this module (by its name or its repository's
 * `terraform-<provider>-<name>` name) are rewritten to this registry's address, so a copied README
 * example installs from here. Local paths, git/http/s3 sources and other modules are left alone.
 */
export function rewriteSources(code: string, target: { address: string; names: string[] }): string {
  return code.replace(/^([ \t]*source[ \t]*=[ \t]*)"([^"\n]*)"/gm, (line, prefix: string, value: string) => {
    const m = REGISTRY_ADDRESS.exec(value);
    if (!m || !target.names.includes(m[2]!)) return line;
    return `${prefix}"${target.address}${m[4] ?? ""}"`;
  });
}
