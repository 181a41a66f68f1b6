// Bearer-token and kubeconfig modes against the Kubernetes-compatible API's TokenReview and SubjectAccessReview,
// with its user tokens and RBAC policies (see src/kubeapi/identity.ts and rbac.ts).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startAdminApi } from "../kubeapi/admin.ts";
import { silentLogger } from "../log.ts";
import { EmbeddedStore } from "../store/embedded.ts";
import { KubeClient } from "../store/kube/client.ts";
import { kubeconfigConnection } from "../store/kube/config.ts";
import { KubernetesGatekeeper, tokenFromKubeconfig } from "./kube-gatekeeper.ts";
import { KubeTokenReviewer, parseTokenAudiences } from "./kube-reviews.ts";

const ALICE = "alice-token-0123456789abcdef";
const BOB = "bob-token-0123456789abcdefgh";
let backing: EmbeddedStore;
let admin: Awaited<ReturnType<typeof startAdminApi>>;
let reviewer: KubeTokenReviewer;
let reviews = 0;

const b64 = (s: string) => Buffer.from(s).toString("base64");
const kubeconfig = (server: string, user: Record<string, unknown>) =>
  b64(JSON.stringify({ apiVersion: "v1", kind: "Config", "current-context": "c", contexts: [{ name: "c", context: { cluster: "k", user: "u" } }], clusters: [{ name: "k", cluster: { server } }], users: [{ name: "u", user }] }));
const request = (authorization?: string) => new Request("http://registry/x", { headers: authorization ? { authorization } : {} });
const target = { kind: "module" as const, namespace: "team-a", name: "network" };

beforeAll(async () => {
  backing = EmbeddedStore.open(":memory:", { log: silentLogger });
  admin = await startAdminApi({ store: backing, dataDir: await mkdtemp(join(tmpdir(), "opendepot-kgk-")), hostname: "127.0.0.1", port: 0, log: silentLogger });
  for (const [name, token] of [["alice", ALICE], ["bob", BOB]] as const) {
    await backing.create({ apiVersion: "v1", kind: "Secret", metadata: { name, namespace: "opendepot-system" }, type: "opendepot.defdev.io/user-token", data: { token: b64(token), groups: b64("platform") } });
  }
  await backing.create({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "alice-reads-network", namespace: "opendepot-system", labels: { "opendepot.defdev.io/rbac": "true" } },
    data: { "policy.yaml": "subjects: [{ kind: User, name: alice }]\nrules:\n  - { verbs: [get], apiGroups: [opendepot.defdev.io], resources: [modules], namespaces: [team-a], resourceNames: [network] }\n" },
  });
  const client = new KubeClient(kubeconfigConnection(admin.kubeconfig));
  const counting = Object.create(client) as KubeClient;
  counting.request = (async (...args: Parameters<KubeClient["request"]>) => {
    reviews++;
    return client.request(...args);
  }) as KubeClient["request"];
  reviewer = new KubeTokenReviewer(counting);
});

afterAll(async () => {
  await admin?.stop();
  await backing?.close();
});

describe("bearer-token mode", () => {
  const gate = () => new KubernetesGatekeeper("bearer-token", reviewer, silentLogger);

  test("SubjectAccessReview allows → through; denies → 403; unknown token → 401; none → 401 with a challenge", async () => {
    expect(await gate().authorize(request(`Bearer ${ALICE}`), target)).toBeUndefined();
    const denied = (await gate().authorize(request(`Bearer ${BOB}`), target))!;
    expect(denied.status).toBe(403);
    expect(((await denied.json()) as { errors: string[] }).errors[0]).toContain("forbidden");
    expect((await gate().authorize(request(`Bearer ${ALICE}`), { ...target, name: "other" }))!.status).toBe(403);
    const unknown = (await gate().authorize(request("Bearer not-a-known-token-at-all"), target))!;
    expect(unknown.status).toBe(401);
    const none = (await gate().authorize(request(), target))!;
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toContain("Bearer");
  });

  test("decisions are cached briefly: a burst costs one TokenReview + one SubjectAccessReview", async () => {
    const g = gate();
    await g.authorize(request(`Bearer ${ALICE}`), { ...target, name: "network" });
    const before = reviews;
    for (let i = 0; i < 20; i++) expect(await g.authorize(request(`Bearer ${ALICE}`), target)).toBeUndefined();
    expect(reviews - before).toBe(0);
  });
});

describe("kubeconfig mode", () => {
  const gate = () => new KubernetesGatekeeper("kubeconfig", reviewer, silentLogger, [admin.url]);

  test("only the token inside is used, against our own API", async () => {
    expect(await gate().authorize(request(`Bearer ${kubeconfig(admin.url, { token: ALICE })}`), target)).toBeUndefined();
    expect((await gate().authorize(request(`Bearer ${kubeconfig(admin.url, { token: BOB })}`), target))!.status).toBe(403);
  });

  test("exec plugins, auth providers, client certificates and foreign servers → 401; nothing runs, nothing is contacted", async () => {
    const marker = join(tmpdir(), `opendepot-exec-marker-${Date.now()}`);
    let contacted = 0;
    const foreign = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => (contacted++, new Response("{}")) });
    try {
      const cases = [
        kubeconfig(admin.url, { exec: { apiVersion: "client.authentication.k8s.io/v1", command: "/bin/sh", args: ["-c", `touch ${marker}`] } }),
        kubeconfig(admin.url, { "auth-provider": { name: "gcp" } }),
        kubeconfig(admin.url, { token: ALICE, exec: { command: "/bin/true" } }),
        kubeconfig(admin.url, { "client-certificate-data": b64("x"), "client-key-data": b64("y") }),
        kubeconfig(`http://127.0.0.1:${foreign.port}`, { token: ALICE }),
        b64("not: [a kubeconfig"),
        "!!!",
      ];
      for (const c of cases) {
        const r = (await gate().authorize(request(`Bearer ${c}`), target))!;
        expect(r.status).toBe(401);
      }
      expect(existsSync(marker)).toBe(false);
      expect(contacted).toBe(0);
    } finally {
      foreign.stop(true);
    }
  });

  test("tokenFromKubeconfig bounds its input", () => {
    expect(tokenFromKubeconfig("A".repeat(70_000))).toEqual({ error: "kubeconfig credential is too large" });
  });
});

describe("TokenReview audiences and 401 bodies", () => {
  const REGISTRY = "https://registry.example.com";
  const CAROL = "carol-token-for-the-registry-0123";
  const logs: Record<string, unknown>[] = [];
  const log = { ...silentLogger, warn: (msg: string, fields?: Record<string, unknown>) => void logs.push({ msg, ...fields }), child: () => log } as unknown as typeof silentLogger;

  beforeAll(async () => {
    // Like a projected service-account token with `audience: <registry URL>`: valid for the registry only.
    await backing.create({ apiVersion: "v1", kind: "Secret", metadata: { name: "carol", namespace: "opendepot-system" }, type: "opendepot.defdev.io/user-token", data: { token: b64(CAROL), username: b64("alice"), audiences: b64(REGISTRY) } });
  });

  test("a token minted for the registry's audience is accepted, and is no credential for the Kubernetes API itself", async () => {
    const client = new KubeClient(kubeconfigConnection(admin.kubeconfig));
    const ownOnly = new KubernetesGatekeeper("bearer-token", new KubeTokenReviewer(client, 0, Date.now, { audiences: [REGISTRY], apiServer: false }), log);
    expect(await ownOnly.authorize(request(`Bearer ${CAROL}`), target)).toBeUndefined();
    // The API-server-audience token (ALICE) is refused when the registry accepts only its own audience...
    expect((await ownOnly.authorize(request(`Bearer ${ALICE}`), target))!.status).toBe(401);
    // ...and accepted again with api-server compatibility, which is the default.
    const both = new KubernetesGatekeeper("bearer-token", new KubeTokenReviewer(client, 0, Date.now, parseTokenAudiences(undefined, REGISTRY)), log);
    expect(await both.authorize(request(`Bearer ${ALICE}`), target)).toBeUndefined();
    expect(await both.authorize(request(`Bearer ${CAROL}`), target)).toBeUndefined();
    // Without audiences (v0.9's TokenReview) the registry-bound token is refused, as the API server refuses it.
    const legacy = new KubernetesGatekeeper("bearer-token", new KubeTokenReviewer(client, 0), log);
    expect((await legacy.authorize(request(`Bearer ${CAROL}`), target))!.status).toBe(401);
    const direct = await fetch(`${admin.url}/api/v1/namespaces`, { headers: { authorization: `Bearer ${CAROL}` }, tls: { ca: admin.caPem } });
    expect(direct.status).toBe(401);
  });

  test("401 bodies say only 'invalid or expired token'; the API server's reason goes to the log", async () => {
    const client = new KubeClient(kubeconfigConnection(admin.kubeconfig));
    const gate = new KubernetesGatekeeper("bearer-token", new KubeTokenReviewer(client, 0, Date.now, { audiences: [REGISTRY], apiServer: false }), log);
    const r = (await gate.authorize(request(`Bearer ${ALICE}`), target))!;
    const body = JSON.stringify(await r.json());
    expect(body).toContain("invalid or expired token");
    expect(body).not.toContain("audiences");
    expect(r.headers.get("www-authenticate")).not.toContain("audiences");
    expect(JSON.stringify(logs)).toContain("is invalid for the target audiences");
  });

  test("--token-audiences: default the registry URL plus the API server's; api-server alone; nonsense refused", () => {
    expect(parseTokenAudiences(undefined, REGISTRY)).toEqual({ audiences: [REGISTRY], apiServer: true });
    expect(parseTokenAudiences(undefined, undefined)).toEqual({ audiences: [], apiServer: true });
    expect(parseTokenAudiences(`${REGISTRY},sts.example`, undefined)).toEqual({ audiences: [REGISTRY, "sts.example"], apiServer: false });
    expect(() => parseTokenAudiences(",", undefined)).toThrow("at least one");
  });
});
