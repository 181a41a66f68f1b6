// One standalone registry with the Explorer's fixtures (ui-registry.ts) and one Chromium per test file: started
// before the file's first test and closed after its last. The returned object is filled in by then.
import { afterAll, beforeAll } from "bun:test";
import type { Browser } from "playwright-core";
import { launchChromium } from "./browser.ts";
import { startUiRegistry, type UiRegistry } from "./ui-registry.ts";

export interface ExplorerSession {
  registry: UiRegistry;
  browser: Browser;
}

export function explorerSession(): ExplorerSession {
  const session = {} as ExplorerSession;
  beforeAll(async () => {
    session.registry = await startUiRegistry();
    session.browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await session.browser?.close();
    await session.registry?.stop();
  });
  return session;
}
