// Every YAML manifest in the seeds (../shared/seeds from the repository root; /work/shared/seeds here) works when
// copied: extracted by test/support/seed-manifests.ts (never hand-copied), applied to `opendepot standalone` through
// a manifests directory and with the real kubectl, and every object reaches Ready against the fake upstreams — or
// fails only because it stores into a real cloud bucket (no cloud here). The fakes are given what the seeds name
// (their GitHub repositories and public providers, and the GitHub App Secret the seeds tell users to create), so a
// failure can only be the bucket. Filesystem paths from the seeds (/data/…) are placed under a temporary directory,
// which the operator allows with --storage-filesystem-roots (the storage policy keeps tenants inside allowed roots).
// The runbook's inline Version ("create a Version directly") is then installed with the real Terraform CLI.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { validateObject, formatErrors } from "../../src/api/validate.ts";
import { canonicalStorageConfig } from "../../src/api/storage-aliases.ts";
import { sampleModuleFiles, startSampleUpstreams, type SampleUpstreams } from "../../fixtures/upstream-fakes.ts";
import { extractSeedBlocks, type SeedBlock } from "../support/seed-manifests.ts";
import { startStandalone, type StandaloneProcess } from "../support/standalone-process.ts";
import { waitFor } from "../support/ports.ts";
import { TERRAFORM, TerraformWorkspace } from "../support/terraform.ts";

const parse = (text: string) => Bun.YAML.parse(text) as any;
const REPO_ROOT = resolve(import.meta.dir, "..", "..");
const SEEDS = [resolve(REPO_ROOT, "..", "shared", "seeds"), "/work/shared/seeds"].find((d) => existsSync(d));
const KUBECTL = process.env.KUBECTL_BIN ?? "kubectl";
const OURS = "opendepot.defdev.io/v1alpha1";
const PLURAL: Record<string, string> = { Module: "modules", Provider: "providers", Version: "versions", Depot: "depots", GroupBinding: "groupbindings" };

interface Manifest {
  block: SeedBlock;
  object: { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; spec: Record<string, unknown> };
}

let upstreams: SampleUpstreams;
let root: string;
let blocks: SeedBlock[];
let manifests: Manifest[];

/** Whether a manifest stores into a cloud bucket or account (what may legitimately fail here: there is no cloud). */
const namesCloudStorage = (text: string) => /^\s*(s3|gcs|azureStorage|azureBlob):\s*$/m.test(text);
/** Version condition reasons that mean "the storage backend refused or was unreachable". */
const STORAGE_REASONS = new Set(["StorageAccessDenied", "StorageError"]);

/** The seeds' /data/… paths, moved under the test's directory (the one substitution made to what the seeds say). */
const placePaths = (yaml: string) => yaml.replace(/(directoryPath|path):\s*\/data\//g, `$1: ${root}/data/`);

beforeAll(async () => {
  if (!SEEDS) throw new Error("seeds not found at ../shared/seeds (CI) or /work/shared/seeds");
  if (!existsSync(TERRAFORM)) throw new Error(`Terraform CLI not found at ${TERRAFORM}`);
  root = await mkdtemp(join(tmpdir(), "opendepot-seeds-"));
  blocks = extractSeedBlocks(SEEDS);
  manifests = blocks.filter((b) => b.type === "manifest").map((block) => ({ block, object: parse(placePaths(block.yaml)) }));
  upstreams = await startSampleUpstreams();
  // What the seeds name upstream, with releases satisfying their versions and constraints.
  const repos: [string, string, string[]][] = [
    ["terraform-aws-modules", "terraform-aws-eks", ["v20.0.0", "v21.10.1", "v21.11.0", "v21.12.0", "v21.13.0"]],
    ["terraform-aws-modules", "terraform-aws-vpc", ["v5.0.0"]],
    ["terraform-aws-modules", "terraform-aws-s3-bucket", ["v4.3.0"]],
    ["terraform-google-modules", "terraform-google-kubernetes-engine", ["v33.0.0"]],
    ["azure", "terraform-azurerm-aks", ["v10.0.0"]],
    ["my-org", "terraform-aws-eks", ["v21.10.1", "v21.11.0", "v21.12.0", "v21.13.0"]],
  ];
  for (const [owner, repo, releases] of repos) upstreams.github.addRepo(owner, repo, { releases, files: sampleModuleFiles });
  upstreams.opentofu.addProvider("hashicorp", "azurerm", { versions: ["4.0.0"] });
  upstreams.opentofu.addProvider("hashicorp", "google", { versions: ["6.0.0"] });
}, 60_000);

afterAll(async () => {
  await upstreams?.stop();
});

const b64 = (text: string) => Buffer.from(text).toString("base64");
async function githubAppSecret(): Promise<string> {
  const pem = await readFile(join(REPO_ROOT, "fixtures/keys/github-app.private.pem"), "utf8");
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "opendepot-github-application-secret", namespace: "opendepot-system" },
    data: { githubAppID: b64("12345"), githubInstallID: b64("678"), githubPrivateKey: b64(b64(pem)) },
  });
}

const env = () => ({ ...upstreams.env, AWS_EC2_METADATA_DISABLED: "true", AWS_ACCESS_KEY_ID: "", AWS_SECRET_ACCESS_KEY: "", AZURE_STORAGE_KEY: "", GOOGLE_APPLICATION_CREDENTIALS: "" });

async function admin(server: StandaloneProcess, dataDir: string, path: string): Promise<any> {
  const token = (await readFile(join(dataDir, "admin-token"), "utf8")).trim();
  const r = await fetch(`${server.adminUrl}${path}`, { headers: { authorization: `Bearer ${token}` }, tls: { rejectUnauthorized: false } });
  return r.ok ? r.json() : undefined;
}

const readyOf = (obj: any) => obj?.status?.conditions?.find((c: { type: string }) => c.type === "Ready");

/**
 * Waits until the object is Ready — or, for a manifest that stores into a cloud bucket, until it is not Ready only
 * because of that: a Version failing with a storage reason, a Module/Provider whose every unready Version does.
 */
async function settled(server: StandaloneProcess, dataDir: string, m: Manifest): Promise<{ ready: boolean }> {
  const ns = m.object.metadata.namespace ?? "default";
  const base = `/apis/${OURS}/namespaces/${ns}`;
  const cloud = namesCloudStorage(m.block.yaml);
  let last: unknown;
  try {
    return await waitFor(async () => {
      const obj = await admin(server, dataDir, `${base}/${PLURAL[m.object.kind]}/${m.object.metadata.name}`);
      last = obj?.status;
      const ready = readyOf(obj);
      if (ready?.status === "True") return { ready: true };
      if (!cloud || ready?.status !== "False" || !obj) return undefined;
      if (m.object.kind === "Version") return STORAGE_REASONS.has(ready.reason) ? { ready: false } : undefined;
      if (m.object.kind !== "Module" && m.object.kind !== "Provider") return undefined;
      const label = m.object.kind === "Module" ? "opendepot.defdev.io/module" : "opendepot.defdev.io/provider";
      const children = (await admin(server, dataDir, `${base}/versions?labelSelector=${encodeURIComponent(`${label}=${m.object.metadata.name}`)}`))?.items ?? [];
      last = { owner: obj.status, versions: children.map((v: any) => ({ name: v.metadata.name, ready: readyOf(v) })) };
      const unready = children.filter((v: any) => readyOf(v)?.status !== "True");
      return children.length && unready.length && unready.every((v: any) => STORAGE_REASONS.has(readyOf(v)?.reason)) ? { ready: false } : undefined;
    }, 90_000, `${m.object.kind} ${m.object.metadata.name} (${m.block.file}:${m.block.line}) to settle`);
  } catch (e) {
    throw new Error(`${(e as Error).message}; last status: ${JSON.stringify(last).slice(0, 2000)}`);
  }
}

describe("seed snippets", () => {
  test("extraction finds every manifest and storage snippet of the seeds", () => {
    // Argo CD's Application lost its indentation and is not ours to re-indent: its metadata parses as null.
    const kinds = manifests.map((m) => `${m.block.file.slice(0, 3)}:${m.object.kind}/${m.object.metadata?.name ?? "?"}`);
    expect(kinds).toEqual([
      "000:GroupBinding/platform-team-binding",
      "001:Provider/aws",
      "002:Module/terraform-aws-eks",
      "002:Version/terraform-aws-s3-bucket-4-3-0",
      "003:Depot/upstream-providers",
      "003:Depot/public-modules",
      "003:Depot/my-team-depot",
      "004:Module/terraform-aws-eks",
      "004:Application/?",
      "004:Depot/my-team-depot",
      "004:Module/terraform-aws-eks",
      "004:GroupBinding/01-aws-platform-team",
    ]);
    expect(blocks.filter((b) => b.type === "storageConfig")).toHaveLength(7);
  });

  test("every manifest of ours validates as written; only Argo CD's Application is not ours", () => {
    for (const m of manifests) {
      if (m.object.apiVersion !== OURS) {
        expect(m.object.kind).toBe("Application");
        continue;
      }
      expect({ at: `${m.block.file}:${m.block.line}`, errors: formatErrors(validateObject(m.object as never)) }).toEqual({ at: `${m.block.file}:${m.block.line}`, errors: "" });
    }
  });

  test("every storageConfig snippet validates in a Module; the blog's aliases fold into the canonical fields", () => {
    const canonical: string[] = [];
    for (const b of blocks.filter((x) => x.type === "storageConfig")) {
      const { storageConfig } = parse(b.yaml);
      const module = { apiVersion: OURS, kind: "Module", metadata: { name: "snippet" }, spec: { moduleConfig: { storageConfig }, versions: [] } };
      expect({ at: `${b.file}:${b.line}`, errors: formatErrors(validateObject(module as never)) }).toEqual({ at: `${b.file}:${b.line}`, errors: "" });
      canonical.push(Object.keys(canonicalStorageConfig(storageConfig)!).sort().join(","));
    }
    // 002 presign, 003 azureStorage, then the blog: s3, azureBlob, gcs, filesystem, presign.
    expect(canonical).toEqual(["presign,s3", "azureStorage", "s3", "azureStorage", "gcs", "fileSystem", "presign,s3"]);
    const blog = blocks.filter((x) => x.type === "storageConfig").map((b) => parse(b.yaml).storageConfig);
    expect(canonicalStorageConfig(blog.find((c) => c.filesystem))).toEqual({ fileSystem: { directoryPath: "/data/opendepot" } });
  });
});

// The seeds' examples are alternatives (several Depots claiming the same Provider, a Module that a Depot on the same
// page also manages), so each manifest is applied on its own, to a fresh registry.
async function withRegistry<T>(name: string, run: (server: StandaloneProcess, dataDir: string, manifestsDir?: string) => Promise<T>, options: { manifests?: Record<string, string> } = {}): Promise<T> {
  const dataDir = join(root, name, "data");
  await mkdir(dataDir, { recursive: true });
  let manifestsDir: string | undefined;
  if (options.manifests) {
    manifestsDir = join(root, name, "manifests");
    await mkdir(manifestsDir, { recursive: true });
    for (const [file, text] of Object.entries(options.manifests)) await writeFile(join(manifestsDir, file), text);
  }
  const server = await startStandalone({ dataDir, admin: true, env: env(), extra: ["--resync-interval", "2s", "--storage-filesystem-roots", join(root, "data")], ...(manifestsDir ? { manifests: manifestsDir } : {}) });
  try {
    return await run(server, dataDir, manifestsDir);
  } finally {
    await server.stop();
  }
}

const ours = () => manifests.filter((m) => m.object.apiVersion === OURS);
const label = (m: Manifest) => `${m.block.file}:${m.block.line} ${m.object.kind}/${m.object.metadata.name}`;

describe("seed manifests applied to opendepot standalone", () => {
  test("through a manifests directory: every object settles (Ready, or failing only on its real cloud bucket)", async () => {
    const outcomes: string[] = [];
    for (const [i, m] of ours().entries()) {
      const files = { "00-github-app-secret.yaml": await githubAppSecret(), "01-seed.yaml": placePaths(m.block.yaml) };
      await withRegistry(`dir-${i}`, async (server, dataDir) => {
        expect({ at: label(m), invalid: server.logs().filter((l) => l.msg === "invalid manifest") }).toEqual({ at: label(m), invalid: [] });
        const { ready } = await settled(server, dataDir, m);
        outcomes.push(`${m.block.file.slice(0, 3)} ${m.object.kind}/${m.object.metadata.name}: ${ready ? "Ready" : "cloud storage unavailable"}`);
        // The runbook's inline Version is served under the repository it names, and Terraform installs it.
        if (m.object.kind === "Version") {
          const ws = await TerraformWorkspace.create(server.url, { "main.tf": 'module "s3" {\n  source  = "registry.local/opendepot-system/terraform-aws-s3-bucket/aws"\n  version = "4.3.0"\n}\n' });
          const init = await ws.run("init");
          expect({ exitCode: init.exitCode, stderr: init.stderr }).toEqual({ exitCode: 0, stderr: "" });
          expect(await readFile(join(ws.dir, ".terraform/modules/s3/main.tf"), "utf8")).toBe(sampleModuleFiles("v4.3.0")["main.tf"] as string);
        }
      }, { manifests: files });
    }
    // What a reader of the seeds gets: everything Ready but what stores into a bucket (Depots are Ready once their
    // discovery works; the Modules/Providers they create then wait for the bucket like the ones declared by hand).
    expect(outcomes).toEqual([
      "000 GroupBinding/platform-team-binding: Ready",
      "001 Provider/aws: cloud storage unavailable",
      "002 Module/terraform-aws-eks: cloud storage unavailable",
      "002 Version/terraform-aws-s3-bucket-4-3-0: Ready",
      "003 Depot/upstream-providers: Ready",
      "003 Depot/public-modules: Ready",
      "003 Depot/my-team-depot: Ready",
      "004 Module/terraform-aws-eks: cloud storage unavailable",
      "004 Depot/my-team-depot: Ready",
      "004 Module/terraform-aws-eks: cloud storage unavailable",
      "004 GroupBinding/01-aws-platform-team: Ready",
    ]);
  }, 900_000);

  test("with kubectl apply (strict field validation): accepted, and the objects settle the same way", async () => {
    for (const [i, m] of ours().entries()) {
      await withRegistry(`kubectl-${i}`, async (server, dataDir) => {
        const kubectl = async (...args: string[]) => {
          const p = Bun.spawn([KUBECTL, "--kubeconfig", server.kubeconfig!, ...args], { stdout: "pipe", stderr: "pipe" });
          const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
          return { code, out, err };
        };
        const secretFile = join(dataDir, "..", "secret.json");
        await writeFile(secretFile, await githubAppSecret());
        expect((await kubectl("apply", "-f", secretFile)).code).toBe(0);
        const file = join(dataDir, "..", "seed.yaml");
        await writeFile(file, placePaths(m.block.yaml));
        const r = await kubectl("apply", "-f", file);
        expect({ at: label(m), code: r.code, err: r.err }).toEqual({ at: label(m), code: 0, err: "" });
        await settled(server, dataDir, m);
      });
    }
  }, 900_000);
});
