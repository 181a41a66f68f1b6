// OwnerReferencesPermissionEnforcement (on by default on OpenShift) in the Kubernetes-compatible API, and the
// controllers' owner references under it: their children set blockOwnerDeletion, which needs the `update` on
// `*/finalizers` the chart grants.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Module, Version, type ModuleObject, type VersionObject } from "../api/kinds.ts";
import { API_VERSION, type KubeObject } from "../api/meta.ts";
import { ownerReference, reconcileChildren } from "../controllers/children.ts";
import { silentLogger } from "../log.ts";
import { EmbeddedStore } from "../store/embedded.ts";
import { KubeClient } from "../store/kube/client.ts";
import { KubeStore } from "../store/kube/store.ts";
import { startAdminApi } from "./admin.ts";

const CONTROLLER = "controller-token-0123456789abcdef";
let backing: EmbeddedStore;
let admin: Awaited<ReturnType<typeof startAdminApi>>;
let controller: KubeStore;
let owner: ModuleObject;

const b64 = (s: string) => Buffer.from(s).toString("base64");
const policy = (name: string, rules: string) =>
  backing.create({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name, namespace: "opendepot-system", labels: { "opendepot.defdev.io/rbac": "true" } },
    data: { "policy.yaml": `subjects: [{ kind: User, name: controller }]\nrules:\n${rules}` },
  });
const version = (name: string, refs: KubeObject["metadata"]["ownerReferences"]): VersionObject => ({
  apiVersion: API_VERSION,
  kind: "Version",
  metadata: { name, namespace: "default", ownerReferences: refs },
  spec: { type: "Module", version: "1.0.0" },
});

beforeAll(async () => {
  backing = EmbeddedStore.open(":memory:", { log: silentLogger });
  admin = await startAdminApi({ store: backing, dataDir: await mkdtemp(join(tmpdir(), "opendepot-orpe-")), hostname: "127.0.0.1", port: 0, log: silentLogger, ownerReferencesPermissionEnforcement: true });
  await backing.create({ apiVersion: "v1", kind: "Secret", metadata: { name: "controller", namespace: "opendepot-system" }, type: "opendepot.defdev.io/user-token", data: { token: b64(CONTROLLER), username: b64("controller") } });
  // What the chart grants the controller, without `update` on */finalizers.
  await policy("controller", "  - { verbs: [get, list, watch, create, update, patch], apiGroups: [opendepot.defdev.io], resources: [modules, providers, versions, modules/status, versions/status] }\n  - { verbs: [get, create, update, patch], apiGroups: [\"\"], resources: [configmaps] }\n");
  owner = await backing.create<ModuleObject>({ apiVersion: API_VERSION, kind: "Module", metadata: { name: "vpc", namespace: "default" }, spec: { moduleConfig: { repoOwner: "acme" }, versions: [{ version: "1.0.0" }] } });
  controller = new KubeStore(new KubeClient({ server: admin.url, token: () => CONTROLLER, tls: { ca: admin.caPem, rejectUnauthorized: true }, source: "test" }));
});

afterAll(async () => {
  await admin?.stop();
  await backing?.close();
});

describe("OwnerReferencesPermissionEnforcement", () => {
  test("blockOwnerDeletion without update on the owner's finalizers is refused with the API server's message", async () => {
    const ref = { ...ownerReference(owner), blockOwnerDeletion: true };
    const error = await controller.create(version("vpc-blocking", [ref])).catch((e: Error) => e);
    expect(error).toMatchObject({ reason: "Forbidden" });
    expect((error as Error).message).toContain("cannot set blockOwnerDeletion if an ownerReference refers to a resource you can't set finalizers on");
    expect((error as Error).message).toContain('cannot update resource "modules/finalizers"');
    // A reference that does not block its owner's deletion needs no such right.
    expect((await controller.create(version("vpc-plain", [{ ...ref, blockOwnerDeletion: false }]))).metadata.name).toBe("vpc-plain");
  });

  test("changing ownerReferences on update needs delete on the object", async () => {
    const created = await controller.create(version("vpc-2-0-0", []));
    const error = await controller.update({ ...created, metadata: { ...created.metadata, ownerReferences: [{ ...ownerReference(owner), blockOwnerDeletion: false }] } }).catch((e: Error) => e);
    expect((error as Error).message).toContain("cannot set an ownerRef on a resource you can't delete");
  });

  test("the controllers' children block their owner's deletion: refused without the chart's */finalizers grant, created with it", async () => {
    expect(ownerReference(owner).blockOwnerDeletion).toBe(true);
    const desired = [{ name: "vpc-1-0-0", labels: {}, spec: { type: "Module" as const, version: "1.0.0" }, wantedBy: ["Module/vpc"] }];
    const refused = await reconcileChildren(controller, owner, desired, [], { forceSync: false, log: silentLogger }).catch((e: Error) => e);
    expect((refused as Error).message).toContain("cannot set blockOwnerDeletion");
    // What the chart grants besides: update on modules/providers/versions finalizers.
    await policy("controller-finalizers", "  - { verbs: [update], apiGroups: [opendepot.defdev.io], resources: [modules/finalizers, providers/finalizers, versions/finalizers] }\n");
    const result = await reconcileChildren(controller, owner, desired, [], { forceSync: false, log: silentLogger });
    expect(result.created).toEqual(["vpc-1-0-0"]);
    expect((await backing.get<VersionObject>(Version, "default", "vpc-1-0-0"))?.metadata.ownerReferences?.[0]?.blockOwnerDeletion).toBe(true);
    expect(await backing.get(Module, "default", "vpc")).toBeDefined();
  });
});
