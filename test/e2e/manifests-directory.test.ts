// Acceptance for issue 11 (data safety 2): pointing `opendepot standalone` at another --manifests directory keeps
// everything the previous directory declared (Modules, Versions, artifacts) and what was created through the
// Kubernetes-compatible API; the change is logged at start; the directory prunes only what it applied itself, and
// --prune=false prunes nothing. Real child processes on one data directory, restarted between steps.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startSampleUpstreams, type SampleUpstreams } from "../../fixtures/upstream-fakes.ts";
import { startStandalone, type StandaloneProcess } from "../support/standalone-process.ts";
import { waitFor, type JsonResponse } from "../support/ports.ts";

const KUBECTL = process.env.KUBECTL ?? "/usr/bin/kubectl";
const GPG_KEY = join(import.meta.dir, "..", "..", "fixtures", "keys", "rogue-signing.private.asc");

let root: string;
let upstreams: SampleUpstreams;
let running: StandaloneProcess | undefined;

const moduleYaml = (name: string, repo: string, version: string) => `apiVersion: opendepot.defdev.io/v1alpha1
kind: Module
metadata: { name: ${name}, namespace: default }
spec:
  moduleConfig: { name: ${repo}, repoOwner: acme, provider: aws }
  versions: [{ version: ${version} }]
`;

async function start(manifests: string, extra: string[] = []) {
  running = await startStandalone({ dataDir: join(root, "data"), manifests, admin: true, env: upstreams.env, extra: ["--gpg-key-file", GPG_KEY, ...extra] });
  return running;
}
async function stop() {
  await running?.stop();
  running = undefined;
}
const served = async (s: StandaloneProcess, name: string) => {
  const r = (await fetch(`${s.url}/opendepot/modules/v1/default/${name}/aws/versions`)) as JsonResponse;
  return r.status === 200 ? ((await r.json()).modules[0].versions as { version: string }[]).map((v) => v.version).sort() : [];
};
const untilServed = (s: StandaloneProcess, name: string, versions: string[]) =>
  waitFor(async () => (await served(s, name)).join() === versions.join(), 30_000, `${name} serving ${versions.join(", ")}`);

async function kubectl(s: StandaloneProcess, ...args: string[]) {
  const proc = Bun.spawn([KUBECTL, ...args], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: join(root, "home"), KUBECONFIG: s.kubeconfig! }, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`kubectl ${args.join(" ")} failed (${code}): ${err}${out}`);
  return out;
}

beforeAll(async () => {
  if (!existsSync(KUBECTL)) throw new Error(`kubectl not found at ${KUBECTL}: the acceptance tests need it`);
  root = await mkdtemp(join(tmpdir(), "opendepot-manifests-dir-"));
  for (const d of ["a", "b", "home"]) await mkdir(join(root, d));
  upstreams = await startSampleUpstreams();
});

afterAll(async () => {
  await stop();
  await upstreams?.stop();
});

describe("switching the --manifests directory", () => {
  test("keeps what the previous directory and the API declared, logs the change, prunes only its own", async () => {
    await writeFile(join(root, "a", "vpc.yaml"), moduleYaml("vpc-a", "terraform-aws-vpc", "v1.2.0"));
    await writeFile(join(root, "b", "s3.yaml"), moduleYaml("s3-b", "terraform-aws-s3", "v2.1.0"));
    await writeFile(join(root, "api-module.yaml"), moduleYaml("from-api", "terraform-aws-s3", "v2.2.0"));

    let s = await start(join(root, "a"));
    await kubectl(s, "apply", "-f", join(root, "api-module.yaml"));
    await untilServed(s, "vpc-a", ["1.2.0"]);
    await untilServed(s, "from-api", ["2.2.0"]);
    await stop();

    // Another directory: what directory a declared stays, and so does what came through the API.
    s = await start(join(root, "b"));
    await untilServed(s, "s3-b", ["2.1.0"]);
    expect(await served(s, "vpc-a")).toEqual(["1.2.0"]);
    expect(await served(s, "from-api")).toEqual(["2.2.0"]);
    const changed = s.logs().find((l) => typeof l.msg === "string" && l.msg.startsWith("manifests directory changed"));
    expect(changed).toMatchObject({ level: "warn", previous: join(root, "a"), directory: join(root, "b") });
    expect(s.logs().find((l) => l.msg === "manifests applied")).toMatchObject({ keptFromElsewhere: 1, deleted: 0 });
    await stop();

    // --prune=false: a document removed from the directory is kept.
    await writeFile(join(root, "b", "s3.yaml"), "# emptied\n");
    s = await start(join(root, "b"), ["--prune=false"]);
    expect(s.logs().find((l) => l.msg === "manifests applied")).toMatchObject({ deleted: 0 });
    await untilServed(s, "s3-b", ["2.1.0"]);
    await stop();

    // With pruning (the default) the directory deletes what it applied and no longer declares, and only that.
    s = await start(join(root, "b"));
    expect(s.logs().find((l) => l.msg === "manifests applied")).toMatchObject({ deleted: 1 });
    await waitFor(async () => (await served(s, "s3-b")).length === 0, 30_000, "s3-b gone");
    expect(await served(s, "vpc-a")).toEqual(["1.2.0"]);
    expect(await served(s, "from-api")).toEqual(["2.2.0"]);
  }, 180_000);
});
