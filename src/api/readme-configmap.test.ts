import { describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { validateMetadata } from "./validate.ts";
import { ConfigMap } from "./kinds.ts";
import { README_DATA_BUDGET, README_GZIP_KEY, README_KEY, README_TRUNCATED_ANNOTATION, readmeConfigMapContent, readmeFromConfigMap } from "./readme-configmap.ts";

const asConfigMap = (c: ReturnType<typeof readmeConfigMapContent>) => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name: "m-1-0-0-readme", ...(c.truncatedFromBytes ? { annotations: { [README_TRUNCATED_ANNOTATION]: String(c.truncatedFromBytes) } } : {}) },
  ...(c.data ? { data: c.data } : {}),
  ...(c.binaryData ? { binaryData: c.binaryData } : {}),
});

describe("README ConfigMap layout", () => {
  test("a small README keeps v0.9's layout: base64 in data[README.md]", () => {
    const c = readmeConfigMapContent("# hi ✓\n");
    expect(Object.keys(c.data!)).toEqual([README_KEY]);
    expect(Buffer.from(c.data![README_KEY]!, "base64").toString()).toBe("# hi ✓\n");
    expect(readmeFromConfigMap(asConfigMap(c))).toEqual({ content: "# hi ✓\n" });
  });

  test("a 900 KiB README is stored gzip-compressed and reads back whole, within the API server's 1 MiB", () => {
    const text = `# big\n${"Some *markdown* text, repeated with numbers: 12345.\n".repeat(18_500)}`;
    expect(Buffer.byteLength(text)).toBeGreaterThan(900 * 1024);
    const c = readmeConfigMapContent(text);
    expect(c.data).toBeUndefined();
    expect(Object.keys(c.binaryData!)).toEqual([README_GZIP_KEY]);
    expect(validateMetadata(asConfigMap(c) as never, ConfigMap)).toEqual([]);
    expect(readmeFromConfigMap(asConfigMap(c))?.content).toBe(text);
  });

  test("an incompressible README near the cap is cut on a character boundary, with a notice and the original size", () => {
    const text = `${"é"}${randomBytes(1024 * 1024 - 16).toString("latin1")}`;
    const c = readmeConfigMapContent(text);
    expect(c.truncatedFromBytes).toBe(Buffer.byteLength(text));
    expect(Buffer.from(c.binaryData![README_GZIP_KEY]!, "base64").length).toBeLessThanOrEqual(README_DATA_BUDGET);
    expect(validateMetadata(asConfigMap(c) as never, ConfigMap)).toEqual([]);
    const back = readmeFromConfigMap(asConfigMap(c))!;
    expect(back.truncatedFromBytes).toBe(Buffer.byteLength(text));
    expect(back.content).toContain("README truncated by OpenDepot");
    expect(back.content.startsWith("é")).toBe(true);
    expect(back.content).not.toContain("\uFFFD");
  });

  test("hostile ConfigMaps read as no README instead of throwing or inflating without bound", () => {
    expect(readmeFromConfigMap(undefined)).toBeUndefined();
    expect(readmeFromConfigMap({ data: {} })).toBeUndefined();
    expect(readmeFromConfigMap({ binaryData: { [README_GZIP_KEY]: "bm90IGd6aXA=" } })).toBeUndefined();
    const bomb = Bun.gzipSync(new Uint8Array(64 * 1024 * 1024));
    expect(readmeFromConfigMap({ binaryData: { [README_GZIP_KEY]: Buffer.from(bomb).toString("base64") } })).toBeUndefined();
  });
});
