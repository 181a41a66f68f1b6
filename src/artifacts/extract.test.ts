import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, lstatSync } from "node:fs";
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { zipSync } from "fflate";
import { ExtractError, extractModuleArchive, extractProviderBinary, safeRelativePath } from "./extract.ts";
import { TAR_END, tarEntryHeader, tarPadding } from "./repackage-tar.ts";
import { gzipSync } from "node:zlib";

let root: string;
let n = 0;
const enc = new TextEncoder();
const FILE = 0o100644 * 65536;
const EXEC = 0o100755 * 65536;
const LINK = 0o120777 * 65536;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "opendepot-extract-"));
});
afterAll(() => rm(root, { recursive: true, force: true }));

async function fresh(): Promise<{ dir: string; file: (name: string, bytes: Uint8Array) => Promise<string> }> {
  const dir = join(root, `case-${++n}`);
  await mkdir(join(dir, "out"), { recursive: true });
  return { dir: join(dir, "out"), file: async (name, bytes) => (await writeFile(join(dir, name), bytes), join(dir, name)) };
}
function tarGz(entries: { path: string; type?: "0" | "5" | "2"; body?: string; linkTarget?: string }[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const e of entries) {
    const body = enc.encode(e.body ?? "");
    parts.push(...tarEntryHeader({ path: e.path, type: e.type ?? "0", mode: 0o644, size: e.type === "0" || !e.type ? body.byteLength : 0, linkTarget: e.linkTarget }));
    if (!e.type || e.type === "0") parts.push(body, tarPadding(body.byteLength));
  }
  parts.push(TAR_END);
  return gzipSync(Buffer.concat(parts));
}
const zip = (entries: Record<string, [string, number]>) => zipSync(Object.fromEntries(Object.entries(entries).map(([k, [body, attrs]]) => [k, [enc.encode(body), { os: 3, attrs }]])));

describe("module archives", () => {
  test("zip and tar.gz extract to private files and dirs", async () => {
    const z = await fresh();
    const got = await extractModuleArchive(await z.file("m.zip", zip({ "main.tf": ["a", FILE], "modules/sub/main.tf": ["b", FILE] })), "zip", z.dir);
    expect(got).toEqual({ files: 2, bytes: 2 });
    expect(await readFile(join(z.dir, "modules/sub/main.tf"), "utf8")).toBe("b");
    expect(lstatSync(join(z.dir, "main.tf")).mode & 0o777).toBe(0o600);
    const t = await fresh();
    await extractModuleArchive(await t.file("m.tar.gz", tarGz([{ path: "modules", type: "5" }, { path: "modules/x.tf", body: "x" }, { path: "main.tf", body: "m" }])), "tar.gz", t.dir);
    expect((await readdir(t.dir)).sort()).toEqual(["main.tf", "modules"]);
  });

  for (const bad of ["../evil.tf", "a/../../evil.tf", "/etc/evil.tf", "a\\..\\evil.tf"]) {
    test(`refuses ${JSON.stringify(bad)}`, async () => {
      const t = await fresh();
      await expect(extractModuleArchive(await t.file("m.tar.gz", tarGz([{ path: bad, body: "x" }])), "tar.gz", t.dir)).rejects.toThrow(ExtractError);
      expect(existsSync(join(t.dir, "..", "evil.tf"))).toBe(false);
    });
  }

  test("symlinks are never created (zip and tar); a later file cannot be written through one", async () => {
    const t = await fresh();
    await extractModuleArchive(await t.file("m.tar.gz", tarGz([{ path: "link", type: "2", linkTarget: "/etc" }, { path: "main.tf", body: "m" }])), "tar.gz", t.dir);
    expect(existsSync(join(t.dir, "link"))).toBe(false);
    const z = await fresh();
    await extractModuleArchive(await z.file("m.zip", zip({ link: ["/etc/passwd", LINK], "main.tf": ["m", FILE] })), "zip", z.dir);
    expect(existsSync(join(z.dir, "link"))).toBe(false);
  });

  test("a duplicate entry is refused rather than overwriting", async () => {
    const t = await fresh();
    await expect(extractModuleArchive(await t.file("m.tar.gz", tarGz([{ path: "a.tf", body: "1" }, { path: "a.tf", body: "2" }])), "tar.gz", t.dir)).rejects.toThrow("duplicate");
  });

  test("size and entry-count bombs are stopped on real bytes", async () => {
    const big = "x".repeat(200_000);
    const t = await fresh();
    await expect(extractModuleArchive(await t.file("m.tar.gz", tarGz([{ path: "a.tf", body: big }])), "tar.gz", t.dir, { maxTotalBytes: 100_000 })).rejects.toThrow("limit");
    const z = await fresh();
    await expect(extractModuleArchive(await z.file("m.zip", zip({ "a.tf": [big, FILE] })), "zip", z.dir, { maxTotalBytes: 100_000 })).rejects.toThrow("limit");
    const many = await fresh();
    const entries = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`f${i}.tf`, ["x", FILE] as [string, number]]));
    await expect(extractModuleArchive(await many.file("m.zip", zip(entries)), "zip", many.dir, { maxEntries: 10 })).rejects.toThrow("entries");
  });

  test("a zip whose entry inflates beyond its declared size is refused", async () => {
    const z = await fresh();
    const bytes = zip({ "a.tf": ["y".repeat(50_000), FILE] });
    // Lower the declared uncompressed size in the central directory (offset 24 of the record) to 10 bytes.
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = bytes.byteLength - 22; i >= 0; i--) if (view.getUint32(i, true) === 0x02014b50) { view.setUint32(i + 24, 10, true); break; }
    await expect(extractModuleArchive(await z.file("m.zip", bytes), "zip", z.dir)).rejects.toThrow(ExtractError);
  });

  test("safeRelativePath", () => {
    expect(safeRelativePath("./a//b/./c.tf")).toBe("a/b/c.tf");
    expect(() => safeRelativePath("a\0b")).toThrow(ExtractError);
    expect(() => safeRelativePath("C:evil")).toThrow(ExtractError);
  });
});

describe("provider binaries", () => {
  test("the first executable that is not docs becomes provider-binary, mode 0500", async () => {
    const z = await fresh();
    const path = await z.file("p.zip", zip({ "CHANGELOG.md": ["log", EXEC], "LICENSE.txt": ["l", FILE], "terraform-provider-x_v1.0.0": ["ELF...", EXEC] }));
    const got = await extractProviderBinary(path, z.dir);
    expect(got?.entry).toBe("terraform-provider-x_v1.0.0");
    expect(await readFile(got!.path, "utf8")).toBe("ELF...");
    expect(lstatSync(got!.path).mode & 0o777).toBe(0o500);
  });
  test("no executable entry → undefined (nothing to scan, said so by the caller)", async () => {
    const z = await fresh();
    expect(await extractProviderBinary(await z.file("p.zip", zip({ "terraform-provider-x": ["x", FILE] })), z.dir)).toBeUndefined();
  });
});
