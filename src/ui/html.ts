// Tagged-template HTML with escaping by default: every interpolated value is escaped unless it is already Html
// (built by this tag or by a renderer that sanitised it). No dependency, no virtual DOM: pages are strings, which
// keeps server rendering in the microseconds and makes "forgot to escape" the thing that needs effort.
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

export type Part = Html | string | number | boolean | null | undefined | Part[];

function render(part: Part): string {
  if (part === null || part === undefined || part === false || part === true) return "";
  if (part instanceof Html) return part.value;
  if (Array.isArray(part)) return part.map(render).join("");
  return escapeHtml(String(part));
}

export function html(strings: TemplateStringsArray, ...values: Part[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!;
  return new Html(out);
}

/** Markup produced by a trusted renderer (the sanitising markdown renderer, server-built SVG). */
export const trusted = (markup: string) => new Html(markup);

/** An attribute present only when `on` (e.g. `aria-current`). */
export const attr = (name: string, value: string | undefined | false) => (value === undefined || value === false ? "" : html` ${trusted(name)}="${value}"`);
