import { afterAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { base64ToHex, hashingStream, hexToBase64, sha256OfFile, sha256OfStream } from "./hash.ts";
import { toBase64, toHex } from "../kits/encoding.ts";
import { runSync } from "../../test/support/processes.ts";

const ABC_HEX = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
const ABC_B64 = "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=";
const enc = new TextEncoder();

function streamOf(...chunks: (string | Uint8Array)[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(c) {
      for (const chunk of chunks) c.enqueue(typeof chunk === "string" ? enc.encode(chunk) : chunk);
      c.close();
    },
  });
}

const dir = await mkdtemp(join(tmpdir(), "opendepot-hash-"));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("sha256OfStream / sha256OfFile", () => {
  test("known vector, split across chunks", async () => {
    const { bytes, size } = await sha256OfStream(streamOf("a", "", "bc"));
    expect(toHex(bytes)).toBe(ABC_HEX);
    expect(toBase64(bytes)).toBe(ABC_B64);
    expect(size).toBe(3);
  });

  test("empty stream", async () => {
    const { bytes, size } = await sha256OfStream(streamOf());
    expect(toHex(bytes)).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(size).toBe(0);
  });

  test("file hash matches the sha256sum tool", async () => {
    const path = join(dir, "data.bin");
    const data = new Uint8Array(5 * 1024 * 1024 + 17).map((_, i) => (i * 31) & 0xff);
    await writeFile(path, data);
    const { bytes, size } = await sha256OfFile(path);
    expect(size).toBe(data.length);
    const tool = runSync(["sha256sum", path]).stdout.toString().split(" ")[0];
    expect(toHex(bytes)).toBe(tool!);
  });
});

describe("hashingStream", () => {
  test("passes bytes through unchanged and digests them", async () => {
    const h = hashingStream();
    const out = await new Response(streamOf("a", "b", "c").pipeThrough(h.stream)).text();
    expect(out).toBe("abc");
    expect(toHex(await h.digest())).toBe(ABC_HEX);
    expect(h.size).toBe(3);
  });

  test("digest rejects when the source fails", async () => {
    const h = hashingStream();
    const failing = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(enc.encode("partial"));
        c.error(new Error("upstream reset"));
      },
    });
    await expect(new Response(failing.pipeThrough(h.stream)).text()).rejects.toThrow("upstream reset");
    await expect(h.digest()).rejects.toThrow("upstream reset");
  });
});

describe("hex/base64 conversion", () => {
  test("round trip", () => {
    expect(hexToBase64(ABC_HEX)).toBe(ABC_B64);
    expect(hexToBase64(ABC_HEX.toUpperCase())).toBe(ABC_B64);
    expect(base64ToHex(ABC_B64)).toBe(ABC_HEX);
  });

  test.each([["abc"], [ABC_HEX.slice(2)], [`${ABC_HEX}00`], [`${ABC_HEX.slice(1)}g`], [""], [` ${ABC_HEX.slice(1)}`]])(
    "hexToBase64 rejects %p",
    (bad) => expect(() => hexToBase64(bad)).toThrow(/invalid SHA-256 hex/),
  );

  test.each([
    ["not base64!"],
    [ABC_B64.slice(0, -1)], // bad padding
    [ABC_B64.replace("+", "-")], // URL alphabet
    ["AAAA"], // valid base64, wrong length
    [`${ABC_B64}AAAA`],
    [""],
  ])("base64ToHex rejects %p", (bad) => expect(() => base64ToHex(bad)).toThrow(/invalid base64 SHA-256/));
});
