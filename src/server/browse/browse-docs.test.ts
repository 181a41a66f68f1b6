// The browse API's detail as the controllers leave things: version lifecycle (deprecated, yanked) and README / docs
// ConfigMaps in their large and hash-cut layouts.
import { describe, expect, test } from "bun:test";
import { moduleDocsConfigMapName } from "../../api/module-docs.ts";
import { readmeConfigMapContent } from "../../api/readme-configmap.ts";
import { LABELS } from "../../api/meta.ts";
import { moduleVersionName } from "../../api/naming.ts";
import { anonymousBrowse } from "./viewer.ts";
import { mod, modVersion, world, appFor } from "../../../test/support/browse-world.ts";

describe("version lifecycle in the detail (issue #17)", () => {
  const w = world();
  const get = appFor(w, anonymousBrowse);

  test("lifecycle: a deprecated version shows its message; a yanked one its reason and whether it still downloads", async () => {
    const dep = modVersion("team", "net-life", "1.0.0");
    dep.spec.deprecated = { message: "use 2.x", link: "https://example.com/upgrade" };
    const yanked = modVersion("team", "net-life", "1.1.0", { synced: true, checksum: "x", yankedAt: new Date(Date.now() - 3_600_000).toISOString() });
    yanked.spec.yanked = { reason: "broken outputs" };
    const plain = modVersion("team", "net-life", "2.0.0");
    w.modules.put(mod("team", "net-life"));
    for (const v of [dep, yanked, plain]) w.versions.put(v);
    const d = await (await get("/resources/team/module/net-life")).json();
    const byVersion = Object.fromEntries(d.versions.map((v: { version: string }) => [v.version, v]));
    expect(byVersion["1.0.0"].deprecated).toEqual({ message: "use 2.x", link: "https://example.com/upgrade" });
    expect(byVersion["1.0.0"].yanked).toBeUndefined();
    expect(byVersion["1.1.0"].yanked).toMatchObject({ reason: "broken outputs", downloadable: true });
    expect(Date.parse(byVersion["1.1.0"].yanked.graceEndsAt)).toBeGreaterThan(Date.now());
    expect("deprecated" in byVersion["2.0.0"] || "yanked" in byVersion["2.0.0"]).toBe(false);
  });
});

describe("README and docs ConfigMaps as the controllers write them (issue #16 layouts)", () => {
  const w = world();
  const get = appFor(w, anonymousBrowse);

  test("a README too large for base64 is read from binaryData (gzip); a long Version name finds its hash-cut docs ConfigMap", async () => {
    const big = `# Big\n${"lorem ipsum dolor sit amet ".repeat(40_000)}`; // ~1 MiB: stored gzipped
    const stored = readmeConfigMapContent(big);
    expect(stored.binaryData).toBeDefined();
    w.modules.put(mod("team", "net-big"));
    w.versions.put(modVersion("team", "net-big", "1.0.0"));
    w.configMaps.put({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: `${moduleVersionName("net-big", "1.0.0")}-readme`, namespace: "team", labels: { [LABELS.namespace]: "team" } }, ...stored });
    expect((await (await get("/resources/team/module/net-big")).json()).readmeContent).toBe(big);

    const longName = `m${"o".repeat(249)}`;
    w.modules.put(mod("team", longName));
    const v = modVersion("team", longName, "1.0.0");
    w.versions.put(v);
    const docsName = moduleDocsConfigMapName(v.metadata.name);
    expect(docsName.length).toBeLessThanOrEqual(253);
    w.configMaps.put({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: docsName, namespace: "team", labels: { [LABELS.namespace]: "team" } }, data: { "docs.json": JSON.stringify({ inputs: [{ name: "x" }] }) } });
    expect((await (await get(`/resources/team/module/${longName}`)).json()).documentation).toEqual({ inputs: [{ name: "x" }] });
  });
});
