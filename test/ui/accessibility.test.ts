// axe-core on every Explorer page in both themes (zero serious or critical violations), and screenshots of
// each page at desktop and phone widths under .tmp/ui-screenshots/ for people to look at.
import { expect, test } from "bun:test";
import { newContext, screenshot, seriousViolations, watchPage, type AxeViolation } from "./browser.ts";
import { explorerSession } from "./explorer-session.ts";

// Callbacks passed to page.evaluate run in the browser; the project's TypeScript lib has no DOM, so the few
// browser globals they touch are declared here (module-local).
declare const document: any;
declare const navigator: any;
declare function matchMedia(q: string): { matches: boolean };
declare function getComputedStyle(e: unknown): { backgroundColor: string };

const session = explorerSession();

const PAGES: [string, string][] = [
  ["explorer", "/"],
  ["explorer-search", "/?q=zzz-nothing"],
  ["module", "/default/module/network"],
  ["module-docs", "/default/module/network?tab=docs"],
  ["module-versions", "/default/module/network?tab=versions"],
  ["module-security", "/default/module/network?tab=security"],
  ["module-compare", "/default/module/network?tab=compare&from=1.0.0&to=2.0.0"],
  ["module-hostile", "/default/module/hostile"],
  ["provider", "/default/provider/random"],
  ["provider-versions", "/default/provider/random?tab=versions&os=linux"],
  ["provider-security", "/default/provider/random?tab=security"],
  ["depots", "/depots?focus=depot/default/mirror"],
  ["stats", "/stats"],
  ["not-found", "/default/module/nothing-here"],
  ["bad-request", "/?kind=bogus"],
];

const VIEWPORTS = { desktop: { width: 1280, height: 900 }, phone: { width: 390, height: 844 } } as const;

for (const theme of ["light", "dark"] as const) {
  test(`axe-core: no serious or critical violations on any page (${theme} theme), screenshots at desktop and phone widths`, async () => {
    const found: Record<string, AxeViolation[]> = {};
    for (const [size, viewport] of Object.entries(VIEWPORTS)) {
      const context = await newContext(session.browser, { colorScheme: theme, viewport, baseURL: session.registry.url });
      const page = await context.newPage();
      const problems = watchPage(page);
      for (const [name, path] of PAGES) {
        const response = await page.goto(path);
        expect(response?.status()).toBe(name === "not-found" ? 404 : name === "bad-request" ? 400 : 200);
        // The theme in effect is the one asked for (OS preference, no cookie).
        const dark = await page.evaluate(() => matchMedia("(prefers-color-scheme: dark)").matches);
        expect(dark).toBe(theme === "dark");
        await screenshot(page, `${name}-${size}-${theme}`);
        const violations = await seriousViolations(page);
        if (violations.length) found[`${size} ${path}`] = violations;
      }
      // 404 and 400 answers are the only errors a console may show (the browser logs failed navigations).
      expect(problems.filter((p) => !/status of 40[04]/.test(p))).toEqual([]);
      await context.close();
    }
    expect(found).toEqual({});
  }, 240_000);
}

test("the chosen theme (cookie) wins over the OS preference and is announced by the switch", async () => {
  const context = await newContext(session.browser, { colorScheme: "dark", baseURL: session.registry.url });
  const page = await context.newPage();
  await page.goto("/stats");
  expect(await page.getByRole("link", { name: "Light theme" }).isVisible()).toBe(true);
  await page.getByRole("link", { name: "Light theme" }).click();
  expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe("light");
  expect(await page.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe("rgb(247, 248, 250)");
  await page.reload(); // remembered in the cookie, rendered by the server
  expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe("light");
  expect(await page.getByRole("link", { name: "Dark theme" }).isVisible()).toBe(true);
  expect((await seriousViolations(page)).length).toBe(0);
  await context.close();
}, 60_000);
