import { describe, expect, test } from "bun:test";
import { githubTarball } from "../../fixtures/github-archives.ts";
import { moduleDocsFixtureFiles, moduleDocsFixtureTree } from "../../fixtures/module-docs/index.ts";
import { readArchiveModuleSources } from "./module-docs-archive.ts";
import { readModuleSources, type ModuleSources } from "./module-docs-files.ts";
import { repackageModule, type ArchiveFormat } from "./repackage.ts";

const top = "acme-terraform-aws-vpc-1a2b3c4";
const source = (files = moduleDocsFixtureTree("terraform-aws-vpc")) => githubTarball(top, files, new Date(Date.UTC(2024, 4, 1)), "1a2b3c4".padEnd(40, "0"));
const stream = (b: Uint8Array) => new Response(b).body!;

/** Repackages like a sync does, keeping what the repackager handed the extractor. */
async function repackage(format: ArchiveFormat, files?: Parameters<typeof source>[0]): Promise<{ archive: Uint8Array; atSync: ModuleSources }> {
  let atSync: ModuleSources | undefined;
  const out = repackageModule(stream(source(files)), "tar.gz", format, { onFiles: async (f) => void (atSync = await readModuleSources(f)) });
  const archive = new Uint8Array(await new Response(out).arrayBuffer());
  return { archive, atSync: atSync! };
}

describe("configuration files from a stored (repackaged) archive", () => {
  for (const format of ["tar.gz", "zip"] as const) {
    test(`${format}: the same files the repackager handed over at sync time`, async () => {
      const { archive, atSync } = await repackage(format);
      const stored = await readArchiveModuleSources(stream(archive), format);
      expect(stored.files.map((f) => f.path)).toEqual(atSync.files.map((f) => f.path));
      expect(stored).toEqual(atSync);
      // And those are the fixture's configuration files, byte for byte (README and the rest left out).
      const fixture = moduleDocsFixtureFiles("terraform-aws-vpc");
      expect(stored.files).toHaveLength(14);
      for (const f of stored.files) expect(new TextDecoder().decode(f.content)).toBe(new TextDecoder().decode(fixture[f.path]));
    });
  }

  test("the documentation limits apply: an oversized file is named in skipped, never buffered", async () => {
    const files = { ...moduleDocsFixtureTree("terraform-aws-vpc"), "generated.tf": `locals {\n  blob = "${"x".repeat(300 * 1024)}"\n}\n` };
    const { archive } = await repackage("tar.gz", files);
    const stored = await readArchiveModuleSources(stream(archive), "tar.gz");
    expect(stored.skipped).toEqual([{ file: "generated.tf", message: `${files["generated.tf"].length} bytes, over the 262144-byte limit per file` }]);
    expect(stored.files.map((f) => f.path)).not.toContain("generated.tf");
  });

  test("a damaged archive is an error, not an empty module", async () => {
    const { archive } = await repackage("tar.gz");
    await expect(readArchiveModuleSources(stream(archive.subarray(0, 200)), "tar.gz")).rejects.toThrow();
    const zip = (await repackage("zip")).archive;
    await expect(readArchiveModuleSources(stream(zip.subarray(0, zip.byteLength - 30)), "zip")).rejects.toThrow();
  });

  test("an archive beyond the size cap is refused", async () => {
    const { archive } = await repackage("zip");
    await expect(readArchiveModuleSources(stream(archive), "zip", { maxArchiveBytes: 1_000 })).rejects.toThrow("zip archive exceeds 1000 bytes");
  });
});
