// saveReadme against the embedded store (which refuses ConfigMaps over 1 MiB, like the API server): layouts switch
// cleanly when a README grows or shrinks, and the names and labels fit for a 253-character Version name.
import { afterEach, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { ConfigMap, type VersionObject } from "../api/kinds.ts";
import { API_VERSION, LABELS, type KubeObject } from "../api/meta.ts";
import { isLabelValue, isObjectName } from "../api/naming.ts";
import { README_TRUNCATED_ANNOTATION, readmeFromConfigMap } from "../api/readme-configmap.ts";
import { EmbeddedStore } from "../store/embedded.ts";
import { saveReadme } from "./readme.ts";

const stores: EmbeddedStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

async function setup(versionName: string) {
  const store = EmbeddedStore.open(":memory:");
  stores.push(store);
  const v = await store.create<VersionObject>({ apiVersion: API_VERSION, kind: "Version", metadata: { name: versionName, namespace: "default", labels: { [LABELS.module]: "m" } }, spec: { type: "Module", version: "1.0.0" } });
  return { store, v };
}
const read = async (store: EmbeddedStore, name: string) => (await store.get<KubeObject & { data?: object; binaryData?: object }>(ConfigMap, "default", name))!;

describe("saveReadme", () => {
  test("small → large → incompressible → small: one layout at a time, the truncation note only while cut", async () => {
    const { store, v } = await setup("m-1-0-0");
    const big = `# big\n${"text that compresses well\n".repeat(40_000)}`;
    const noise = randomBytes(1024 * 1024).toString("latin1");
    const steps: [string, (cm: Awaited<ReturnType<typeof read>>) => void][] = [
      ["# small", (cm) => expect(Object.keys(cm.data ?? {})).toEqual(["README.md"])],
      [big, (cm) => expect([cm.data, Object.keys(cm.binaryData ?? {})]).toEqual([undefined, ["README.md.gz"]])],
      [noise, (cm) => expect(cm.metadata.annotations?.[README_TRUNCATED_ANNOTATION]).toBe(String(Buffer.byteLength(noise)))],
      ["# small again", (cm) => expect([cm.binaryData, cm.metadata.annotations?.[README_TRUNCATED_ANNOTATION]]).toEqual([undefined, undefined])],
    ];
    for (const [content, check] of steps) {
      const ref = await saveReadme(store, v, { path: "README.md", content, truncated: false });
      const cm = await read(store, ref.name);
      check(cm);
      const back = readmeFromConfigMap(cm as never)!;
      if (content !== noise) expect(back.content).toBe(content);
    }
  });

  test("a 253-character Version name: the ConfigMap name and its labels fit, the full names are annotated", async () => {
    const name = `m-${"x".repeat(245)}-1-0-0`;
    expect(name).toHaveLength(253);
    const { store, v } = await setup(name);
    const ref = await saveReadme(store, v, { path: "README.md", content: "# hi", truncated: false });
    expect(isObjectName(ref.name)).toBe(true);
    expect(ref.name.endsWith("-readme")).toBe(true);
    const cm = await read(store, ref.name);
    expect(isLabelValue(cm.metadata.labels![LABELS.version]!)).toBe(true);
    expect(cm.metadata.annotations?.[LABELS.version]).toBe(name);
  });
});
