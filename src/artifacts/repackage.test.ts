import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync, unzipSync, zipSync } from "fflate";
import { type FileTree, githubTarball, githubZipball } from "../../fixtures/github-archives.ts";
import { type ArchiveFormat, type ModuleReadme, repackageModule, RepackageError, type RepackageOptions } from "./repackage.ts";
import { tarHeader, tarPadding, TAR_END } from "./repackage-tar.ts";
import { createHash } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { runSync } from "../../test/support/processes.ts";

// CI needs the system `tar` and `unzip` (Debian: tar, unzip) for the interoperability checks below.
const work = mkdtempSync(join(tmpdir(), "repackage-test-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const files: FileTree = {
  "main.tf": 'module "sub" { source = "./modules/sub" }\n',
  "README.md": "# Module\n",
  "readme.txt": "not preferred\n",
  "modules/sub/main.tf": 'output "x" { value = 1 }\n',
  "scripts/run.sh": { content: "#!/bin/sh\necho hi\n", mode: 0o755 },
  "link.tf": { symlink: "main.tf" },
  "escape": { symlink: "../../etc/passwd" },
  [`deep/${"d".repeat(60)}/${"e".repeat(60)}/file.tf`]: "long path\n",
  [`${"p".repeat(120)}/${"q".repeat(120)}/needs-pax.tf`]: "pax path\n", // > ustar's 155+100
};
const top = "acme-terraform-aws-vpc-1a2b3c4";
const stream = (b: Uint8Array) => new Response(b).body!;
// A fresh process of the runtime running this test (Bun: `bun -e`; Deno: `deno eval`, with the repository's
// deno.json and a gc() for the memory measurement).
const RUNTIME = join(import.meta.dirname, "..", "runtime", "index.ts");
const evalArgv = (script: string) =>
  "Deno" in globalThis ? [process.execPath, "eval", "--config", join(import.meta.dirname, "..", "..", "deno.json"), "--v8-flags=--expose-gc", script] : [process.execPath, "-e", script];
const sha = (b: ArrayBuffer | Uint8Array) => createHash("sha256").update(new Uint8Array(b)).digest("hex");
const zipball = (mtime = new Date(Date.UTC(2024, 4, 1))) => githubZipball(top, files, mtime);
const tarball = (mtime = new Date(Date.UTC(2024, 4, 1))) => githubTarball(top, files, mtime, "1a2b3c4".padEnd(40, "0"));

async function repack(input: Uint8Array, from: ArchiveFormat, to: ArchiveFormat, o: RepackageOptions = {}): Promise<Uint8Array> {
  return new Uint8Array(await new Response(repackageModule(stream(input), from, to, o)).arrayBuffer());
}
async function failure(input: Uint8Array, from: ArchiveFormat, o: RepackageOptions = {}): Promise<Error> {
  const e = await repack(input, from, "tar.gz", o).then(() => undefined, (err) => err);
  expect(e).toBeInstanceOf(RepackageError);
  return e as Error;
}
function run(cmd: string[], cwd = work): string {
  const p = runSync(cmd, { cwd, env: { ...process.env, TZ: "UTC" } });
  if (p.exitCode !== 0) throw new Error(`${cmd.join(" ")}: ${p.stderr.toString()}`);
  return p.stdout.toString();
}

describe("GitHub archives → module at the root", () => {
  for (const from of ["zip", "tar.gz"] as const) {
    for (const to of ["zip", "tar.gz"] as const) {
      test(`${from} → ${to}: files at root, modes kept, escaping symlink dropped, README reported`, async () => {
        const warnings: string[] = [];
        let readme: ModuleReadme | undefined;
        const out = await repack(from === "zip" ? zipball() : tarball(), from, to, { onWarning: (w) => warnings.push(w), onReadme: (r) => void (readme = r) });
        expect(readme).toEqual({ path: "README.md", content: "# Module\n", truncated: false });
        expect(warnings).toEqual(["dropped symlink escape -> ../../etc/passwd: target is outside the module"]);
        const file = join(work, `out-${from}.${to}`);
        await writeFile(file, out);
        const dir = mkdtempSync(join(work, "x-"));
        run(to === "zip" ? ["unzip", "-q", file, "-d", dir] : ["tar", "-xzf", file, "-C", dir]);
        expect(readFileSync(join(dir, "modules/sub/main.tf"), "utf8")).toBe('output "x" { value = 1 }\n');
        expect(statSync(join(dir, "scripts/run.sh")).mode & 0o777).toBe(0o755);
        expect(statSync(join(dir, "main.tf")).mode & 0o777).toBe(0o644);
        expect(readFileSync(join(dir, "link.tf"), "utf8")).toBe(readFileSync(join(dir, "main.tf"), "utf8"));
        expect(readFileSync(join(dir, `deep/${"d".repeat(60)}/${"e".repeat(60)}/file.tf`), "utf8")).toBe("long path\n");
        expect(readFileSync(join(dir, `${"p".repeat(120)}/${"q".repeat(120)}/needs-pax.tf`), "utf8")).toBe("pax path\n");
        const listing = to === "zip" ? run(["unzip", "-l", file]) : run(["tar", "-tzvf", file]);
        expect(listing).not.toContain(top);
        expect(listing).not.toContain("escape");
        expect(listing).toContain("1980-01-01 00:00");
        if (to === "zip") run(["unzip", "-tq", file]);
      });
    }
  }
});

describe("determinism", () => {
  test("same input twice, regenerated input, and zip vs tar input give byte-identical output", async () => {
    for (const to of ["zip", "tar.gz"] as const) {
      const a = sha(await repack(zipball(), "zip", to));
      expect(sha(await repack(zipball(), "zip", to))).toBe(a);
      expect(sha(await repack(zipball(new Date(Date.UTC(2025, 0, 1))), "zip", to))).toBe(a);
      expect(sha(await repack(tarball(new Date(Date.UTC(2023, 0, 1))), "tar.gz", to))).toBe(a);
    }
  });

  test("entry order of the input does not matter", async () => {
    const reversed: FileTree = Object.fromEntries(Object.entries(files).reverse());
    const a = githubZipball(top, files, new Date());
    const b = githubZipball(top, reversed, new Date());
    expect(sha(await repack(a, "zip", "tar.gz"))).toBe(sha(await repack(b, "zip", "tar.gz")));
  });

  test("output does not depend on the machine's time zone", async () => {
    const input = join(work, "tz-input.zip");
    await writeFile(input, zipball());
    const script = `import { repackageModule } from ${JSON.stringify(join(import.meta.dirname, "repackage.ts"))};
      import { runtime } from ${JSON.stringify(RUNTIME)};
      import { createHash } from "node:crypto";
      const out = await new Response(repackageModule(runtime.readStream(${JSON.stringify(input)}), "zip", "zip")).arrayBuffer();
      console.log(createHash("sha256").update(new Uint8Array(out)).digest("hex"));`;
    const hashes = ["UTC", "Pacific/Auckland", "America/Los_Angeles"].map((TZ) =>
      runSync(evalArgv(script), { env: { ...process.env, TZ } }).stdout.toString().trim());
    expect(hashes[0]).toMatch(/^[0-9a-f]{64}$/);
    expect(new Set(hashes).size).toBe(1);
  });

  test("gzip header carries no timestamp or name", async () => {
    const out = await repack(zipball(), "zip", "tar.gz");
    expect([...out.subarray(0, 10)]).toEqual([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);
  });
});

function tarOf(entries: { name: string; data?: string; type?: string; linkname?: string }[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const e of entries) {
    const data = new TextEncoder().encode(e.data ?? "");
    parts.push(tarHeader({ name: e.name, mode: 0o644, size: data.byteLength, type: e.type ?? "0", linkname: e.linkname }), data, tarPadding(data.byteLength));
  }
  parts.push(TAR_END);
  return gzipSync(Buffer.concat(parts));
}

describe("unsafe archives", () => {
  const cases: [string, Uint8Array, ArchiveFormat, RegExp][] = [
    ["tar ..", tarOf([{ name: "top/", type: "5" }, { name: "top/../../evil.tf", data: "x" }]), "tar.gz", /path traversal/],
    ["zip ..", zipSync({ "top/a.tf": new Uint8Array(1), "top/../../evil.tf": new Uint8Array(1) }), "zip", /path traversal/],
    ["tar absolute", tarOf([{ name: "/etc/passwd", data: "x" }]), "tar.gz", /absolute path/],
    ["zip absolute", zipSync({ "/top/a.tf": new Uint8Array(1) }), "zip", /absolute path/],
    ["backslash", zipSync({ "top\\..\\evil": new Uint8Array(1) }), "zip", /unsafe archive entry name/],
    ["two top dirs", zipSync({ "a/x.tf": new Uint8Array(1), "b/y.tf": new Uint8Array(1) }), "zip", /exactly one top-level directory/],
    ["file at top", tarOf([{ name: "main.tf", data: "x" }]), "tar.gz", /not a directory/],
    ["duplicate", tarOf([{ name: "top/a.tf", data: "1" }, { name: "top/a.tf", data: "2" }]), "tar.gz", /more than once/],
    ["file as parent", tarOf([{ name: "top/a", data: "1" }, { name: "top/a/b.tf", data: "2" }]), "tar.gz", /not a directory/],
    ["garbage tar.gz", new TextEncoder().encode("definitely not gzip"), "tar.gz", /not a valid gzip-compressed tar/],
    ["garbage zip", new TextEncoder().encode("definitely not a zip"), "zip", /not a zip archive/],
    ["empty", tarOf([]), "tar.gz", /empty/],
  ];
  for (const [name, input, from, message] of cases) {
    test(`${name} is rejected`, async () => {
      expect((await failure(input, from)).message).toMatch(message);
    });
  }

  test("hardlinks and in-tree symlinks", async () => {
    const warnings: string[] = [];
    const out = await repack(tarOf([
      { name: "top/a.tf", data: "a" },
      { name: "top/hard.tf", type: "1", linkname: "top/a.tf" },
      { name: "top/sub/up.tf", type: "2", linkname: "../a.tf" },
    ]), "tar.gz", "zip", { onWarning: (w) => warnings.push(w) });
    expect(Object.keys(unzipSync(out))).toEqual(["a.tf", "sub/", "sub/up.tf"]);
    expect(warnings).toEqual(["dropped hard.tf: hardlinks and special files are not kept"]);
  });
});

describe("size caps (zip bombs)", () => {
  const zeros = new Uint8Array(4 * 1024 * 1024);
  test("total uncompressed size over the cap", async () => {
    const bomb = zipSync({ "top/a.bin": zeros, "top/b.bin": zeros });
    expect((await failure(bomb, "zip", { maxTotalBytes: 6 * 1024 * 1024 })).message).toContain("expands beyond the 6291456-byte limit");
    const tbomb = tarOf([{ name: "top/a.bin", data: "\0".repeat(zeros.byteLength) }, { name: "top/b.bin", data: "\0".repeat(zeros.byteLength) }]);
    expect((await failure(tbomb, "tar.gz", { maxTotalBytes: 6 * 1024 * 1024 })).message).toContain("limit");
  });

  test("one entry over the per-file cap", async () => {
    const e = await failure(zipSync({ "top/a.bin": zeros }), "zip", { maxEntryBytes: 1024 * 1024 });
    expect(e.message).toContain("top/a.bin is 4194304 bytes, over the 1048576-byte limit per file");
  });

  test("a zip whose headers understate the size is caught while inflating", async () => {
    const z = zipSync({ "top/a.bin": zeros }, { level: 9 });
    const cd = z.byteLength - 22 - (46 + "top/a.bin".length);
    new DataView(z.buffer).setUint32(cd + 24, 1000, true); // central directory: uncompressed size
    expect((await failure(z, "zip", { maxTotalBytes: 64 * 1024 })).message).toContain("inflates beyond its declared size of 1000 bytes");
  });

  test("too many entries", async () => {
    const many: Record<string, Uint8Array> = {};
    for (let i = 0; i < 20; i++) many[`top/f${i}.tf`] = new Uint8Array(0);
    expect((await failure(zipSync(many), "zip", { maxEntries: 10 })).message).toMatch(/more than the limit of 10/);
  });
});

describe("README", () => {
  test("README.md preferred over other readme files, content bounded", async () => {
    let readme: ModuleReadme | undefined;
    const input = githubZipball(top, { "Readme.rst": "rst", "README.md": "x".repeat(5000), "docs/README.md": "nested" }, new Date());
    await repack(input, "zip", "zip", { readmeMaxBytes: 100, onReadme: (r) => void (readme = r) });
    expect(readme!.path).toBe("README.md");
    expect(readme!.content.length).toBe(100);
    expect(readme!.truncated).toBe(true);
  });
  test("no README at the root → no callback", async () => {
    let called = false;
    await repack(githubZipball(top, { "docs/README.md": "nested", "main.tf": "" }, new Date()), "zip", "tar.gz", { onReadme: () => void (called = true) });
    expect(called).toBe(false);
  });
});

describe("streaming", () => {
  // Measured in a fresh process (other tests' garbage would blur RSS), on a file far larger than the bound, so
  // buffering it whole could not pass. Typical peak growth is ~65 MiB, independent of the file size.
  test("a 128 MiB file passes through with flat memory (spooled to disk, never buffered)", () => {
    const src = mkdtempSync(join(work, "big-"));
    run(["mkdir", "-p", "top/modules"], src);
    run(["truncate", "-s", "128M", "top/modules/big.bin"], src);
    run(["tar", "-czf", "in.tar.gz", "top"], src);
    const script = `import { repackageModule } from ${JSON.stringify(join(import.meta.dirname, "repackage.ts"))};
      import { runtime } from ${JSON.stringify(RUNTIME)};
      runtime.gc();
      const before = process.memoryUsage().rss;
      let peak = before, size = 0;
      for await (const c of repackageModule(runtime.readStream(${JSON.stringify(join(src, "in.tar.gz"))}), "tar.gz", "zip")) {
        size += c.byteLength;
        peak = Math.max(peak, process.memoryUsage().rss);
      }
      console.log(JSON.stringify({ size, grown: peak - before }));`;
    const p = runSync(evalArgv(script));
    expect(p.exitCode).toBe(0);
    const { size, grown } = JSON.parse(p.stdout.toString()) as { size: number; grown: number };
    expect(size).toBeGreaterThan(0);
    expect(grown).toBeLessThan(100 * 1024 * 1024);
  }, 30_000);
});
