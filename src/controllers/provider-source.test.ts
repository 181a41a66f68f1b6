// Source repository resolution (reference §3.4) against the OpenTofu registry fake's docs API, and the go.mod cache.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Provider, type ProviderObject, type VersionObject } from "../api/kinds.ts";
import { API_VERSION, LABELS } from "../api/meta.ts";
import { OpenTofuRegistryFake } from "../../fixtures/opentofu-registry-fake.ts";
import { OpenTofuDocsClient } from "../sources/opentofu-docs.ts";
import { UpstreamError } from "../sources/http.ts";
import { EmbeddedStore } from "../store/embedded.ts";
import { GoModuleCache, parseGitHubRepository, resolveSourceRepository } from "./provider-source.ts";

let fake: OpenTofuRegistryFake;
let docs: OpenTofuDocsClient;
beforeAll(async () => {
  fake = new OpenTofuRegistryFake();
  await fake.start();
  fake.addProvider("hashicorp", "listed", { versions: ["1.0.0"], link: "https://github.com/hashicorp/terraform-provider-listed" });
  fake.addProvider("hashicorp", "unlisted", { versions: ["1.0.0"] });
  fake.addProvider("hashicorp", "elsewhere", { versions: ["1.0.0"], link: "https://gitlab.com/someone/terraform-provider-elsewhere" });
  docs = new OpenTofuDocsClient({ baseUrl: fake.url, retries: 0 });
});
afterAll(() => fake.stop());

const version = (name: string, config: Record<string, unknown> = {}): VersionObject => ({
  apiVersion: API_VERSION,
  kind: "Version",
  metadata: { name: `${name}-1-0-0-linux-amd64`, namespace: "default", labels: { [LABELS.provider]: name } },
  spec: { type: "Provider", version: "1.0.0", operatingSystem: "linux", architecture: "amd64", providerConfigRef: { name, namespace: "hashicorp", ...config } },
});
async function storeWith(name: string, status?: Record<string, unknown>) {
  const store = EmbeddedStore.open(":memory:");
  const p = await store.create<ProviderObject>({ apiVersion: API_VERSION, kind: "Provider", metadata: { name, namespace: "default" }, spec: { providerConfig: { operatingSystems: ["linux"], architectures: ["amd64"] }, versions: [] } });
  if (status) await store.patch(Provider, "default", name, { type: "merge", patch: { status } }, { subresource: "status" });
  return { store, p };
}

describe("resolveSourceRepository", () => {
  test("the docs API link, written once to Provider.status.resolvedSourceRepository", async () => {
    const { store } = await storeWith("listed");
    const r = await resolveSourceRepository(version("listed"), store, docs);
    expect(r).toEqual({ url: "https://github.com/hashicorp/terraform-provider-listed", owner: "hashicorp", repo: "terraform-provider-listed", how: "registry" });
    expect((await store.get<ProviderObject>(Provider, "default", "listed"))?.status?.resolvedSourceRepository).toBe(r.url);
    // Later resolutions read the recorded one and do not ask the registry again.
    const before = fake.stats.requests;
    expect((await resolveSourceRepository(version("listed"), store, docs)).how).toBe("status");
    expect(fake.stats.requests).toBe(before);
  });
  test("spec.sourceRepository wins; a non-GitHub URL there is refused", async () => {
    const { store } = await storeWith("listed", { resolvedSourceRepository: "https://github.com/other/thing" });
    expect((await resolveSourceRepository(version("listed", { sourceRepository: " https://github.com/acme/terraform-provider-fork.git " }), store, docs))).toMatchObject({ owner: "acme", repo: "terraform-provider-fork", how: "spec" });
    await expect(resolveSourceRepository(version("listed", { sourceRepository: "https://gitlab.com/acme/x" }), store, docs)).rejects.toThrow(UpstreamError);
  });
  test("no link, or a link off GitHub: the github.com/<ns>/terraform-provider-<name> heuristic", async () => {
    for (const name of ["unlisted", "elsewhere"]) {
      const { store } = await storeWith(name);
      expect(await resolveSourceRepository(version(name), store, docs)).toMatchObject({ owner: "hashicorp", repo: `terraform-provider-${name}`, how: "heuristic" });
    }
  });
  test("a registry outage is not papered over with a guess", async () => {
    const { store } = await storeWith("listed");
    fake.failNext(503, 1, /registry\/docs/);
    await expect(resolveSourceRepository(version("listed"), store, docs)).rejects.toThrow(UpstreamError);
    expect((await store.get<ProviderObject>(Provider, "default", "listed"))?.status?.resolvedSourceRepository).toBeUndefined();
  });
});

test("parseGitHubRepository", () => {
  expect(parseGitHubRepository("https://github.com/hashicorp/terraform-provider-aws/")).toEqual({ owner: "hashicorp", repo: "terraform-provider-aws" });
  expect(parseGitHubRepository("https://ghe.corp.example/org/repo")).toBeUndefined();
  expect(parseGitHubRepository("https://ghe.corp.example/org/repo", ["ghe.corp.example"])).toEqual({ owner: "org", repo: "repo" });
  for (const bad of ["http://github.com/a/b", "https://github.com/a", "https://github.com/a/b/c", "https://github.com/../b", "git@github.com:a/b.git"]) expect(parseGitHubRepository(bad)).toBeUndefined();
});

test("GoModuleCache: loads once, refreshes on demand, stays under its byte bound", async () => {
  const cache = new GoModuleCache(10);
  let loads = 0;
  const load = (n: number) => async () => (loads++, { ref: "v1", files: { "go.mod": new Uint8Array(n) } });
  await cache.get("a", load(4), false);
  await cache.get("a", load(4), false);
  expect(loads).toBe(1);
  await cache.get("a", load(4), true);
  expect(loads).toBe(2);
  await cache.get("b", load(4), false);
  await cache.get("c", load(4), false); // evicts "a"
  await cache.get("a", load(4), false);
  expect(loads).toBe(5);
  expect(await cache.get("none", async () => (loads++, undefined), false)).toBeUndefined();
  await cache.get("none", async () => (loads++, undefined), false);
  expect(loads).toBe(6);
});
