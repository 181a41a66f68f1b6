// Finding (Medium): the manifests directory had no size or alias limits (a 461-byte YAML alias bomb became a 69 MB
// stored object; a 50 MB manifest took RSS to ~1 GB). Replayed with a real ManifestLoader over a directory holding
// bombs, an oversized file and a good manifest: the good one applies, each bad file gets its own clear error.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigMap, Module } from "../../src/api/kinds.ts";
import { silentLogger } from "../../src/log.ts";
import { EmbeddedStore } from "../../src/store/embedded.ts";
import { MAX_MANIFEST_BYTES } from "../../src/store/manifest-parse.ts";
import { ManifestLoader } from "../../src/store/manifests.ts";
import { SecurityTally } from "./capture.ts";

const tally = new SecurityTally("manifests directory");
const dir = mkdtempSync(join(tmpdir(), "opendepot-sec-manifests-"));
afterAll(() => {
  tally.print();
  rmSync(dir, { recursive: true, force: true });
});

/** A ConfigMap whose data values are aliases of aliases: `levels` levels of 9, ~35 bytes a level. */
function aliasBomb(levels: number): string {
  const names = "abcdefghijklmnop".split("").slice(0, levels);
  let y = `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: bomb-${levels}, namespace: default }\nx:\n  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n`;
  for (let i = 1; i < names.length; i++) y += `  ${names[i]}: &${names[i]} [${Array(9).fill(`*${names[i - 1]}`).join(",")}]\n`;
  return `${y}data:\n  v: *${names[names.length - 1]}\n`;
}

describe("manifests directory bounds", () => {
  test("alias bombs and an oversized file are refused per file; a good manifest still applies", async () => {
    const bombs = [6, 7];
    for (const n of bombs) writeFileSync(join(dir, `bomb-${n}.yaml`), aliasBomb(n));
    const big = `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: big, namespace: default }\ndata:\n  v: "${"x".repeat(MAX_MANIFEST_BYTES)}"\n`;
    writeFileSync(join(dir, "big.yaml"), big);
    writeFileSync(join(dir, "good.yaml"), "apiVersion: opendepot.defdev.io/v1alpha1\nkind: Module\nmetadata: { name: vpc, namespace: default }\nspec:\n  moduleConfig: { repoOwner: acme, provider: aws }\n  versions: [{ version: v1.0.0 }]\n");
    const store = EmbeddedStore.open(":memory:", { log: silentLogger });
    const loader = new ManifestLoader(store, dir, { log: silentLogger });
    try {
      const result = await loader.start();
      tally.tried += 3;
      const texts = result.errors.map((e) => e.text);
      for (const n of bombs) expect(texts.find((t) => t.includes(`bomb-${n}.yaml`)), `bomb-${n}`).toMatch(/doc 1: document refused: more than (\d+ values once YAML aliases are expanded|\d+ YAML aliases)/);
      expect(texts.find((t) => t.includes("big.yaml"))).toMatch(/more than the limit of 4194304; nothing in it was applied/);
      tally.refused += result.errors.length;
      expect(await store.get(Module, "default", "vpc")).toBeDefined();
      expect((await store.list(ConfigMap, {})).items).toHaveLength(0);
    } finally {
      loader.stop();
      await store.close();
    }
  });
});
