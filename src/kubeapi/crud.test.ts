// HTTP-level behaviour of the resource endpoints: create/get/list/update/delete with resourceVersion semantics,
// the status subresource, selectors, dry runs, unknown fields and schema violations, as the API server does them.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { MODULES, moduleManifest, startTestApi, type TestApi } from "../../test/support/kube-api.ts";
import { waitFor } from "../../test/support/ports.ts";

let t: TestApi;
beforeAll(async () => {
  t = await startTestApi({ namespaceGraceMs: 50 });
});
afterAll(() => t.close());

const put = (path: string, body: unknown) => t.request("PUT", path, { body });

describe("create, get, list", () => {
  test("POST creates (201), GET reads it back with apiVersion/kind and server metadata", async () => {
    const r = await t.post(MODULES, moduleManifest("net"));
    expect(r.status).toBe(201);
    const created = await r.json();
    expect(created.metadata).toMatchObject({ name: "net", namespace: "default", generation: 1 });
    expect(created.metadata.uid).toBeString();
    const got = await (await t.get(`${MODULES}/net`)).json();
    expect(got).toMatchObject({ apiVersion: "opendepot.defdev.io/v1alpha1", kind: "Module", metadata: { resourceVersion: created.metadata.resourceVersion } });
  });

  test("a second create of the same name → 409 AlreadyExists Status", async () => {
    const r = await t.post(MODULES, moduleManifest("net"));
    expect(r.status).toBe(409);
    expect(await r.json()).toMatchObject({
      kind: "Status",
      apiVersion: "v1",
      status: "Failure",
      reason: "AlreadyExists",
      message: 'modules.opendepot.defdev.io "net" already exists',
      details: { name: "net", group: "opendepot.defdev.io", kind: "modules" },
      code: 409,
    });
  });

  test("missing object → 404 NotFound Status naming the resource", async () => {
    const r = await t.get(`${MODULES}/nope`);
    expect(r.status).toBe(404);
    expect(await r.json()).toMatchObject({ reason: "NotFound", message: 'modules.opendepot.defdev.io "nope" not found', code: 404 });
  });

  test("list: <Kind>List with resourceVersion; label and field selectors; all-namespace path", async () => {
    await t.post(MODULES, moduleManifest("labelled", { metadata: { labels: { tier: "gold" } } }));
    // As on a real cluster, a namespace exists before anything goes into it.
    expect((await t.post("/apis/opendepot.defdev.io/v1alpha1/namespaces/other/modules", moduleManifest("early"))).status).toBe(404);
    expect((await t.post("/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "other" } })).status).toBe(201);
    await t.post("/apis/opendepot.defdev.io/v1alpha1/namespaces/other/modules", moduleManifest("elsewhere", { metadata: { labels: { tier: "silver" } } }));
    const list = await (await t.get(MODULES)).json();
    expect(list).toMatchObject({ kind: "ModuleList", apiVersion: "opendepot.defdev.io/v1alpha1" });
    expect(list.metadata.resourceVersion).toMatch(/^\d+$/);
    expect(list.items.map((i: any) => i.metadata.name).sort()).toEqual(["labelled", "net"]);
    expect(list.items.every((i: any) => i.kind === "Module" && i.apiVersion === "opendepot.defdev.io/v1alpha1")).toBe(true);
    const names = async (path: string) => (await (await t.get(path)).json()).items.map((i: any) => i.metadata.name).sort();
    expect(await names(`${MODULES}?labelSelector=tier%3Dgold`)).toEqual(["labelled"]);
    expect(await names(`${MODULES}?labelSelector=tier`)).toEqual(["labelled"]);
    expect(await names(`${MODULES}?labelSelector=!tier`)).toEqual(["net"]);
    expect(await names("/apis/opendepot.defdev.io/v1alpha1/modules?labelSelector=tier%20in%20(gold,silver)")).toEqual(["elsewhere", "labelled"]);
    expect(await names(`/apis/opendepot.defdev.io/v1alpha1/modules?fieldSelector=metadata.namespace%3Dother`)).toEqual(["elsewhere"]);
    expect(await names(`${MODULES}?fieldSelector=metadata.name!%3Dnet&limit=500`)).toEqual(["labelled"]);
    const bad = await t.get(`${MODULES}?labelSelector=a%20in%20()`);
    expect(bad.status).toBe(400);
    expect((await t.get(`${MODULES}?fieldSelector=spec.foo%3Dx`)).status).toBe(400);
  });

  test("generateName, and dryRun=All validates without persisting", async () => {
    const gen = await (await t.post(MODULES, { ...moduleManifest(""), metadata: { generateName: "gen-" } })).json();
    expect(gen.metadata.name).toMatch(/^gen-[a-z0-9]{5}$/);
    const dry = await t.post(`${MODULES}?dryRun=All`, moduleManifest("dry"));
    expect(dry.status).toBe(201);
    expect((await dry.json()).metadata.uid).toBeString();
    expect((await t.get(`${MODULES}/dry`)).status).toBe(404);
    const dryBad = await t.post(`${MODULES}?dryRun=All`, moduleManifest("dry", { spec: { versions: "x" } }));
    expect(dryBad.status).toBe(422);
  });

  test("kind/namespace/name in the body must agree with the URL", async () => {
    const wrongKind = await t.post(MODULES, { ...moduleManifest("x"), kind: "Provider" });
    expect(wrongKind.status).toBe(400);
    const wrongNs = await t.post(MODULES, { ...moduleManifest("x"), metadata: { name: "x", namespace: "other" } });
    expect(wrongNs.status).toBe(400);
    expect((await wrongNs.json()).message).toContain("does not match the namespace");
    const wrongName = await put(`${MODULES}/net`, { ...moduleManifest("other") });
    expect(wrongName.status).toBe(400);
  });
});

describe("schema", () => {
  test("wrong types → 422 Invalid with a cause per field", async () => {
    const r = await t.post(MODULES, moduleManifest("typed", { spec: { moduleConfig: { provider: 42 }, versions: "nope" } }));
    expect(r.status).toBe(422);
    const s = await r.json();
    expect(s).toMatchObject({ kind: "Status", reason: "Invalid", code: 422, details: { name: "typed", group: "opendepot.defdev.io", kind: "Module" } });
    expect(s.message).toStartWith('Module.opendepot.defdev.io "typed" is invalid: ');
    expect(s.details.causes.map((c: any) => c.field).sort()).toEqual(["spec.moduleConfig.provider", "spec.versions"]);
    expect(s.details.causes[0].reason).toBe("FieldValueInvalid");
  });

  test("a missing required field → FieldValueRequired", async () => {
    const r = await t.post(MODULES, { apiVersion: "opendepot.defdev.io/v1alpha1", kind: "Module", metadata: { name: "nospec" } });
    expect(r.status).toBe(422);
    expect((await r.json()).details.causes).toEqual([{ reason: "FieldValueRequired", message: "Required value", field: "spec" }]);
  });

  test("unknown fields: Strict refuses naming the field; Warn (default) drops them with a Warning header; Ignore drops silently", async () => {
    const body = moduleManifest("unk", { spec: { moduleConfig: { repoOwnr: "acme" } } });
    const strict = await t.post(`${MODULES}?fieldValidation=Strict`, body);
    expect(strict.status).toBe(400);
    expect((await strict.json()).message).toContain('unknown field "spec.moduleConfig.repoOwnr"');
    const warn = await t.post(MODULES, body);
    expect(warn.status).toBe(201);
    expect(warn.headers.get("warning")).toBe('299 - "unknown field \\"spec.moduleConfig.repoOwnr\\""');
    expect((await warn.json()).spec.moduleConfig).toEqual({});
    const ignore = await t.post(`${MODULES}?fieldValidation=Ignore`, { ...body, metadata: { name: "unk2" } });
    expect(ignore.status).toBe(201);
    expect(ignore.headers.get("warning")).toBeNull();
  });

  test("core kinds are type-checked too (Lease spec)", async () => {
    const r = await t.post("/apis/coordination.k8s.io/v1/namespaces/default/leases", {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { name: "l" },
      spec: { holderIdentity: "a", leaseDurationSeconds: "15" },
    });
    expect(r.status).toBe(422);
    expect((await r.json()).details.causes[0].field).toBe("spec.leaseDurationSeconds");
  });
});

describe("update and optimistic concurrency", () => {
  test("PUT with a stale resourceVersion → 409 Conflict; with the current one → 200 and a new resourceVersion", async () => {
    const current = await (await t.get(`${MODULES}/net`)).json();
    const ok = await put(`${MODULES}/net`, { ...current, spec: { ...current.spec, forceSync: true } });
    expect(ok.status).toBe(200);
    const updated = await ok.json();
    expect(Number(updated.metadata.resourceVersion)).toBeGreaterThan(Number(current.metadata.resourceVersion));
    expect(updated.metadata.generation).toBe(2);
    const stale = await put(`${MODULES}/net`, { ...current, spec: { ...current.spec, forceSync: false } });
    expect(stale.status).toBe(409);
    expect(await stale.json()).toMatchObject({
      reason: "Conflict",
      message: 'Operation cannot be fulfilled on modules.opendepot.defdev.io "net": the object has been modified; please apply your changes to the latest version and try again',
    });
  });

  test("custom resources refuse unconditional updates; ConfigMaps allow them; Leases are created by PUT", async () => {
    const current = await (await t.get(`${MODULES}/net`)).json();
    delete current.metadata.resourceVersion;
    const r = await put(`${MODULES}/net`, current);
    expect(r.status).toBe(422);
    expect((await r.json()).details.causes[0].field).toBe("metadata.resourceVersion");
    const cm = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cm" }, data: { a: "1" } };
    expect((await t.post("/api/v1/namespaces/default/configmaps", cm)).status).toBe(201);
    expect((await put("/api/v1/namespaces/default/configmaps/cm", { ...cm, data: { a: "2" } })).status).toBe(200);
    expect((await put("/api/v1/namespaces/default/configmaps/nope", { ...cm, metadata: { name: "nope" } })).status).toBe(404);
    const lease = { apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name: "leader" }, spec: { holderIdentity: "a", leaseDurationSeconds: 15 } };
    expect((await put("/apis/coordination.k8s.io/v1/namespaces/default/leases/leader", lease)).status).toBe(201);
  });

  test("status subresource: the main resource ignores status, /status ignores everything but status", async () => {
    const current = await (await t.get(`${MODULES}/net`)).json();
    const main = await (await put(`${MODULES}/net`, { ...current, status: { synced: true } })).json();
    expect(main.status).toBeUndefined();
    const s = await t.request("PUT", `${MODULES}/net/status`, { body: { ...main, spec: { ...main.spec, forceSync: false }, metadata: { ...main.metadata, labels: { x: "y" } }, status: { synced: true, latestVersion: "v1.0.0" } } });
    expect(s.status).toBe(200);
    const after = await s.json();
    expect(after.status).toEqual({ synced: true, latestVersion: "v1.0.0" });
    expect(after.spec.forceSync).toBe(true);
    expect(after.metadata.labels).toBeUndefined();
    expect(after.metadata.generation).toBe(main.metadata.generation);
    const patched = await t.request("PATCH", `${MODULES}/net/status`, { type: "application/merge-patch+json", body: { spec: { forceSync: false }, status: { syncStatus: "ok" } } });
    expect(await patched.json()).toMatchObject({ spec: { forceSync: true }, status: { synced: true, syncStatus: "ok" } });
    const bad = await t.request("PATCH", `${MODULES}/net/status`, { type: "application/merge-patch+json", body: { status: { synced: "yes" } } });
    expect(bad.status).toBe(422);
    expect((await t.get(`/api/v1/namespaces/default/configmaps/cm/status`)).status).toBe(404);
  });
});

describe("delete", () => {
  test("without finalizers: a Success Status and the object is gone", async () => {
    await t.post(MODULES, moduleManifest("gone"));
    const r = await t.request("DELETE", `${MODULES}/gone`, { body: { propagationPolicy: "Background" } });
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ kind: "Status", status: "Success", details: { name: "gone", group: "opendepot.defdev.io", kind: "modules" } });
    expect((await t.get(`${MODULES}/gone`)).status).toBe(404);
    expect((await t.request("DELETE", `${MODULES}/gone`)).status).toBe(404);
  });

  test("with finalizers: the object stays with a deletionTimestamp until they are removed", async () => {
    await t.post(MODULES, moduleManifest("held", { metadata: { finalizers: ["example.com/hold"] } }));
    const r = await t.request("DELETE", `${MODULES}/held`);
    expect(r.status).toBe(200);
    expect((await r.json()).metadata.deletionTimestamp).toBeString();
    const release = await t.request("PATCH", `${MODULES}/held`, { type: "application/json-patch+json", body: [{ op: "remove", path: "/metadata/finalizers" }] });
    expect(release.status).toBe(200);
    expect((await t.get(`${MODULES}/held`)).status).toBe(404);
  });

  test("preconditions, dryRun and deletecollection", async () => {
    await t.post(MODULES, moduleManifest("pre", { metadata: { labels: { batch: "1" } } }));
    await t.post(MODULES, moduleManifest("pre2", { metadata: { labels: { batch: "1" } } }));
    const wrongUid = await t.request("DELETE", `${MODULES}/pre`, { body: { preconditions: { uid: "not-it" } } });
    expect(wrongUid.status).toBe(409);
    expect((await t.request("DELETE", `${MODULES}/pre?dryRun=All`)).status).toBe(200);
    expect((await t.get(`${MODULES}/pre`)).status).toBe(200);
    const all = await t.request("DELETE", `${MODULES}?labelSelector=batch%3D1`);
    expect(all.status).toBe(200);
    expect((await all.json()).items.map((i: any) => i.metadata.name).sort()).toEqual(["pre", "pre2"]);
    expect((await t.get(`${MODULES}?labelSelector=batch%3D1`).then((x) => x.json())).items).toEqual([]);
  });
});

describe("core kinds", () => {
  test("Secret stringData is folded into base64 data; type defaults to Opaque; immutable Secrets refuse data changes", async () => {
    const r = await t.post("/api/v1/namespaces/default/secrets", { apiVersion: "v1", kind: "Secret", metadata: { name: "s" }, stringData: { user: "ü" }, immutable: true });
    const s = await r.json();
    expect(s).toMatchObject({ type: "Opaque", data: { user: Buffer.from("ü").toString("base64") } });
    expect(s.stringData).toBeUndefined();
    const change = await t.request("PATCH", "/api/v1/namespaces/default/secrets/s", { type: "application/strategic-merge-patch+json", body: { data: { user: "eA==" } } });
    expect(change.status).toBe(422);
    const badB64 = await t.post("/api/v1/namespaces/default/secrets", { apiVersion: "v1", kind: "Secret", metadata: { name: "b" }, data: { k: "not base64!" } });
    expect(badB64.status).toBe(422);
  });

  test("Namespaces are Active with their name label; deleting one empties it and refuses new content meanwhile", async () => {
    const ns = await (await t.post("/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "doomed" } })).json();
    expect(ns).toMatchObject({ status: { phase: "Active" }, metadata: { labels: { "kubernetes.io/metadata.name": "doomed" } } });
    const path = "/apis/opendepot.defdev.io/v1alpha1/namespaces/doomed/modules";
    expect((await t.post(path, moduleManifest("inside"))).status).toBe(201);
    const del = await (await t.request("DELETE", "/api/v1/namespaces/doomed")).json();
    expect(del).toMatchObject({ status: { phase: "Terminating" } });
    expect(del.metadata.deletionTimestamp).toBeString();
    const refused = await t.post(path, moduleManifest("late"));
    expect(refused.status).toBe(403);
    expect((await refused.json()).message).toContain("because it is being terminated");
    await waitFor(async () => (await t.get("/api/v1/namespaces/doomed")).status === 404, 5000, "the namespace to go");
    expect((await t.get(`${path}/inside`)).status).toBe(404);
    expect((await t.request("DELETE", "/api/v1/namespaces/default")).status).toBe(403);
  });
});
