// Discovery, OpenAPI, the built-in CRDs, Table output and the refusals of hostile or malformed requests.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { renderCrds } from "../api/crd.ts";
import { MODULES, moduleManifest, startTestApi, type TestApi } from "../../test/support/kube-api.ts";
import { runtime } from "../runtime/index.ts";

let t: TestApi;
beforeAll(async () => {
  t = await startTestApi({ maxBodyBytes: 64 * 1024 });
});
afterAll(() => t.close());

const json = async (path: string) => (await t.get(path)).json();
const TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";

describe("discovery", () => {
  test("/api, /apis and the groups the issue names", async () => {
    expect(await json("/api")).toMatchObject({ kind: "APIVersions", versions: ["v1"] });
    const groups = (await json("/apis")).groups.map((g: any) => g.preferredVersion.groupVersion);
    expect(groups).toEqual(expect.arrayContaining(["opendepot.defdev.io/v1alpha1", "coordination.k8s.io/v1", "authentication.k8s.io/v1", "authorization.k8s.io/v1", "apiextensions.k8s.io/v1"]));
    expect(await json("/apis/opendepot.defdev.io")).toMatchObject({ kind: "APIGroup", name: "opendepot.defdev.io" });
  });

  test("resource lists: verbs, scope, short names, categories and status subresources", async () => {
    const core = await json("/api/v1");
    const byName = (list: any, n: string) => list.resources.find((r: any) => r.name === n);
    expect(byName(core, "namespaces")).toMatchObject({ namespaced: false, kind: "Namespace", shortNames: ["ns"] });
    expect(byName(core, "configmaps")).toMatchObject({ namespaced: true, shortNames: ["cm"] });
    expect(byName(core, "secrets").verbs).toEqual(expect.arrayContaining(["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"]));
    const ours = await json("/apis/opendepot.defdev.io/v1alpha1");
    expect(ours.groupVersion).toBe("opendepot.defdev.io/v1alpha1");
    for (const plural of ["depots", "modules", "providers", "versions", "groupbindings"]) {
      expect(byName(ours, plural)).toMatchObject({ namespaced: true, categories: ["opendepot"] });
      expect(byName(ours, `${plural}/status`).verbs).toEqual(["get", "patch", "update"]);
    }
    expect(byName(await json("/apis/authentication.k8s.io/v1"), "tokenreviews")).toMatchObject({ namespaced: false, verbs: ["create"] });
    expect((await t.get("/apis/example.com/v1")).status).toBe(404);
  });

  test("OpenAPI v3 advertises server-side field validation on every PATCH (what kubectl apply checks)", async () => {
    const root = await json("/openapi/v3");
    const url = root.paths["apis/opendepot.defdev.io/v1alpha1"].serverRelativeURL;
    const doc = await json(url);
    const op = doc.paths["/apis/opendepot.defdev.io/v1alpha1/namespaces/{namespace}/modules/{name}"].patch;
    expect(op["x-kubernetes-group-version-kind"]).toEqual({ group: "opendepot.defdev.io", version: "v1alpha1", kind: "Module" });
    expect(op.parameters.some((p: any) => p.name === "fieldValidation" && p.in === "query")).toBe(true);
    expect(doc.components.schemas["io.defdev.opendepot.v1alpha1.Module"].properties.spec.properties.moduleConfig).toBeObject();
    expect((await t.get("/openapi/v3/apis/example.com/v1")).status).toBe(404);
  });
});

describe("customresourcedefinitions", () => {
  const CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";
  const modulesCrd = () => Bun.YAML.parse(renderCrds(runtime.stringifyYaml).find((c) => c.file.includes("modules"))!.yaml) as any;

  test("lists the five built-in CRDs, Established", async () => {
    const list = await json(CRDS);
    expect(list.items.map((c: any) => c.metadata.name).sort()).toEqual(["depots", "groupbindings", "modules", "providers", "versions"].map((p) => `${p}.opendepot.defdev.io`));
    expect(list.items[0].status.conditions.find((c: any) => c.type === "Established").status).toBe("True");
  });

  test("applying the crds/ of this release is a no-op success; any other spec or CRD → 422; delete → 405", async () => {
    const crd = modulesCrd();
    expect((await t.request("PUT", `${CRDS}/modules.opendepot.defdev.io`, { body: crd })).status).toBe(200);
    expect((await t.post(CRDS, crd)).status).toBe(201);
    crd.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.extra = { type: "string" };
    const changed = await t.request("PUT", `${CRDS}/modules.opendepot.defdev.io`, { body: crd });
    expect(changed.status).toBe(422);
    expect((await changed.json()).message).toContain("built in");
    const foreign = await t.post(CRDS, { ...modulesCrd(), metadata: { name: "widgets.example.com" } });
    expect(foreign.status).toBe(422);
    expect((await t.request("DELETE", `${CRDS}/modules.opendepot.defdev.io`)).status).toBe(405);
  });
});

describe("Table output (kubectl get)", () => {
  test("printer columns from the kind, priority kept for -o wide, the filter JSONPath evaluated, Age rendered", async () => {
    await t.post(MODULES, moduleManifest("tab"));
    await t.request("PATCH", `${MODULES}/tab/status`, {
      type: "application/merge-patch+json",
      body: { status: { latestVersion: "v1.0.0", latestServedVersion: "1.0.0", synced: true, conditions: [{ type: "Ready", status: "True", reason: "Synced", message: "ok", lastTransitionTime: "2024-01-01T00:00:00Z" }] } },
    });
    const table = await (await t.get(MODULES, { accept: TABLE })).json();
    expect(table).toMatchObject({ kind: "Table", apiVersion: "meta.k8s.io/v1" });
    expect(table.columnDefinitions.map((c: any) => c.name)).toEqual(["Name", "LatestVersion", "Provider", "Source", "Synced", "Ready", "Age"]);
    expect(table.rows[0].cells.slice(0, 6)).toEqual(["tab", "1.0.0", "aws", null, true, "True"]);
    expect(table.rows[0].cells[6]).toMatch(/^\d+s$/);
    const versions = await (await t.get("/apis/opendepot.defdev.io/v1alpha1/versions", { accept: TABLE })).json();
    expect(versions.columnDefinitions.filter((c: any) => c.priority === 1).map((c: any) => c.name)).toEqual(["OS", "Arch", "Status"]);
    const one = await (await t.get(`${MODULES}/tab?includeObject=Object`, { accept: TABLE })).json();
    expect(one.rows[0].object.kind).toBe("Module");
  });

  test("protobuf-only clients get 406", async () => {
    expect((await t.get(MODULES, { accept: "application/vnd.kubernetes.protobuf" })).status).toBe(406);
  });
});

describe("hostile and malformed requests", () => {
  test("unknown paths → 404 Status; wrong methods → 405 Status", async () => {
    const r = await t.get("/apis/opendepot.defdev.io/v1alpha1/namespaces/default/gizmos");
    expect(r.status).toBe(404);
    expect(await r.json()).toMatchObject({ kind: "Status", reason: "NotFound", code: 404 });
    expect((await t.get("/nope")).status).toBe(404);
    expect((await t.get(`${MODULES}/x/y/z/w`)).status).toBe(404);
    const wrong = await t.request("POST", `${MODULES}/tab`, { body: {} });
    expect(wrong.status).toBe(405);
    expect((await wrong.json()).reason).toBe("MethodNotAllowed");
    expect((await t.request("PUT", MODULES, { body: {} })).status).toBe(405);
    expect((await t.request("POST", "/apis/opendepot.defdev.io/v1alpha1/modules", { body: moduleManifest("x") })).status).toBe(405);
    expect((await t.request("DELETE", "/apis")).status).toBe(405);
    expect((await t.get("/api/v1/namespaces/default/namespaces")).status).toBe(404);
  });

  test("bad JSON → 400; wrong content type → 415; oversized body → 413; all as Status objects", async () => {
    const bad = await t.post(MODULES, "{nope");
    expect(bad.status).toBe(400);
    expect((await bad.json()).reason).toBe("BadRequest");
    expect((await t.post(MODULES, "[1,2]")).status).toBe(400);
    expect((await t.post(MODULES, "x", { type: "text/html" })).status).toBe(415);
    const big = await t.post(MODULES, moduleManifest("big", { metadata: { annotations: { pad: "x".repeat(70 * 1024) } } }));
    expect(big.status).toBe(413);
    expect((await big.json()).reason).toBe("RequestEntityTooLarge");
    expect((await t.get(`${MODULES}/a%2Fb`)).status).toBe(400);
  });

  test("__proto__ keys stay data", async () => {
    const r = await t.request("PATCH", `${MODULES}/tab`, { type: "application/merge-patch+json", body: '{"metadata":{"labels":{"__proto__":"x"}}}' });
    // Parsed as a plain key, then refused as the API server refuses it: not a valid label key.
    expect(r.status).toBe(422);
    expect(JSON.stringify(await r.json())).toContain("__proto__");
    expect(({} as any).x).toBeUndefined();
  });
});

describe("bodies that would blow up later", () => {
  test("deep nesting and YAML alias bombs → 400", async () => {
    const deep = `${"[".repeat(5000)}${"]".repeat(5000)}`;
    expect((await t.post(MODULES, deep)).status).toBe(400);
    const lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"];
    for (let i = 1; i < 12; i++) lines.push(`a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(", ")}]`);
    const bomb = `apiVersion: opendepot.defdev.io/v1alpha1\nkind: Module\nmetadata: { name: bomb }\n${lines.join("\n")}\nspec: *a11\n`;
    const r = await t.request("PATCH", `${MODULES}/bomb?fieldManager=x`, { type: "application/apply-patch+yaml", body: bomb });
    expect(r.status).toBe(400);
  });
});
