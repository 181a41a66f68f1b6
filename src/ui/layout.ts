// The page shell every Explorer page shares: head with the hashed assets, skip link, top navigation, theme
// switch and account area, notices, and <main>.
import { ASSETS } from "./assets.ts";
import type { PageContext } from "./context.ts";
import { attr, html, type Html, type Part } from "./html.ts";

export type Section = "explorer" | "depots" | "stats" | "none";

const NAV: [Section, string, string][] = [
  ["explorer", "/", "Explorer"],
  ["depots", "/depots", "Depots"],
  ["stats", "/stats", "Stats"],
];

export function backParam(ctx: PageContext): string {
  return encodeURIComponent(ctx.url.pathname + ctx.url.search);
}

function themeSwitch(ctx: PageContext): Html {
  // Both links are rendered; CSS shows the one offering the other theme than the one in effect (the chosen one,
  // else the OS preference the server cannot know), so the switch is right without any script.
  const back = backParam(ctx);
  return html`<a class="theme-to-dark" href="/_ui/theme?set=dark&back=${back}" data-theme-set="dark">Dark theme</a><a class="theme-to-light" href="/_ui/theme?set=light&back=${back}" data-theme-set="light">Light theme</a>`;
}

function account(ctx: PageContext): Part {
  if (ctx.user) {
    const who = ctx.user.name ?? ctx.user.email ?? "Signed in";
    return html`<span class="user">${who}${ctx.user.email && ctx.user.name ? html` <span class="meta">(${ctx.user.email})</span>` : ""}</span><a href="/auth/logout">Sign out</a>`;
  }
  return ctx.signIn ? html`<a href="/auth/login?return=${backParam(ctx)}">Sign in</a>` : "";
}

export function page(ctx: PageContext, o: { title: string; section: Section; body: Part }): Html {
  return html`<!doctype html>
<html lang="en"${attr("data-theme", ctx.theme)}>
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${o.title} · OpenDepot</title>
<link rel="icon" href="${ASSETS.icon.path}" type="image/svg+xml">
<link rel="stylesheet" href="${ASSETS.css.path}">
<script src="${ASSETS.js.path}" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
<a class="brand" href="/">OpenDepot</a>
<nav aria-label="Main"><ul>${NAV.map(([s, href, label]) => html`<li><a href="${href}"${attr("aria-current", s === o.section && "page")}>${label}</a></li>`)}</ul></nav>
<div class="account">${themeSwitch(ctx)}${account(ctx)}</div>
</header>
${ctx.notice ? html`<div class="notice" role="status">${ctx.notice}</div>` : ""}
<main id="main" tabindex="-1">
${o.body}
</main>
<footer>OpenDepot registry</footer>
</body>
</html>`;
}
