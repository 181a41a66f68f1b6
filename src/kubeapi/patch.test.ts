// PATCH in its four media types, with resourceVersion preconditions, and server-side apply's field ownership.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { MODULES, moduleManifest, startTestApi, type TestApi } from "../../test/support/kube-api.ts";

let t: TestApi;
beforeAll(async () => {
  t = await startTestApi();
  await t.post(MODULES, moduleManifest("net"));
});
afterAll(() => t.close());

const patch = (path: string, type: string, body: unknown, query = "") => t.request("PATCH", `${path}${query}`, { type, body });
const MERGE = "application/merge-patch+json";
const JSONP = "application/json-patch+json";
const SMP = "application/strategic-merge-patch+json";
const APPLY = "application/apply-patch+yaml";

describe("patch", () => {
  test("merge patch sets and removes fields; generation follows spec changes", async () => {
    const a = await (await patch(`${MODULES}/net`, MERGE, { spec: { forceSync: true }, metadata: { labels: { a: "1" } } })).json();
    expect(a.spec.forceSync).toBe(true);
    expect(a.metadata).toMatchObject({ labels: { a: "1" }, generation: 2 });
    const b = await (await patch(`${MODULES}/net`, MERGE, { spec: { forceSync: null } })).json();
    expect(b.spec.forceSync).toBeUndefined();
  });

  test("JSON patch; a failing test op → 422 and nothing written", async () => {
    const ok = await patch(`${MODULES}/net`, JSONP, [{ op: "replace", path: "/spec/moduleConfig/provider", value: "azurerm" }]);
    expect((await ok.json()).spec.moduleConfig.provider).toBe("azurerm");
    const failing = await patch(`${MODULES}/net`, JSONP, [
      { op: "replace", path: "/spec/moduleConfig/provider", value: "gcp" },
      { op: "test", path: "/spec/moduleConfig/repoOwner", value: "someone-else" },
    ]);
    expect(failing.status).toBe(422);
    expect((await (await t.get(`${MODULES}/net`)).json()).spec.moduleConfig.provider).toBe("azurerm");
  });

  test("a resourceVersion inside the patch is a precondition → 409 when stale", async () => {
    const stale = await patch(`${MODULES}/net`, MERGE, { metadata: { resourceVersion: "1" }, spec: { forceSync: true } });
    expect(stale.status).toBe(409);
    expect((await stale.json()).reason).toBe("Conflict");
  });

  test("strategic merge patch is a merge patch for custom resources and understands kubectl's directives for core kinds", async () => {
    expect((await patch(`${MODULES}/net`, SMP, { spec: { forceSync: true } })).status).toBe(200);
    await t.post("/api/v1/namespaces/default/configmaps", { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", finalizers: ["a/x", "a/y"] }, data: { k: "v", old: "o" } });
    const r = await patch("/api/v1/namespaces/default/configmaps/c", SMP, {
      $setElementOrder: undefined,
      metadata: { finalizers: ["a/z"], "$deleteFromPrimitiveList/finalizers": ["a/x"] },
      data: { old: null, n: "1" },
    });
    expect(r.status).toBe(200);
    const cm = await r.json();
    expect(cm.metadata.finalizers).toEqual(["a/y", "a/z"]);
    expect(cm.data).toEqual({ k: "v", n: "1" });
  });

  test("malformed and unsupported patches", async () => {
    expect((await patch(`${MODULES}/net`, MERGE, "{not json")).status).toBe(400);
    expect((await patch(`${MODULES}/net`, JSONP, { op: "add" })).status).toBe(400);
    const unsupported = await patch(`${MODULES}/net`, "text/plain", "x");
    expect(unsupported.status).toBe(415);
    expect((await unsupported.json()).reason).toBe("UnsupportedMediaType");
    expect((await patch(`${MODULES}/net`, MERGE, { metadata: { name: "renamed" } })).status).toBe(422);
    expect((await patch(`${MODULES}/missing`, MERGE, { spec: {} })).status).toBe(404);
    expect((await patch(`${MODULES}/net`, MERGE, { spec: { versions: 3 } })).status).toBe(422);
  });

  test("patch with dryRun=All answers the result without writing", async () => {
    const before = await (await t.get(`${MODULES}/net`)).json();
    const dry = await (await patch(`${MODULES}/net`, MERGE, { spec: { moduleConfig: { provider: "dry" } } }, "?dryRun=All")).json();
    expect(dry.spec.moduleConfig.provider).toBe("dry");
    expect((await (await t.get(`${MODULES}/net`)).json()).metadata.resourceVersion).toBe(before.metadata.resourceVersion);
  });
});

describe("server-side apply", () => {
  const applyPath = `${MODULES}/ssa`;

  test("creates the object (201) and records the manager's fields", async () => {
    const yaml = `apiVersion: opendepot.defdev.io/v1alpha1\nkind: Module\nmetadata:\n  name: ssa\n  labels: { owner: me }\nspec:\n  forceSync: true\n  moduleConfig: { provider: aws }\n  versions: [{ version: v1.0.0 }]\n`;
    const r = await patch(applyPath, APPLY, yaml, "?fieldManager=tester");
    expect(r.status).toBe(201);
    const obj = await r.json();
    expect(obj.metadata.managedFields).toEqual([
      expect.objectContaining({ manager: "tester", operation: "Apply", fieldsType: "FieldsV1", fieldsV1: { "f:metadata": { "f:labels": { "f:owner": {} } }, "f:spec": { "f:forceSync": {}, "f:moduleConfig": { "f:provider": {} }, "f:versions": {} } } }),
    ]);
  });

  test("merges into the live object, keeps other writers' fields, and removes fields the manager stopped applying", async () => {
    await patch(applyPath, MERGE, { spec: { moduleConfig: { repoOwner: "someone" } } });
    const config = { apiVersion: "opendepot.defdev.io/v1alpha1", kind: "Module", metadata: { name: "ssa" }, spec: { moduleConfig: { provider: "gcp" }, versions: [{ version: "v2.0.0" }] } };
    const r = await patch(applyPath, APPLY, config, "?fieldManager=tester&force=true");
    expect(r.status).toBe(200);
    const obj = await r.json();
    expect(obj.spec).toEqual({ moduleConfig: { provider: "gcp", repoOwner: "someone" }, versions: [{ version: "v2.0.0" }] });
    expect(obj.metadata.labels).toEqual({});
  });

  test("needs a fieldManager, a full type and a matching name; unknown fields refused under Strict", async () => {
    const config = { apiVersion: "opendepot.defdev.io/v1alpha1", kind: "Module", metadata: { name: "ssa" }, spec: { moduleConfig: {}, versions: [] } };
    expect((await patch(applyPath, APPLY, config)).status).toBe(400);
    expect((await patch(applyPath, APPLY, { ...config, kind: undefined }, "?fieldManager=x")).status).toBe(400);
    expect((await patch(applyPath, APPLY, { ...config, metadata: { name: "other" } }, "?fieldManager=x")).status).toBe(400);
    const strict = await patch(applyPath, APPLY, { ...config, spec: { ...config.spec, bogus: 1 } }, "?fieldManager=x&fieldValidation=Strict");
    expect(strict.status).toBe(400);
    expect((await strict.json()).message).toContain('unknown field "spec.bogus"');
  });
});
