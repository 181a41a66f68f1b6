// kill -9 of `opendepot standalone` in the middle of a provider download: after a restart the registry converges,
// and at no point is a partial or unverified object served.
import { afterAll, expect, test } from "bun:test";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OpenTofuRegistryFake } from "../../fixtures/opentofu-registry-fake.ts";
import { startStandalone, type StandaloneProcess } from "../support/standalone-process.ts";
import { waitFor, type JsonResponse } from "../support/ports.ts";

const registry = new OpenTofuRegistryFake();
let proc: StandaloneProcess | undefined;

afterAll(async () => {
  await proc?.stop("SIGKILL");
  await registry.stop();
});

test("kill -9 mid-sync, restart → converges, no partial object ever served", async () => {
  await registry.start();
  // Big enough that the download is still running when we kill the process.
  registry.addProvider("hashicorp", "big", { versions: ["1.0.0"], platforms: [{ os: "linux", arch: "amd64" }], binarySize: 96 * 1024 * 1024 });
  const root = await mkdtemp(join(tmpdir(), "opendepot-crash-"));
  const manifests = join(root, "manifests");
  await mkdir(manifests);
  await writeFile(
    join(manifests, "provider.yaml"),
    "apiVersion: opendepot.defdev.io/v1alpha1\nkind: Provider\nmetadata:\n  name: big\nspec:\n  providerConfig:\n    operatingSystems: [linux]\n    architectures: [amd64]\n  versions:\n    - version: 1.0.0\n",
  );
  const args = { dataDir: join(root, "data"), manifests, env: { OPENDEPOT_OPENTOFU_REGISTRY_URL: registry.url } };
  const metadata = "/opendepot/providers/v1/default/big/1.0.0/download/linux/amd64";

  proc = await startStandalone(args);
  await waitFor(() => registry.stats.downloads >= 1, 30_000, "download to start");
  await Bun.sleep(50);
  expect(await proc.stop("SIGKILL")).not.toBe(0);
  expect(registry.stats.downloads).toBe(1);

  proc = await startStandalone(args);
  // Until the build is synced again, the registry answers 404 for it — never a partial zip.
  const statuses = new Set<number>();
  const meta = await waitFor(async () => {
    const r = (await fetch(new URL(metadata, proc!.url))) as JsonResponse;
    statuses.add(r.status);
    return r.status === 200 ? await r.json() : undefined;
  }, 90_000, "provider to be served after restart");
  expect([...statuses].filter((s) => s !== 200 && s !== 404)).toEqual([]);
  const zip = await fetch(new URL(meta.download_url, proc.url));
  expect(zip.status).toBe(200);
  const hasher = new Bun.CryptoHasher("sha256");
  for await (const chunk of zip.body!) hasher.update(chunk);
  expect(hasher.digest("hex")).toBe(meta.shasum);
  expect(meta.shasum).toBe(await registry.sha256Of("hashicorp", "big", "1.0.0", "linux", "amd64"));
}, 120_000);
