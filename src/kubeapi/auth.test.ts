// Authentication of the API itself, TokenReview and SubjectAccessReview in the real API server's shapes, and the
// RBAC model (token Secrets, policy ConfigMaps) that backs them and guards every request.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ADMIN_TOKEN, MODULES, moduleManifest, startTestApi, type TestApi } from "../../test/support/kube-api.ts";
import { POLICY_KEY, RBAC_LABEL } from "./rbac.ts";
import { SYSTEM_NAMESPACE, USER_TOKEN_TYPE } from "./identity.ts";

let t: TestApi;
const ALICE = "alice-token-abcdefghijklmnop";
const BOB = "bob-token-abcdefghijklmnopqr";
let saToken = "";

const TOKENREVIEWS = "/apis/authentication.k8s.io/v1/tokenreviews";
const SARS = "/apis/authorization.k8s.io/v1/subjectaccessreviews";

const userToken = (name: string, token: string, username: string, groups: string) => ({
  apiVersion: "v1",
  kind: "Secret",
  metadata: { name, namespace: SYSTEM_NAMESPACE },
  type: USER_TOKEN_TYPE,
  stringData: { token, username, groups },
});

const policy = (name: string, doc: string) => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace: SYSTEM_NAMESPACE, labels: { [RBAC_LABEL]: "true" } },
  data: { [POLICY_KEY]: doc },
});

beforeAll(async () => {
  t = await startTestApi();
  const secrets = `/api/v1/namespaces/${SYSTEM_NAMESPACE}/secrets`;
  expect((await t.post(secrets, userToken("alice", ALICE, "alice", "readers, devs"))).status).toBe(201);
  expect((await t.post(secrets, userToken("bob", BOB, "bob", ""))).status).toBe(201);
  const sa = await t.post("/api/v1/namespaces/default/secrets", {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "registry-token", annotations: { "kubernetes.io/service-account.name": "registry" } },
    type: "kubernetes.io/service-account-token",
  });
  saToken = Buffer.from((await sa.json()).data.token, "base64").toString();
  const cms = `/api/v1/namespaces/${SYSTEM_NAMESPACE}/configmaps`;
  await t.post(cms, policy("readers", `subjects:\n  - { kind: Group, name: readers }\nrules:\n  - { verbs: [get, list, watch], apiGroups: [opendepot.defdev.io], resources: [modules, versions], namespaces: [default] }\n`));
  await t.post(
    cms,
    policy("registry", `subjects:\n  - { kind: ServiceAccount, name: registry, namespace: default }\nrules:\n  - { verbs: [create], apiGroups: [authentication.k8s.io], resources: [tokenreviews] }\n  - { verbs: [create], apiGroups: [authorization.k8s.io], resources: [subjectaccessreviews] }\n  - { verbs: [get], apiGroups: [opendepot.defdev.io], resources: [modules], resourceNames: [net] }\n`),
  );
  await t.post(cms, policy("broken", "subjects: []\n"));
  await t.post(MODULES, moduleManifest("net"));
});
afterAll(() => t.close());

describe("authentication of the API", () => {
  test("no token, an unknown token or a malformed header → 401 Unauthorized Status", async () => {
    for (const token of [null, "not-a-known-token-at-all", "short"]) {
      const r = await t.get(MODULES, { token });
      expect(r.status).toBe(401);
      expect(await r.json()).toEqual({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: "Unauthorized", reason: "Unauthorized", code: 401 });
    }
    const basic = await t.api.handle(new Request(`http://localhost${MODULES}`, { headers: { authorization: `Basic ${btoa("admin:x")}` } }));
    expect(basic.status).toBe(401);
  });

  test("health and version are public like on the API server; discovery needs a token", async () => {
    expect((await t.get("/healthz", { token: null })).status).toBe(200);
    expect((await (await t.get("/version", { token: null })).json()).major).toBe("1");
    expect((await t.get("/apis", { token: null })).status).toBe(401);
    expect((await t.get("/apis", { token: BOB })).status).toBe(200);
  });
});

describe("TokenReview", () => {
  const review = (token: string, extra: Record<string, unknown> = {}) =>
    t.post(TOKENREVIEWS, { apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", spec: { token, ...extra } });

  test("a user token → authenticated with username, uid and groups (201, spec echoed)", async () => {
    const r = await review(ALICE);
    expect(r.status).toBe(201);
    const body = await r.json();
    expect(body).toMatchObject({ kind: "TokenReview", apiVersion: "authentication.k8s.io/v1", spec: { token: ALICE } });
    expect(body.status).toMatchObject({ authenticated: true, user: { username: "alice", groups: ["readers", "devs", "system:authenticated"] }, audiences: ["https://kubernetes.default.svc"] });
    expect(body.status.user.uid).toBeString();
  });

  test("a service-account token Secret (token filled in on create) → system:serviceaccount identity; audiences as the API server answers them", async () => {
    const body = await (await review(saToken, { audiences: ["opendepot", "https://kubernetes.default.svc"] })).json();
    expect(body.status).toMatchObject({
      authenticated: true,
      user: { username: "system:serviceaccount:default:registry", groups: ["system:serviceaccounts", "system:serviceaccounts:default", "system:authenticated"] },
      audiences: ["https://kubernetes.default.svc"],
    });
    // A legacy (audience-agnostic) token is valid for the API server's audiences only.
    const foreign = await (await review(saToken, { audiences: ["opendepot"] })).json();
    expect(foreign.status.authenticated).toBeUndefined();
    expect(foreign.status.error).toContain("is invalid for the target audiences");
  });

  test("the admin token → system:masters; an unknown token → not authenticated, `user: {}` like the API server", async () => {
    expect((await (await review(ADMIN_TOKEN)).json()).status.user.groups).toContain("system:masters");
    const unknown = await (await review("nobody-has-this-token-1234")).json();
    expect(unknown.status).toEqual({ user: {} });
  });

  test("an empty token is a 400; a wrong kind is a 400", async () => {
    expect((await review("")).status).toBe(400);
    expect((await t.post(TOKENREVIEWS, { apiVersion: "v1", kind: "ConfigMap", spec: { token: ALICE } })).status).toBe(400);
  });

  test("a deleted token Secret stops authenticating", async () => {
    await t.post(`/api/v1/namespaces/${SYSTEM_NAMESPACE}/secrets`, userToken("temp", "temporary-token-123456789", "temp", ""));
    expect((await (await review("temporary-token-123456789")).json()).status.authenticated).toBe(true);
    await t.request("DELETE", `/api/v1/namespaces/${SYSTEM_NAMESPACE}/secrets/temp`);
    expect((await (await review("temporary-token-123456789")).json()).status.authenticated).toBeUndefined();
  });
});

describe("SubjectAccessReview and RBAC", () => {
  const sar = (spec: Record<string, unknown>, token?: string) => t.post(SARS, { apiVersion: "authorization.k8s.io/v1", kind: "SubjectAccessReview", spec }, { token });
  const get = (ns: string, name?: string) => ({ resourceAttributes: { verb: "get", group: "opendepot.defdev.io", resource: "modules", namespace: ns, ...(name ? { name } : {}) } });

  test("allowed by a policy rule (group subject, namespace-limited)", async () => {
    const r = await sar({ user: "alice", groups: ["readers"], ...get("default", "net") });
    expect(r.status).toBe(201);
    const body = await r.json();
    expect(body).toMatchObject({ kind: "SubjectAccessReview", spec: { user: "alice" }, status: { allowed: true } });
    expect(body.status.reason).toContain(`ConfigMap ${SYSTEM_NAMESPACE}/readers`);
  });

  test("denied: other namespace, other verb, other resource, unknown user; broken policies are reported", async () => {
    for (const spec of [
      { user: "alice", groups: ["readers"], ...get("team-b") },
      { user: "alice", groups: ["readers"], resourceAttributes: { verb: "delete", group: "opendepot.defdev.io", resource: "modules", namespace: "default" } },
      { user: "alice", groups: ["readers"], resourceAttributes: { verb: "get", group: "opendepot.defdev.io", resource: "providers", namespace: "default" } },
      { user: "mallory", ...get("default") },
    ]) {
      const status = (await (await sar(spec)).json()).status;
      expect(status.allowed).toBe(false);
      expect(status.evaluationError).toContain("broken");
    }
  });

  test("resourceNames and subresources follow RBAC: no list with resourceNames, `*/status` only with a rule for it", async () => {
    const sa = { user: "system:serviceaccount:default:registry", groups: ["system:serviceaccounts"] };
    expect((await (await sar({ ...sa, ...get("default", "net") })).json()).status.allowed).toBe(true);
    expect((await (await sar({ ...sa, ...get("default", "other") })).json()).status.allowed).toBe(false);
    expect((await (await sar({ ...sa, resourceAttributes: { verb: "list", group: "opendepot.defdev.io", resource: "modules", namespace: "default" } })).json()).status.allowed).toBe(false);
    expect((await (await sar({ ...sa, resourceAttributes: { ...get("default", "net").resourceAttributes, subresource: "status" } })).json()).status.allowed).toBe(false);
  });

  test("system:masters is allowed everything; non-resource paths", async () => {
    expect((await (await sar({ user: "x", groups: ["system:masters"], ...get("any") })).json()).status.allowed).toBe(true);
    expect((await (await sar({ user: "x", groups: ["system:authenticated"], nonResourceAttributes: { verb: "get", path: "/apis" } })).json()).status.allowed).toBe(true);
    expect((await (await sar({ user: "x", groups: ["system:authenticated"], nonResourceAttributes: { verb: "get", path: "/metrics" } })).json()).status.allowed).toBe(false);
  });

  test("invalid reviews → 422 with the API server's causes", async () => {
    const none = await sar({ user: "alice" });
    expect(none.status).toBe(422);
    expect((await none.json()).details.causes[0].field).toBe("spec.resourceAttributes");
    const nobody = await sar(get("default"));
    expect(nobody.status).toBe(422);
    expect((await nobody.json()).details.causes[0].field).toBe("spec.user");
  });

  test("every request is authorized: a service account may review tokens but not list modules (403 Forbidden Status)", async () => {
    const tr = await t.post(TOKENREVIEWS, { spec: { token: ALICE } }, { token: saToken });
    expect(tr.status).toBe(201);
    expect((await t.get(`${MODULES}/net`, { token: saToken })).status).toBe(200);
    const list = await t.get(MODULES, { token: saToken });
    expect(list.status).toBe(403);
    expect(await list.json()).toMatchObject({
      kind: "Status",
      reason: "Forbidden",
      code: 403,
      message: 'modules.opendepot.defdev.io is forbidden: User "system:serviceaccount:default:registry" cannot list resource "modules" in API group "opendepot.defdev.io" in the namespace "default"',
      details: { group: "opendepot.defdev.io", kind: "modules" },
    });
    expect((await t.get(MODULES, { token: ALICE })).status).toBe(200);
    expect((await t.post(MODULES, moduleManifest("nope"), { token: ALICE })).status).toBe(403);
    expect((await t.get("/api/v1/namespaces/default/secrets", { token: ALICE })).status).toBe(403);
  });

  test("self-service: SelfSubjectAccessReview and SelfSubjectReview for any authenticated caller", async () => {
    const ssar = await t.post("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", { spec: get("default") }, { token: ALICE });
    expect(ssar.status).toBe(201);
    expect((await ssar.json()).status.allowed).toBe(true);
    const ssr = await t.post("/apis/authentication.k8s.io/v1/selfsubjectreviews", {}, { token: BOB });
    expect((await ssr.json()).status.userInfo).toMatchObject({ username: "bob", groups: ["system:authenticated"] });
  });
});
