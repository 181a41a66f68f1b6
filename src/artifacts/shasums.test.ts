import { describe, expect, test } from "bun:test";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { toHex } from "../kits/encoding.ts";
import { shasumsDocument } from "./shasums.ts";
import { createHash } from "node:crypto";
import { runSync } from "../../test/support/processes.ts";

const A = "a".repeat(64);
const B = "0123456789abcdef".repeat(4);

describe("shasumsDocument", () => {
  test("two-space lines sorted by file name, newline-terminated", () => {
    const doc = shasumsDocument([
      { hex: A, fileName: "terraform-provider-x_1.0.0_linux_amd64.zip" },
      { hex: B, fileName: "terraform-provider-x_1.0.0_darwin_arm64.zip" },
    ]);
    expect(doc).toBe(`${B}  terraform-provider-x_1.0.0_darwin_arm64.zip\n${A}  terraform-provider-x_1.0.0_linux_amd64.zip\n`);
  });

  test("empty input gives an empty document", () => {
    expect(shasumsDocument([])).toBe("");
  });

  test("sha256sum --check accepts the document for real files", async () => {
    const dir = await mkdtemp(join(tmpdir(), "opendepot-shasums-"));
    try {
      const files = { "b.zip": "second", "a.zip": "first" };
      const entries = [];
      for (const [name, content] of Object.entries(files)) {
        await writeFile(join(dir, name), content);
        entries.push({ hex: toHex(new Uint8Array(createHash("sha256").update(content).digest())), fileName: name });
      }
      await writeFile(join(dir, "SHA256SUMS"), shasumsDocument(entries));
      const check = runSync(["sha256sum", "--check", "--strict", "SHA256SUMS"], { cwd: dir });
      expect(check.stdout.toString()).toBe("a.zip: OK\nb.zip: OK\n");
      expect(check.exitCode).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test.each([["A".repeat(64)], ["a".repeat(63)], ["a".repeat(65)], [`${"a".repeat(63)}g`], [""]])("rejects hex %p", (hex) => {
    expect(() => shasumsDocument([{ hex, fileName: "x.zip" }])).toThrow(/invalid SHA-256/);
  });

  test.each([["a b.zip"], ["a\nb.zip"], ["a\tb"], ["dir/x.zip"], ["..\\x.zip"], [""], [".."], ["x\r"]])("rejects file name %p", (fileName) => {
    expect(() => shasumsDocument([{ hex: A, fileName }])).toThrow(/invalid file name/);
  });

  test("rejects duplicate file names", () => {
    expect(() => shasumsDocument([{ hex: A, fileName: "x.zip" }, { hex: B, fileName: "x.zip" }])).toThrow(/duplicate/);
  });
});
