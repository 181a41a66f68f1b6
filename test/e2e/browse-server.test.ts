// The browse API as wired by the registry-server role over a real (embedded) store: README and documentation
// ConfigMaps come from the watch-fed cache (also a docs ConfigMap without the version label, as written for
// Version names longer than a label value), and edits show up without a restart.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ModuleObject, VersionObject } from "../../src/api/kinds.ts";
import { ConfigMap } from "../../src/api/kinds.ts";
import { API_VERSION, LABELS, type KubeObject } from "../../src/api/meta.ts";
import { SigningKey } from "../../src/artifacts/signing.ts";
import { saveReadme } from "../../src/controllers/readme.ts";
import { silentLogger } from "../../src/log.ts";
import { startRegistryServer } from "../../src/roles/registry-server.ts";
import { EmbeddedStore } from "../../src/store/embedded.ts";
import { storageFactory } from "../../src/storage/factory.ts";
import { waitFor, type JsonResponse } from "../support/ports.ts";

let store: EmbeddedStore;
let server: Awaited<ReturnType<typeof startRegistryServer>>;
const get = (path: string) => server.handle(new Request(`http://localhost/opendepot/ui/v1${path}`)) as Promise<JsonResponse>;

beforeAll(async () => {
  const root = await mkdtemp(join(tmpdir(), "opendepot-browse-"));
  store = EmbeddedStore.open(join(root, "store.db"));
  await store.create<ModuleObject>({ apiVersion: API_VERSION, kind: "Module", metadata: { name: "network", namespace: "default" }, spec: { moduleConfig: { provider: "aws", repoOwner: "acme" }, versions: [{ version: "1.0.0" }] } });
  const v = await store.create<VersionObject>({
    apiVersion: API_VERSION,
    kind: "Version",
    metadata: { name: "network-1-0-0", namespace: "default", labels: { [LABELS.module]: "network" } },
    spec: { type: "Module", version: "1.0.0", fileName: "x.zip", moduleConfigRef: { name: "network" } },
  });
  await store.updateStatus({ ...v, status: { synced: true, checksum: "x" } });
  await saveReadme(store, v, { content: "# Network\n" } as never);
  server = await startRegistryServer({ store, storageFor: storageFactory({ defaultRoot: join(root, "artifacts") }), signer: await SigningKey.generate({ name: "t", email: "t@example.com", rsaBits: 2048 }), urlKey: new Uint8Array(32), urlTtlSeconds: 60, log: silentLogger });
});
afterAll(async () => {
  await server?.stop();
  await store?.close();
});

test("README from its ConfigMap; documentation appears once its ConfigMap is written, and follows edits", async () => {
  const first = await (await get("/resources/default/module/network")).json();
  expect(first.readmeContent).toBe("# Network\n");
  expect(first.documentation).toBeNull();
  const docs: KubeObject & { data: Record<string, string> } = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "network-1-0-0-docs", namespace: "default", labels: { [LABELS.module]: "network", [LABELS.namespace]: "default" } },
    data: { "docs.json": JSON.stringify({ root: { inputs: [{ name: "cidr" }] } }) },
  };
  await store.create(docs);
  await waitFor(async () => (await (await get("/resources/default/module/network")).json()).documentation !== null, 10_000, "documentation");
  expect((await (await get("/resources/default/module/network?version=1.0.0")).json()).documentation).toEqual({ root: { inputs: [{ name: "cidr" }] } });
  await store.patch(ConfigMap, "default", "network-1-0-0-docs", { type: "merge", patch: { data: { "docs.json": "x".repeat(600 * 1024) } } });
  await waitFor(async () => (await (await get("/resources/default/module/network")).json()).documentation === null, 10_000, "oversized documentation to read as null");
});
