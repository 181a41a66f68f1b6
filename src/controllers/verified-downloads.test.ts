import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ProviderPackage } from "./fetch-provider.ts";
import { KeptDownloads } from "./verified-downloads.ts";

const dir = mkdtempSync(join(tmpdir(), "opendepot-kept-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function pkg(name: string, size: number): ProviderPackage {
  const path = join(dir, name);
  writeFileSync(path, new Uint8Array(size));
  return { path, size, sha256Hex: "", h1: "", protocols: [], upstreamFilename: name, signedBy: "", cleanup: () => rm(path, { force: true }) };
}

describe("KeptDownloads", () => {
  test("bounded by entries and bytes: the oldest files are removed from disk", async () => {
    const kept = new KeptDownloads({ maxEntries: 2, maxBytes: 250 });
    const a = pkg("a", 100);
    const b = pkg("b", 100);
    const c = pkg("c", 100);
    await kept.keep("a", a);
    await kept.keep("b", b);
    await kept.keep("c", c); // over both bounds: a goes
    expect(kept.size).toBe(2);
    expect(existsSync(a.path)).toBe(false);
    expect(await kept.take("a")).toBeUndefined();
    expect((await kept.take("c"))?.path).toBe(c.path);
    const huge = pkg("huge", 300);
    await kept.keep("huge", huge); // larger than the whole budget: not kept
    expect(existsSync(huge.path)).toBe(false);
  });

  test("expired, truncated or vanished files are not handed out", async () => {
    let now = 0;
    const kept = new KeptDownloads({ maxAgeMs: 1000, now: () => now });
    const old = pkg("old", 10);
    await kept.keep("old", old);
    now = 2000;
    expect(await kept.take("old")).toBeUndefined();
    expect(existsSync(old.path)).toBe(false);
    const cut = pkg("cut", 10);
    await kept.keep("cut", cut);
    writeFileSync(cut.path, new Uint8Array(5));
    expect(await kept.take("cut")).toBeUndefined();
  });
});
