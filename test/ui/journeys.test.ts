// The Registry Explorer in a real browser (Debian Chromium via playwright-core) against a real standalone
// registry populated through the controllers and the fake upstreams: the journeys a user makes, the same
// reading journeys with JavaScript disabled, a hostile README, and keyboard-only use of the Explorer.
import { describe, expect, test } from "bun:test";
import type { Page } from "playwright-core";
import { newContext, watchPage } from "./browser.ts";
import { explorerSession } from "./explorer-session.ts";

// Callbacks passed to page.evaluate run in the browser; the project's TypeScript lib has no DOM, so the few
// browser globals they touch are declared here (module-local).
declare const document: any;
declare const navigator: any;
declare function matchMedia(q: string): { matches: boolean };
declare function getComputedStyle(e: unknown): { backgroundColor: string };
type HTMLElement = any;

const session = explorerSession();

async function withPage<T>(options: { javaScriptEnabled?: boolean; clipboard?: boolean }, fn: (page: Page, problems: string[]) => Promise<T>): Promise<T> {
  const context = await newContext(session.browser, { ...options, baseURL: session.registry.url });
  const page = await context.newPage();
  const problems = watchPage(page);
  try {
    return await fn(page, problems);
  } finally {
    await context.close();
  }
}

const host = () => new URL(session.registry.url).host;

describe("with JavaScript", () => {
  test("find a module by typing, open it, read README and inputs, copy the usage snippet, switch version", async () => {
    await withPage({ clipboard: true }, async (page, problems) => {
      await page.goto("/");
      await page.getByLabel("Search").fill("netw");
      // Search as you type: results change without submitting, and the URL keeps the query for a reload.
      await page.waitForFunction(() => document.querySelectorAll("#results .card").length === 1);
      expect(await page.locator("#results .card h3").allTextContents()).toEqual(["network"]);
      expect(new URL(page.url()).searchParams.get("q")).toBe("netw");
      await page.reload();
      expect(await page.locator("#results .card h3").allTextContents()).toEqual(["network"]);

      await page.getByRole("link", { name: "network", exact: true }).click();
      await page.waitForURL("**/default/module/network");
      const readme = page.locator("section.readme");
      await expect(readme.getByRole("heading", { name: "network (v2.0.0)" }).count()).resolves.toBe(1);
      // The README's example points at this registry, not at the public one.
      expect(await readme.locator("pre.hcl").textContent()).toContain(`source  = "${host()}/default/network/aws"`);
      expect(await readme.getByRole("link", { name: "the guide" }).getAttribute("href")).toBe("https://github.com/acme/network/blob/v2.0.0/docs/guide.md");
      expect(await readme.getByRole("link", { name: "upstream" }).getAttribute("rel")).toBe("noopener noreferrer nofollow");

      // Copy the usage snippet and read the clipboard back.
      await page.getByRole("button", { name: "Copy" }).click();
      await page.getByText("Copied to the clipboard").waitFor();
      const clip = await page.evaluate(() => navigator.clipboard.readText());
      expect(clip).toBe(`module "network" {\n  source  = "${host()}/default/network/aws"\n  version = "2.0.0"\n}`);

      // Inputs (Documentation tab), then switch to 1.0.0 with the version selector.
      await page.getByRole("link", { name: "Documentation" }).click();
      await page.getByRole("heading", { name: "Inputs (4)" }).waitFor();
      expect(await page.locator("table", { has: page.locator("caption", { hasText: /^Inputs$/ }) }).locator("tbody tr td:first-child").allTextContents()).toEqual(["cidr", "tags", "enable_ipv6", "token sensitive"]);
      await page.getByLabel("Version").selectOption("1.0.0");
      await page.waitForURL(/version=1\.0\.0/);
      await page.getByRole("heading", { name: "Inputs (2)" }).waitFor();
      expect(page.url()).toContain("tab=docs");
      await page.reload(); // deep link survives
      await page.getByRole("heading", { name: "Inputs (2)" }).waitFor();

      // Compare 1.0.0 → 2.0.0.
      await page.getByRole("link", { name: "Compare" }).click();
      const rows = await page.locator("table tbody tr").allTextContents();
      expect(rows.some((r) => r.includes("Input added") && r.includes("enable_ipv6"))).toBe(true);
      expect(rows.some((r) => r.includes("Output removed") && r.includes("id"))).toBe(true);
      expect(rows.some((r) => r.includes("Input changed") && r.includes("cidr"))).toBe(true);
      expect(problems).toEqual([]);
    });
  }, 60_000);

  test("filter a provider's versions by OS, open its scan findings", async () => {
    await withPage({}, async (page, problems) => {
      await page.goto("/?kind=provider");
      await page.getByRole("link", { name: "random", exact: true }).click();
      await page.getByRole("link", { name: "Versions" }).click();
      const total = await page.locator("table tbody tr").count();
      await page.getByLabel("OS").selectOption("linux");
      await page.waitForURL(/os=linux/);
      const platforms = await page.locator("table tbody tr td:nth-child(3)").allTextContents();
      expect(platforms.length).toBeGreaterThan(0);
      expect(platforms.length).toBeLessThan(total);
      expect(platforms.every((p) => p.startsWith("linux/"))).toBe(true);

      await page.getByRole("link", { name: "Security" }).click();
      await page.getByRole("heading", { name: "linux/amd64" }).waitFor();
      expect(await page.locator("table tbody").textContent()).toContain("CVE-2023-9999");
      expect(problems).toEqual([]);
    });
  }, 60_000);

  test("open the depot graph, click a node, see its details; open stats", async () => {
    await withPage({}, async (page, problems) => {
      await page.goto("/");
      await page.getByRole("link", { name: "Depots" }).click();
      await page.locator('a[data-node="depot/default/mirror"]').click();
      const panel = page.locator("#graph-detail");
      await panel.getByRole("heading", { name: "Depot mirror" }).waitFor();
      expect(await panel.getByRole("link").allTextContents()).toEqual(["terraform-aws-vpc", "random"]);
      expect(page.url()).toContain("focus=depot%2Fdefault%2Fmirror");
      // The panel was swapped in place (no navigation), and the edges join the depot to what it manages.
      expect(await page.locator("svg path.edge").count()).toBe(2);
      await page.locator('a[data-node="module/default/network"]').click();
      await panel.getByRole("heading", { name: "Module network" }).waitFor();

      await page.getByRole("link", { name: "Stats" }).click();
      const cards = await page.locator("ul.cards li").allTextContents();
      expect(cards).toContain("5Modules");
      expect(cards).toContain("1Depots");
      expect(await page.locator("section", { hasText: "Security posture" }).textContent()).toContain("1 critical");
      expect(await page.locator("svg rect.bar").count()).toBe(30);
      expect(problems).toEqual([]);
    });
  }, 60_000);

  test("a hostile README runs no script and stays readable", async () => {
    await withPage({}, async (page, problems) => {
      await page.goto("/default/module/hostile");
      const readme = page.locator("section.readme");
      const text = (await readme.textContent()) ?? "";
      expect(text).toContain("Readable text before the payloads.");
      expect(text).toContain("Readable text after the payloads.");
      expect(text).toContain('<script>alert("entities")</script> is shown as text.');
      expect(await readme.locator("script, svg, img, iframe, object").count()).toBe(0);
      const hrefs = await readme.locator("a").evaluateAll((as) => as.map((a) => a.getAttribute("href") ?? ""));
      expect(hrefs.filter((h) => !/^https?:/.test(h))).toEqual([]);
      expect(await readme.locator("[onerror], [onload], [onclick]").count()).toBe(0);
      // Click everything that looks like a link; nothing may run.
      for (const el of await readme.locator("a, .dropped-link").all()) await el.click({ noWaitAfter: true, trial: false }).catch(() => undefined);
      await page.goto("/default/module/hostile");
      expect(problems).toEqual([]);
    });
  }, 60_000);

  test("keyboard only: the Explorer's focus order runs skip link → navigation → filters → results", async () => {
    await withPage({}, async (page) => {
      await page.goto("/");
      const order: string[] = [];
      for (let i = 0; i < 16; i++) {
        await page.keyboard.press("Tab");
        order.push(await page.evaluate(() => {
          const el = document.activeElement as HTMLElement | null;
          return el ? `${el.tagName.toLowerCase()}:${(el.getAttribute("aria-label") ?? el.id ?? "") || el.textContent?.trim().slice(0, 30)}` : "none";
        }));
      }
      expect(order.slice(0, 5)).toEqual(["a:Skip to content", "a:OpenDepot", "a:Explorer", "a:Depots", "a:Stats"]);
      const at = (s: string) => order.indexOf(s);
      expect(at("input:q")).toBeGreaterThan(at("a:Stats"));
      expect(at("select:namespace")).toBeGreaterThan(at("input:q"));
      expect(order).toContain("a:hostile");
      expect(at("a:hostile")).toBeGreaterThan(at("select:page_size"));
      // The skip link moves focus to <main>, and Enter on a card opens it.
      await page.goto("/");
      await page.keyboard.press("Tab");
      await page.keyboard.press("Enter");
      expect(await page.evaluate(() => document.activeElement?.id)).toBe("main");
      await page.locator("a", { hasText: "network" }).first().focus();
      await page.keyboard.press("Enter");
      await page.waitForURL("**/default/module/network");
    });
  }, 60_000);
});

describe("without JavaScript", () => {
  test("search, open, read README and inputs, switch version, filter versions, scan findings, depot node, stats", async () => {
    await withPage({ javaScriptEnabled: false }, async (page, problems) => {
      await page.goto("/");
      await page.getByLabel("Search").fill("netw");
      await page.getByRole("button", { name: "Apply" }).click();
      await page.waitForURL(/q=netw/);
      expect(await page.locator("#results .card h3").allTextContents()).toEqual(["network"]);
      await page.getByRole("link", { name: "network", exact: true }).click();
      expect(await page.locator("section.readme").textContent()).toContain("A module for networks.");
      expect(await page.locator("#usage-snippet").textContent()).toContain(`${host()}/default/network/aws`);
      expect(await page.getByRole("button", { name: "Copy" }).isVisible()).toBe(false); // needs script: hidden

      await page.getByLabel("Version").selectOption("1.0.0");
      await page.getByRole("button", { name: "Show" }).click();
      await page.getByRole("heading", { name: "network (v1.0.0)" }).waitFor();
      await page.getByRole("link", { name: "Documentation" }).click();
      await page.getByRole("heading", { name: "Inputs (2)" }).waitFor();

      await page.goto("/default/provider/random?tab=versions");
      await page.getByLabel("OS").selectOption("darwin");
      await page.getByRole("button", { name: "Filter" }).click();
      const platforms = await page.locator("table tbody tr td:nth-child(3)").allTextContents();
      expect(platforms.length).toBeGreaterThan(0);
      expect(platforms.every((p) => p.startsWith("darwin/"))).toBe(true);

      await page.goto("/default/module/network?tab=security");
      expect(await page.locator("table tbody").textContent()).toContain("CVE-2024-0001");

      await page.goto("/depots");
      await page.locator('a[data-node="depot/default/mirror"]').click();
      await page.locator("#graph-detail").getByRole("heading", { name: "Depot mirror" }).waitFor();

      await page.goto("/stats");
      expect(await page.locator("ul.cards").textContent()).toContain("Modules");

      await page.getByRole("link", { name: "Dark theme" }).click(); // the theme switch works as a plain link too
      expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe("dark");
      expect(page.url()).toEndWith("/stats");
      expect(problems).toEqual([]);
    });
  }, 60_000);
});
