import { describe, expect, test } from "bun:test";
import { readFile } from "node:fs/promises";
import { bundleClientScript, CLIENT_BUNDLE_FILE, clientBundleModule } from "../../scripts/ui-bundle.ts";
import { CLIENT_SCRIPT } from "./client-bundle.ts";

describe("the Explorer's client bundle", () => {
  test("committed src/ui/client-bundle.ts is the bundle of src/ui/client/ (run `bun run gen:ui` after changing it)", async () => {
    const fresh = bundleClientScript();
    expect(fresh.length).toBeGreaterThan(100);
    expect((await readFile(CLIENT_BUNDLE_FILE, "utf8")) === clientBundleModule(fresh)).toBe(true);
    expect(CLIENT_SCRIPT).toBe(fresh);
  });
});
