// Acceptance: the real kubectl manages `opendepot standalone` through its Kubernetes-compatible admin API, with
// nothing but the kubeconfig standalone writes: CRDs, manifests, printer columns, patches, watches, schema
// refusals, server-side apply and deletion.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startStandalone, type StandaloneProcess } from "../support/standalone-process.ts";
import { waitFor } from "../support/ports.ts";

const KUBECTL = process.env.KUBECTL ?? "/usr/bin/kubectl";
const CRDS = join(import.meta.dir, "..", "..", "crds");

let root: string;
let server: StandaloneProcess;
let env: Record<string, string>;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function kubectl(...args: string[]): Promise<Run> {
  const proc = Bun.spawn([KUBECTL, ...args], { env, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

/** kubectl that must succeed; returns stdout. */
async function ok(...args: string[]): Promise<string> {
  const r = await kubectl(...args);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")} failed (${r.code}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

const MANIFESTS = {
  "00-namespace.yaml": `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-a\n`,
  "module.yaml": `apiVersion: opendepot.defdev.io/v1alpha1
kind: Module
metadata: { name: network, namespace: team-a }
spec:
  moduleConfig: { repoOwner: acme, provider: aws, fileFormat: zip }
  versions:
    - version: v1.2.0
`,
  "provider.yaml": `apiVersion: opendepot.defdev.io/v1alpha1
kind: Provider
metadata: { name: widget, namespace: team-a }
spec:
  providerConfig: { name: widget, operatingSystems: [linux], architectures: [amd64] }
  versions:
    - version: 2.1.0
`,
  "depot.yaml": `apiVersion: opendepot.defdev.io/v1alpha1
kind: Depot
metadata: { name: main, namespace: team-a }
spec:
  pollingIntervalMinutes: 30
  moduleConfigs:
    - { name: vpc, repoOwner: acme, provider: aws, versionConstraints: ">= 1.0.0" }
`,
  "groupbinding.yaml": `apiVersion: opendepot.defdev.io/v1alpha1
kind: GroupBinding
metadata: { name: readers, namespace: team-a }
spec:
  expression: "true"
`,
};

beforeAll(async () => {
  if (!existsSync(KUBECTL)) throw new Error(`kubectl not found at ${KUBECTL}: the acceptance tests need it`);
  root = await mkdtemp(join(tmpdir(), "opendepot-kubectl-"));
  await mkdir(join(root, "manifests"));
  for (const [file, text] of Object.entries(MANIFESTS)) await writeFile(join(root, "manifests", file), text);
  // A fixture signing key spares the RSA key generation of a fresh data directory; no controllers: kubectl alone
  // changes the objects here.
  const gpgKey = join(import.meta.dir, "..", "..", "fixtures", "keys", "rogue-signing.private.asc");
  server = await startStandalone({ dataDir: join(root, "data"), admin: true, extra: ["--controllers", "", "--gpg-key-file", gpgKey] });
  // A private HOME keeps kubectl's discovery cache out of the user's.
  env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: join(root, "home"), KUBECONFIG: server.kubeconfig! };
}, 30_000);

afterAll(async () => {
  await server?.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

describe("kubectl against opendepot standalone", () => {
  test("kubectl apply -f crds/ succeeds (the built-in CRDs, unchanged)", async () => {
    const out = await ok("apply", "-f", CRDS);
    for (const plural of ["depots", "modules", "providers", "versions", "groupbindings"]) {
      expect(out).toContain(`customresourcedefinition.apiextensions.k8s.io/${plural}.opendepot.defdev.io unchanged`);
    }
    expect(await ok("get", "crds", "-o", "name")).toContain("customresourcedefinition.apiextensions.k8s.io/modules.opendepot.defdev.io");
  });

  test("kubectl apply -f <manifests> creates the Namespace, Module, Provider, Depot and GroupBinding", async () => {
    const out = await ok("apply", "-f", join(root, "manifests"));
    expect(out).toContain("namespace/team-a created");
    for (const ref of ["module.opendepot.defdev.io/network", "provider.opendepot.defdev.io/widget", "depot.opendepot.defdev.io/main", "groupbinding.opendepot.defdev.io/readers"]) {
      expect(out).toContain(`${ref} created`);
    }
  });

  test("a second apply with an edit: the edited object is configured, the rest unchanged", async () => {
    await writeFile(join(root, "manifests", "module.yaml"), MANIFESTS["module.yaml"].replace("provider: aws", "provider: azurerm"));
    const out = await ok("apply", "-f", join(root, "manifests"));
    expect(out).toContain("module.opendepot.defdev.io/network configured");
    expect(out).toContain("provider.opendepot.defdev.io/widget unchanged");
    expect(out).toContain("namespace/team-a unchanged");
    expect(await ok("get", "module", "network", "-n", "team-a", "-o", "jsonpath={.spec.moduleConfig.provider}")).toBe("azurerm");
  });

  test("kubectl get modules shows the printer columns", async () => {
    const out = await ok("get", "modules", "-n", "team-a");
    const [header, row] = out.trim().split("\n");
    expect(header!.split(/\s+/)).toEqual(["NAME", "LATESTVERSION", "PROVIDER", "SOURCE", "SYNCED", "READY", "AGE"]);
    expect(row).toMatch(/^network\s+azurerm\s+\d+s$/);
    expect(await ok("get", "opendepot", "-A")).toContain("depot.opendepot.defdev.io/main");
    // No empty duplicate of NAME for providers (spec.providerConfig.name usually defaults to it).
    expect((await ok("get", "providers", "-n", "team-a")).split("\n")[0]!.split(/\s+/)).toEqual(["NAME", "LATESTVERSION", "SYNCED", "READY", "AGE"]);
  });

  test("kubectl get versions -o wide adds the priority columns", async () => {
    const version = `apiVersion: opendepot.defdev.io/v1alpha1
kind: Version
metadata: { name: widget-2.1.0-linux-amd64, namespace: team-a }
spec: { type: Provider, version: 2.1.0, operatingSystem: linux, architecture: amd64 }
`;
    await writeFile(join(root, "version.yaml"), version);
    expect(await ok("apply", "-f", join(root, "version.yaml"))).toContain("created");
    const narrow = (await ok("get", "versions", "-n", "team-a")).split("\n")[0]!.split(/\s+/);
    expect(narrow).toEqual(["NAME", "TYPE", "VERSION", "SYNCED", "CHECKSUM", "AGE"]);
    const wide = (await ok("get", "versions", "-n", "team-a", "-o", "wide")).trim().split("\n");
    expect(wide[0]!.split(/\s+/)).toEqual(["NAME", "TYPE", "VERSION", "OS", "ARCH", "SYNCED", "CHECKSUM", "STATUS", "AGE"]);
    expect(wide[1]).toMatch(/^widget-2\.1\.0-linux-amd64\s+Provider\s+2\.1\.0\s+linux\s+amd64\s+/);
  });

  test("kubectl get module x -o yaml", async () => {
    const obj = Bun.YAML.parse(await ok("get", "module", "network", "-n", "team-a", "-o", "yaml")) as any;
    expect(obj).toMatchObject({ apiVersion: "opendepot.defdev.io/v1alpha1", kind: "Module", metadata: { name: "network", namespace: "team-a" }, spec: { versions: [{ version: "v1.2.0" }] } });
    expect(obj.metadata.annotations["kubectl.kubernetes.io/last-applied-configuration"]).toContain('"azurerm"');
  });

  test("kubectl explain documents every field (descriptions from src/api/types.ts)", async () => {
    const spec = await ok("explain", "module.spec");
    expect(spec).toContain("A module the registry serves, from a GitHub repository.");
    expect(spec).toContain("moduleConfig");
    expect(spec).toContain("Versions to serve");
    expect(spec).not.toContain("<no description>");
    const nested = await ok("explain", "module.spec.moduleConfig.storageConfig.s3");
    expect(nested).toContain("Bucket name.");
    expect(nested).not.toContain("<no description>");
    const recursive = await ok("explain", "depots", "--recursive");
    expect(recursive).toContain("pollingIntervalMinutes");
    for (const kind of ["module", "provider", "version", "depot", "groupbinding"]) {
      expect(await ok("explain", `${kind}.status.conditions`)).not.toContain("<no description>");
    }
  });

  test("kubectl get --show-managed-fields names who wrote what: kubectl's own field managers", async () => {
    const yaml = await ok("get", "module", "network", "-n", "team-a", "-o", "yaml", "--show-managed-fields");
    expect(yaml).toContain("manager: kubectl-client-side-apply");
    expect(yaml).toContain("operation: Update");
  });

  test("kubectl patch --type merge and --type json", async () => {
    expect(await ok("patch", "module", "network", "-n", "team-a", "--type", "merge", "-p", '{"spec":{"forceSync":true}}')).toContain("module.opendepot.defdev.io/network patched");
    expect(await ok("get", "module", "network", "-n", "team-a", "-o", "jsonpath={.spec.forceSync}")).toBe("true");
    await ok("patch", "module", "network", "-n", "team-a", "--type", "json", "-p", '[{"op":"replace","path":"/spec/versions/0/version","value":"v1.3.0"}]');
    expect(await ok("get", "module", "network", "-n", "team-a", "-o", "jsonpath={.spec.versions[0].version} {.metadata.generation}")).toBe("v1.3.0 4");
  });

  test("kubectl get modules -w sees a change made by another client", async () => {
    const watcher = Bun.spawn([KUBECTL, "get", "modules", "-n", "team-a", "-w"], { env, stdout: "pipe", stderr: "pipe" });
    let out = "";
    const reading = (async () => {
      for await (const chunk of watcher.stdout) out += new TextDecoder().decode(chunk);
    })();
    try {
      await waitFor(() => /network\s+azurerm/.test(out), 15_000, "the initial row");
      // Another client: plain HTTPS with the token and CA from the kubeconfig.
      const kubeconfig = Bun.YAML.parse(await readFile(server.kubeconfig!, "utf8")) as any;
      const ca = Buffer.from(kubeconfig.clusters[0].cluster["certificate-authority-data"], "base64").toString();
      const r = await fetch(`${server.adminUrl}/apis/opendepot.defdev.io/v1alpha1/namespaces/team-a/modules/network`, {
        method: "PATCH",
        headers: { authorization: `Bearer ${kubeconfig.users[0].user.token}`, "content-type": "application/merge-patch+json" },
        body: JSON.stringify({ spec: { moduleConfig: { provider: "google" } } }),
        tls: { ca },
      });
      expect(r.status).toBe(200);
      await waitFor(() => /network\s+google/.test(out), 15_000, "the watch event");
    } finally {
      watcher.kill();
      await watcher.exited;
      await reading;
    }
    expect(out.split("\n")[0]).toMatch(/^NAME\s+LATESTVERSION/);
  });

  test("kubectl apply of objects violating the schema is rejected, naming the field", async () => {
    await writeFile(join(root, "unknown-field.yaml"), MANIFESTS["module.yaml"].replace("name: network", "name: typo").replace("repoOwner:", "repoOwnr:"));
    const unknown = await kubectl("apply", "-f", join(root, "unknown-field.yaml"));
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('unknown field "spec.moduleConfig.repoOwnr"');
    await writeFile(join(root, "wrong-type.yaml"), MANIFESTS["module.yaml"].replace("name: network", "name: typed").replace("    - version: v1.2.0\n", "    - version: 12\n"));
    const typed = await kubectl("apply", "-f", join(root, "wrong-type.yaml"));
    expect(typed.code).not.toBe(0);
    expect(typed.stderr).toContain("spec.versions[0].version");
    expect((await kubectl("get", "module", "typo", "-n", "team-a")).code).not.toBe(0);
    expect((await kubectl("get", "module", "typed", "-n", "team-a")).code).not.toBe(0);
  });

  test("kubectl apply --server-side creates and updates", async () => {
    const ssa = (labels: string) => `apiVersion: opendepot.defdev.io/v1alpha1
kind: Module
metadata:
  name: ssa
  namespace: team-a
  labels: { ${labels} }
spec:
  moduleConfig: { provider: aws }
  versions: [{ version: v0.1.0 }]
`;
    await writeFile(join(root, "ssa.yaml"), ssa("owner: platform, tier: gold"));
    expect(await ok("apply", "--server-side", "-f", join(root, "ssa.yaml"))).toContain("module.opendepot.defdev.io/ssa serverside-applied");
    await writeFile(join(root, "ssa.yaml"), ssa("owner: platform"));
    await ok("apply", "--server-side", "-f", join(root, "ssa.yaml"));
    expect(await ok("get", "module", "ssa", "-n", "team-a", "-o", "jsonpath={.metadata.labels}")).toBe('{"owner":"platform"}');
  });

  test("built-in kinds sent as protobuf: kubectl create secret, kubectl auth can-i / whoami", async () => {
    expect(await ok("create", "secret", "generic", "gh", "-n", "team-a", "--from-literal=token=abc")).toContain("secret/gh created");
    expect(await ok("get", "secret", "gh", "-n", "team-a", "-o", "jsonpath={.type} {.data.token}")).toBe("Opaque YWJj");
    expect((await ok("auth", "can-i", "delete", "modules", "-n", "team-a")).trim()).toBe("yes");
    expect(await ok("auth", "whoami")).toContain("opendepot:admin");
  });

  test("kubectl delete module x", async () => {
    expect(await ok("delete", "module", "network", "-n", "team-a")).toContain('module.opendepot.defdev.io "network" deleted');
    const gone = await kubectl("get", "module", "network", "-n", "team-a");
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toContain('modules.opendepot.defdev.io "network" not found');
  });

  test("a wrong token is refused", async () => {
    const kubeconfig = (await readFile(server.kubeconfig!, "utf8")).replace(/token: .*/, "token: not-the-admin-token-at-all");
    await writeFile(join(root, "bad-kubeconfig"), kubeconfig);
    const r = await kubectl("--kubeconfig", join(root, "bad-kubeconfig"), "get", "modules", "-A");
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Unauthorized|provide credentials/);
  });

  test("kubectl delete -f <manifests> (namespace first) deletes everything", async () => {
    const out = await ok("delete", "--ignore-not-found", "-f", join(root, "manifests"));
    expect(out).toContain('namespace "team-a" deleted');
    expect(out).toContain('depot.opendepot.defdev.io "main" deleted');
    expect(await ok("get", "ns", "-o", "name")).not.toContain("team-a");
  });
});
