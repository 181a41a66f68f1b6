// READMEs are hostile input. GitHub-flavoured markdown through `marked`, with every escape hatch closed here:
// raw HTML (block and inline) is shown as text, never parsed; link and image URLs are decoded, then only
// http(s)/mailto and relative ones survive (javascript:, data:, vbscript:, entity tricks dropped); relative
// ones resolve against the module's repository at the shown tag; links get rel="noopener noreferrer nofollow";
// fenced hcl/terraform blocks are highlighted and their `source` rewritten to this registry.
import { createHash } from "node:crypto";
import { Marked, type Tokens } from "marked";
import { escapeHtml } from "./html.ts";
import { highlightHcl, rewriteSources } from "./hcl-highlight.ts";

export interface ReadmeContext {
  /** https://github.com/owner/repo (no trailing slash), for relative links and images. */
  repoUrl?: string;
  /** The git ref the README was read at (the Version's tag). */
  ref?: string;
  /** This registry's address of the module and the names a README may call it by. */
  source?: { address: string; names: string[] };
}

const MAX_README_CHARS = 512 * 1024;
const HCL_LANGS = new Set(["hcl", "terraform", "tf", "opentofu", "tofu"]);

const NAMED_ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", colon: ":", tab: "\t", newline: "\n", sol: "/", lpar: "(", rpar: ")" };

/** Undo character references (`&#x6a;`, `&colon;`), as a browser would before following the URL. */
function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);?/gi, (all, body: string) => {
    if (body[0] === "#") {
      const code = body[1] === "x" || body[1] === "X" ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      return Number.isFinite(code) && code > 0 && code < 0x110000 ? String.fromCodePoint(code) : "";
    }
    return NAMED_ENTITIES[body.toLowerCase()] ?? all;
  });
}

/** The URL to emit, or undefined to drop it. `kind` picks /blob/ (pages) or /raw/ (images) for relative paths. */
export function safeUrl(href: string, kind: "link" | "image", ctx: ReadmeContext): string | undefined {
  let decoded = decodeEntities(href);
  try {
    decoded = decodeURI(decoded);
  } catch {
    /* keep as is: a malformed escape is not a scheme */
  }
  // Browsers ignore control characters and whitespace inside a scheme ("java\nscript:").
  const probe = decoded.replace(/[\u0000-\u0020\u007f-\u009f]/g, "");
  if (/^[a-z][a-z0-9+.-]*:/i.test(probe)) {
    const scheme = probe.slice(0, probe.indexOf(":")).toLowerCase();
    if (scheme === "http" || scheme === "https") return probe.startsWith(decoded.trim()) ? decoded.trim() : probe;
    if (scheme === "mailto" && kind === "link") return probe;
    return undefined;
  }
  if (probe.startsWith("//")) return `https:${probe}`;
  if (probe.startsWith("#")) return kind === "link" ? probe : undefined;
  if (!ctx.repoUrl) return undefined;
  const path = probe.replace(/^\.\//, "").replace(/^\//, "");
  const ref = encodeURIComponent(ctx.ref ?? "HEAD");
  try {
    const url = new URL(`${ctx.repoUrl}/${kind === "image" ? "raw" : "blob"}/${ref}/${path}`);
    return url.protocol === "https:" || url.protocol === "http:" ? url.toString() : undefined;
  } catch {
    return undefined;
  }
}

function markedFor(ctx: ReadmeContext): Marked {
  return new Marked({
    gfm: true,
    async: false,
    renderer: {
      // README headings sit under the page's h1 and the README card's h2.
      heading(this: { parser: { parseInline(t: Tokens.Generic[]): string } }, { tokens, depth }: Tokens.Heading) {
        const level = Math.min(6, depth + 2);
        return `<h${level}>${this.parser.parseInline(tokens)}</h${level}>\n`;
      },
      html({ text }: Tokens.HTML | Tokens.Tag) {
        return `<span class="raw-html">${escapeHtml(text)}</span>`;
      },
      link(this: { parser: { parseInline(t: Tokens.Generic[]): string } }, { href, title, tokens }: Tokens.Link) {
        const inner = this.parser.parseInline(tokens);
        const url = safeUrl(href, "link", ctx);
        if (!url) return `<span class="dropped-link">${inner}</span>`;
        const external = !url.startsWith("#");
        return `<a href="${escapeHtml(url)}"${title ? ` title="${escapeHtml(title)}"` : ""}${external ? ' rel="noopener noreferrer nofollow"' : ""}>${inner}</a>`;
      },
      image({ href, title, text }: Tokens.Image) {
        const url = safeUrl(href, "image", ctx);
        if (!url) return escapeHtml(text);
        return `<img src="${escapeHtml(url)}" alt="${escapeHtml(text)}"${title ? ` title="${escapeHtml(title)}"` : ""} loading="lazy" referrerpolicy="no-referrer">`;
      },
      code({ text, lang }: Tokens.Code) {
        const language = (lang ?? "").trim().split(/\s+/)[0]!.toLowerCase();
        if (HCL_LANGS.has(language)) {
          const code = ctx.source ? rewriteSources(text, ctx.source) : text;
          return `<pre class="code hcl" tabindex="0"><code data-lang="${escapeHtml(language)}">${highlightHcl(code)}</code></pre>\n`;
        }
        return `<pre class="code" tabindex="0"><code>${escapeHtml(text)}</code></pre>\n`;
      },
    },
  });
}

const MEMO_ENTRIES = 256;
const memo = new Map<string, string>();

/** renderReadme, remembered per (README, context): a README changes only with a new Version. */
export function renderReadmeCached(markdown: string, ctx: ReadmeContext): string {
  const key = `${createHash("sha1").update(markdown).digest("base64")}|${markdown.length}|${ctx.repoUrl}|${ctx.ref}|${ctx.source?.address}|${ctx.source?.names.join(",")}`;
  let out = memo.get(key);
  if (out === undefined) {
    out = renderReadme(markdown, ctx);
    if (memo.size >= MEMO_ENTRIES) memo.clear();
    memo.set(key, out);
  }
  return out;
}

export function renderReadme(markdown: string, ctx: ReadmeContext = {}): string {
  const text = markdown.length > MAX_README_CHARS ? `${markdown.slice(0, MAX_README_CHARS)}\n\n…(README truncated)` : markdown;
  return markedFor(ctx).parse(text, { async: false }) as string;
}
