// Debian's Chromium driven by playwright-core, launched the way this machine allows (no sandbox as root, no
// background networking, a fresh profile), plus what the Explorer tests check on every page: no console
// errors, no dialogs, axe-core's serious/critical violations, and screenshots under .tmp/ui-screenshots/.
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM_BIN ?? "/usr/bin/chromium";
export const SCREENSHOTS = join(import.meta.dir, "..", "..", ".tmp", "ui-screenshots");
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

export async function launchChromium(): Promise<Browser> {
  if (!(await Bun.file(CHROMIUM).exists())) throw new Error(`Chromium not found at ${CHROMIUM}: run .ci/install/chromium.sh`);
  // playwright-core gives every launch a new, empty --user-data-dir of its own (and refuses one passed in args).
  return chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true });
}

/** Problems a page reported: console errors, uncaught exceptions and any dialog (alert/confirm/prompt). */
export function watchPage(page: Page): string[] {
  const problems: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console error: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("dialog", (d) => {
    problems.push(`dialog ${d.type()}: ${d.message()}`);
    void d.dismiss();
  });
  return problems;
}

export async function newContext(browser: Browser, options: { javaScriptEnabled?: boolean; colorScheme?: "light" | "dark"; viewport?: { width: number; height: number }; clipboard?: boolean; baseURL?: string } = {}): Promise<BrowserContext> {
  const context = await browser.newContext({
    javaScriptEnabled: options.javaScriptEnabled ?? true,
    colorScheme: options.colorScheme ?? "light",
    viewport: options.viewport ?? { width: 1280, height: 900 },
    ...(options.baseURL ? { baseURL: options.baseURL } : {}),
  });
  if (options.clipboard && options.baseURL) await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: options.baseURL });
  return context;
}

const axeSource = readFile(join(import.meta.dir, "..", "..", "node_modules", "axe-core", "axe.min.js"), "utf8");

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; failureSummary?: string }[];
}

/** axe-core's serious and critical violations on the page as it is now. */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  // Injected through the DevTools protocol (page.evaluate), which the page's CSP rightly does not let a <script> do.
  await page.evaluate(`${await axeSource};0`);
  const result = (await page.evaluate(`axe.run(document, { resultTypes: ["violations"] })`)) as { violations: AxeViolation[] };
  return result.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => ({ target: n.target, failureSummary: n.failureSummary })) }));
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}
