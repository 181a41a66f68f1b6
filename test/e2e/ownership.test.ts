// Acceptance for issue 11 (data safety 1 and 3): a Module declared in the manifests directory with versions
// [v2.1.0] and extended by a Depot entry `~> 2.1` to 2.2.0 (and likewise a Provider: [3.6.0] + `~> 3.6` → 3.6.3). Manifest edits, `kubectl apply` (client-side and
// server-side, the real kubectl against standalone's Kubernetes-compatible API) and Depot polls are interleaved in a
// seeded random order; a watch on the Versions and a poller of the registry's versions document prove that no
// version some owner still wants is ever deleted, marked for deletion or missing from what the registry serves.
// Then each owner lets go in turn: a version goes only when the last owner drops it, and the log names that owner.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startSampleUpstreams, type SampleUpstreams } from "../../fixtures/upstream-fakes.ts";
import { Module, Provider, Version, type ModuleObject, type ProviderObject, type VersionObject } from "../../src/api/kinds.ts";
import { DepotController } from "../../src/controllers/depot-controller.ts";
import { ControllerManager } from "../../src/controllers/manager.ts";
import { ModuleController } from "../../src/controllers/module-controller.ts";
import { ProviderController } from "../../src/controllers/provider-controller.ts";
import { Upstreams } from "../../src/controllers/upstreams.ts";
import { VersionController } from "../../src/controllers/version-controller.ts";
import { SigningKey } from "../../src/artifacts/signing.ts";
import { startAdminApi } from "../../src/kubeapi/admin.ts";
import { createLogger, silentLogger } from "../../src/log.ts";
import { startRegistryServer } from "../../src/roles/registry-server.ts";
import { storageFactory } from "../../src/storage/factory.ts";
import { EmbeddedStore } from "../../src/store/embedded.ts";
import { ManifestLoader } from "../../src/store/manifests.ts";
import type { Watch } from "../../src/store/types.ts";
import { freePort, waitFor, type JsonResponse } from "../support/ports.ts";

const KUBECTL = process.env.KUBECTL ?? "/usr/bin/kubectl";
const NS = "default";
const S3 = "terraform-aws-s3";
const V210 = `${S3}-2-1-0`;
const V220 = `${S3}-2-2-0`;
const P360 = "random-3-6-0-linux-amd64";
const P363 = "random-3-6-3-linux-amd64";
const WANTED = [V210, V220, P360, P363];
// The config the Depot entry resolves to, declared identically in the manifest so that the two agree on it.
const CONFIG = `{ name: ${S3}, provider: aws, repoOwner: acme, versionConstraints: "~> 2.1", repoUrl: "https://github.com/acme/${S3}" }`;

let root: string;
let manifests: string;
let upstreams: SampleUpstreams;
let store: EmbeddedStore;
let manager: ControllerManager;
let loader: ManifestLoader;
let registry: { stop(): void };
let http: { url: URL; stop(force?: boolean): Promise<void> | void };
let admin: { stop(): Promise<void> | void };
let url: string;
let versionWatch: Watch;
const logs: Record<string, unknown>[] = [];
/** Every change to a Version that takes it away: DELETED, or a deletionTimestamp set. */
const takenAway: { name: string; type: string }[] = [];

const moduleYaml = (versions: string[], label: string) => `apiVersion: opendepot.defdev.io/v1alpha1
kind: Module
metadata: { name: ${S3}, namespace: ${NS}, labels: { edit: "${label}" } }
spec:
  moduleConfig: ${CONFIG}
  versions: [${versions.map((v) => `{ version: ${v} }`).join(", ")}]
`;
const providerYaml = (versions: string[], label: string) => `apiVersion: opendepot.defdev.io/v1alpha1
kind: Provider
metadata: { name: random, namespace: ${NS}, labels: { edit: "${label}" } }
spec:
  providerConfig: { name: random, namespace: hashicorp, operatingSystems: [linux], architectures: [amd64], versionConstraints: "~> 3.6" }
  versions: [${versions.map((v) => `{ version: ${v} }`).join(", ")}]
`;
const depotYaml = (constraint: string) => `apiVersion: opendepot.defdev.io/v1alpha1
kind: Depot
metadata: { name: mirror, namespace: ${NS} }
spec:
  moduleConfigs:
    - { name: ${S3}, provider: aws, repoOwner: acme, versionConstraints: "${constraint}" }
  providerConfigs:
    - { name: random, operatingSystems: [linux], architectures: [amd64], versionConstraints: "~> 3.6" }
  pollingIntervalMinutes: 1
`;

async function kubectl(...args: string[]): Promise<string> {
  const proc = Bun.spawn([KUBECTL, ...args], { env: { ...process.env, KUBECONFIG: join(root, "data", "kubeconfig") }, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`kubectl ${args.join(" ")} failed (${code}): ${stderr}${stdout}`);
  return stdout;
}

const servedVersions = async () => {
  const r = (await fetch(`${url}/opendepot/modules/v1/${NS}/${S3}/aws/versions`)) as JsonResponse;
  return r.status === 200 ? ((await r.json()).modules[0].versions as { version: string }[]).map((v) => v.version).sort() : [];
};
const servedProviderVersions = async () => {
  const r = (await fetch(`${url}/opendepot/providers/v1/${NS}/random/versions`)) as JsonResponse;
  return r.status === 200 ? ((await r.json()).versions as { version: string }[]).map((v) => v.version).sort() : [];
};
/** Stored artifact files, by Version name. */
const storedArtifacts = async () => {
  const dir = join(root, "artifacts", NS, "modules");
  const out: string[] = [];
  for (const name of existsSync(dir) ? await readdir(dir) : []) if ((await readdir(join(dir, name))).length) out.push(name);
  return out.sort();
};
const releaseListings = () => upstreams.github.log.filter((r) => r.path.endsWith(`/${S3}/releases`)).length;

/** Two new release listings: the poll running at the step may have started before it, the next one did not. */
async function depotPoll() {
  const before = releaseListings();
  await waitFor(() => releaseListings() >= before + 2, 20_000, "two Depot polls");
}

/** Everything the owners want exists and is synced, and the Module's/Provider's status reflects its generation. */
async function settled(wanted: string[]) {
  return waitFor(async () => {
    const m = await store.get<ModuleObject>(Module, NS, S3);
    if (!m || m.status?.observedGeneration !== m.metadata.generation) return false;
    const p = await store.get<ProviderObject>(Provider, NS, "random");
    if (!p || p.status?.observedGeneration !== p.metadata.generation) return false;
    for (const name of wanted) {
      const v = await store.get<VersionObject>(Version, NS, name);
      if (!v?.status?.synced) return false;
    }
    return m;
  }, 30_000, `settled with ${wanted.join(", ")}`);
}

beforeAll(async () => {
  if (!existsSync(KUBECTL)) throw new Error(`kubectl not found at ${KUBECTL}: the acceptance tests need it`);
  root = await mkdtemp(join(tmpdir(), "opendepot-ownership-"));
  manifests = join(root, "manifests");
  await mkdir(manifests);
  await mkdir(join(root, "data"));
  upstreams = await startSampleUpstreams(); // terraform-aws-s3 has releases v1.0.0, v1.3.0, v2.1.0, v2.2.0
  store = EmbeddedStore.open(join(root, "store.db"), { log: silentLogger });
  const log = createLogger({ write: (line) => logs.push(JSON.parse(line)) });
  const storageFor = storageFactory({ defaultRoot: join(root, "artifacts") });
  const clients = new Upstreams(store, { githubApiUrl: upstreams.github.url, opentofuRegistryUrl: upstreams.opentofu.url });
  manager = new ControllerManager(store, { log, resyncMs: 0, backoff: { baseMs: 100, maxMs: 2000 } });
  // A Depot "minute" of 100 ms: with pollingIntervalMinutes 1 the Depot polls ten times a second, all along.
  manager.add(new DepotController(store, manager, { upstreams: clients, minuteMs: 100, backoffBaseMs: 200 }));
  manager.add(new ModuleController(store, manager));
  manager.add(new ProviderController(store, manager));
  manager.add(new VersionController(store, manager, { storageFor, upstreams: clients, tmpDir: root, concurrency: 2 }));
  await manager.start();
  const signer = await SigningKey.generate({ name: "Ownership Test", email: "ownership@example.com", rsaBits: 2048 });
  const server = await startRegistryServer({ store, storageFor, signer, urlKey: new Uint8Array(32).fill(3), urlTtlSeconds: 900, log: silentLogger });
  registry = server;
  http = server.listen("127.0.0.1", 0);
  url = http.url.toString().replace(/\/$/, "");
  admin = await startAdminApi({ store, dataDir: join(root, "data"), hostname: "127.0.0.1", port: freePort(), log: silentLogger });

  versionWatch = store.watch<VersionObject>(Version, { namespace: NS }, (e) => {
    if (e.type === "DELETED" || (e.type === "MODIFIED" && e.object.metadata.deletionTimestamp)) takenAway.push({ name: e.object.metadata.name, type: e.type });
  });
  await writeFile(join(manifests, "module.yaml"), moduleYaml(["v2.1.0"], "0"));
  await writeFile(join(manifests, "provider.yaml"), providerYaml(["3.6.0"], "0"));
  await writeFile(join(manifests, "depot.yaml"), depotYaml("~> 2.1"));
  loader = new ManifestLoader(store, manifests, { log, watch: false, rescanIntervalMs: 0 });
  expect((await loader.start()).errors).toEqual([]);
});

afterAll(async () => {
  versionWatch?.stop();
  await loader?.stop();
  await admin?.stop();
  await http?.stop(true);
  registry?.stop();
  await manager?.stop();
  await store?.close();
  await upstreams?.stop();
});

describe("ownership of versions: the manifests directory, kubectl and the Depot never fight", () => {
  test("any interleaving of manifest edits, kubectl apply and Depot polls keeps every wanted version stored and served", async () => {
    await settled(WANTED);
    await waitFor(async () => (await servedVersions()).join() === "2.1.0,2.2.0", 30_000, "both module versions served");
    await waitFor(async () => (await servedProviderVersions()).join() === "3.6.0,3.6.3", 30_000, "both provider versions served");

    // The registry is read all along; every answer must hold both versions.
    let reads = 0;
    const gaps: string[][] = [];
    let reading = true;
    const reader = (async () => {
      while (reading) {
        const [modules, providers] = await Promise.all([servedVersions(), servedProviderVersions()]);
        reads++;
        if (modules.join() !== "2.1.0,2.2.0" || providers.join() !== "3.6.0,3.6.3") gaps.push([...modules, ...providers]);
        await Bun.sleep(5);
      }
    })();

    const kubectlFile = join(root, "kubectl-registry.yaml");
    let seed = 0;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const steps = ["edit", "apply", "apply-server-side", "poll"] as const;
    const done: string[] = [];
    // Three seeded orders of 16 steps each: the same sequences on every run, and every kind of step adjacent to every other.
    for (let i = 1; i <= 48; i++) {
      if (i % 16 === 1) seed = [11, 23, 37][Math.floor(i / 16)]!;
      const step = steps[Math.floor(random() * steps.length)]!;
      done.push(step);
      if (step === "edit") {
        await writeFile(join(manifests, "module.yaml"), moduleYaml(["v2.1.0"], String(i)));
        await writeFile(join(manifests, "provider.yaml"), providerYaml(["3.6.0"], String(i)));
        expect((await loader.rescan()).errors).toEqual([]);
      } else if (step === "apply" || step === "apply-server-side") {
        await writeFile(kubectlFile, `${moduleYaml(["v2.1.0"], String(i))}---\n${providerYaml(["3.6.0"], String(i))}`);
        await kubectl("apply", ...(step === "apply-server-side" ? ["--server-side", "--field-manager=gitops"] : []), "-f", kubectlFile);
      } else await depotPoll();
      await settled(WANTED);
    }
    await depotPoll();
    reading = false;
    await reader;
    expect(new Set(done).size).toBe(steps.length); // the seeds exercise every kind of step
    const pairs = new Set(done.slice(1).map((step, i) => `${done[i]}→${step}`));
    expect(pairs.size).toBe(steps.length * steps.length);
    expect(reads).toBeGreaterThan(0);
    expect(gaps).toEqual([]);
    expect(takenAway).toEqual([]);
    const m = (await store.get<ModuleObject>(Module, NS, S3))!;
    expect(m.spec.versions.map((v) => v.version)).toEqual(["v2.1.0"]);
    expect(m.spec.depotVersions?.map((v) => v.version).sort()).toEqual(["2.1.0", "2.2.0"]);
    const p = (await store.get<ProviderObject>(Provider, NS, "random"))!;
    expect(p.spec.versions.map((v) => v.version)).toEqual(["3.6.0"]);
    expect(p.spec.depotVersions?.map((v) => v.version).sort()).toEqual(["3.6.0", "3.6.3"]);
    expect(await storedArtifacts()).toEqual([V210, V220]);
  }, 240_000);

  test("a version goes only when its last owner drops it, and the log names that owner", async () => {
    // The person stops declaring 2.1.0: the Depot still lists it, so it stays.
    await writeFile(join(manifests, "module.yaml"), moduleYaml([], "drop"));
    expect((await loader.rescan()).errors).toEqual([]);
    await depotPoll();
    await settled(WANTED);
    expect(takenAway).toEqual([]);
    expect((await store.get<VersionObject>(Version, NS, V210))!.metadata.annotations?.["opendepot.defdev.io/wanted-by"]).toBe("depot/mirror");

    // The Depot narrows to ~> 2.2: nobody wants 2.1.0 any more. It goes, and both log lines name the Depot.
    await writeFile(join(manifests, "depot.yaml"), depotYaml("~> 2.2"));
    expect((await loader.rescan()).errors).toEqual([]);
    await waitFor(async () => !(await store.get(Version, NS, V210)), 30_000, "2.1.0 deleted");
    await waitFor(async () => (await servedVersions()).join() === "2.2.0", 30_000, "only 2.2.0 served");
    expect(takenAway.every((t) => t.name === V210)).toBe(true);
    const deleted = await waitFor(() => logs.find((l) => l.msg === "version deleted: no owner lists it any more" && l.version === V210), 10_000, "deletion log");
    expect(deleted.requestedBy).toBe("depot/mirror");
    const artifact = await waitFor(() => logs.find((l) => l.msg === "artifact deleted"), 10_000, "artifact log");
    expect(artifact.requestedBy).toBe("depot/mirror");
    expect(await storedArtifacts()).toEqual([V220]);

    // And the other way round: the person declares 2.2.0 too, the Depot lets go of everything; 2.2.0 stays.
    await writeFile(join(manifests, "module.yaml"), moduleYaml(["2.2.0"], "pin"));
    await writeFile(join(manifests, "depot.yaml"), depotYaml("~> 9.0"));
    expect((await loader.rescan()).errors).toEqual([]);
    await depotPoll();
    await settled([V220]);
    expect((await store.get<ModuleObject>(Module, NS, S3))!.spec.depotVersions ?? []).toEqual([]);
    expect(await servedVersions()).toEqual(["2.2.0"]);
    expect(takenAway.every((t) => t.name === V210)).toBe(true);
    expect(await storedArtifacts()).toEqual([V220]);
  }, 120_000);
});
