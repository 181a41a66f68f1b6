// A real standalone registry for the Explorer's browser tests, populated the way users populate one: manifests
// (a Depot, Modules, GroupBindings) reconciled by the controllers against the fake GitHub and OpenTofu registry.
// What the controllers of this branch do not produce yet is written through the Kubernetes-compatible admin
// API with the real kubectl, as their producers will: module documentation ConfigMaps (`<version>-docs`) and
// scan findings in Version status.
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startSampleUpstreams, type SampleUpstreams } from "../../fixtures/upstream-fakes.ts";
import type { FileTree } from "../../fixtures/github-fake.ts";
import { waitFor, type JsonResponse } from "../support/ports.ts";
import { startStandalone, type StandaloneProcess } from "../support/standalone-process.ts";

export const HOSTILE_README = `# hostile module

Readable text before the payloads.

<script>alert("script tag")</script>

<img src="x" onerror="alert('img onerror')">

[click me](javascript:alert('javascript link')) and [entity trick](jav&#x61;script&colon;alert('entity'))
and [data link](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)

<svg xmlns="http://www.w3.org/2000/svg"><script>alert("svg script")</script></svg>

<a href="javascript:alert('raw anchor')">raw anchor</a>

&lt;script&gt;alert("entities")&lt;/script&gt; is shown as text.

Readable text after the payloads.
`;

export const NETWORK_README = (tag: string) => `# network (${tag})

A module for networks. See [the guide](docs/guide.md) and [upstream](https://example.com/network).

\`\`\`hcl
module "network" {
  source  = "acme/network/aws"
  version = "~> 2.0"
  cidr    = "10.0.0.0/16" # the VPC range
}
\`\`\`
`;

const networkFiles = (tag: string): FileTree => ({
  "README.md": NETWORK_README(tag),
  "main.tf": 'variable "cidr" {\n  type = string\n}\n\noutput "id" {\n  value = var.cidr\n}\n',
});

/** Docs as the docs extractor writes them: 1.0.0 has `cidr`; 2.0.0 adds `enable_ipv6`, changes `cidr`'s default, drops output `id`. */
export const NETWORK_DOCS: Record<string, unknown> = {
  "1.0.0": { inputs: [{ name: "cidr", type: "string", description: "The VPC range", required: true }, { name: "tags", type: "map(string)", default: {}, required: false }], outputs: [{ name: "id", description: "The network id" }], requiredVersion: ">= 1.0", requiredProviders: [{ name: "aws", source: "hashicorp/aws", version: ">= 5.0" }], submodules: [], examples: [], resources: [{ type: "aws_vpc", name: "this" }] },
  "2.0.0": { inputs: [{ name: "cidr", type: "string", description: "The VPC range", default: "10.0.0.0/16", required: false }, { name: "tags", type: "map(string)", default: {}, required: false }, { name: "enable_ipv6", type: "bool", description: "Assign an IPv6 block", default: false, required: false }, { name: "token", type: "string", sensitive: true, required: true }], outputs: [{ name: "arn", description: "The network ARN" }], requiredVersion: ">= 1.5", requiredProviders: [{ name: "aws", source: "hashicorp/aws", version: ">= 5.0" }], submodules: [{ name: "subnets", path: "modules/subnets", inputs: [{ name: "count", type: "number", default: 2 }], outputs: [] }], examples: [{ name: "basic", path: "examples/basic" }], resources: [{ type: "aws_vpc", name: "this" }] },
};

const MANIFESTS = (options: { oidc: boolean }) => ({
  "namespaces.yaml": `apiVersion: v1
kind: Namespace
metadata: { name: default, labels: { opendepot.defdev.io/public: "true" } }
---
apiVersion: v1
kind: Namespace
metadata: { name: team }
---
apiVersion: v1
kind: Namespace
metadata: { name: opendepot-system }
`,
  "depot.yaml": `apiVersion: opendepot.defdev.io/v1alpha1
kind: Depot
metadata: { name: mirror, namespace: default, labels: { opendepot.defdev.io/public: "true" } }
spec:
  global: { storageConfig: { fileSystem: {} }, moduleConfig: { fileFormat: zip } }
  moduleConfigs:
    - { name: terraform-aws-vpc, provider: aws, repoOwner: acme, versionConstraints: ">= 1.0.0" }
  providerConfigs:
    - { name: random, operatingSystems: [linux, darwin], architectures: [amd64], versionConstraints: "~> 3.6" }
  pollingIntervalMinutes: 60
`,
  "modules.yaml": `apiVersion: opendepot.defdev.io/v1alpha1
kind: Module
metadata: { name: network, namespace: default, labels: { opendepot.defdev.io/public: "true" } }
spec:
  moduleConfig: { provider: aws, repoOwner: acme, fileFormat: zip }
  versions: [{ version: v1.0.0 }, { version: v2.0.0 }]
---
apiVersion: opendepot.defdev.io/v1alpha1
kind: Module
metadata: { name: hostile, namespace: default, labels: { opendepot.defdev.io/public: "true" } }
spec:
  moduleConfig: { provider: aws, repoOwner: acme, fileFormat: zip }
  versions: [{ version: v0.1.0 }]
---
apiVersion: opendepot.defdev.io/v1alpha1
kind: Module
metadata: { name: secret-vault, namespace: team }
spec:
  moduleConfig: { provider: aws, repoOwner: acme, fileFormat: zip }
  versions: [{ version: v1.0.0 }]
---
apiVersion: opendepot.defdev.io/v1alpha1
kind: Module
metadata: { name: unbound-thing, namespace: team }
spec:
  moduleConfig: { provider: aws, repoOwner: acme, fileFormat: zip }
  versions: [{ version: v1.0.0 }]
`,
  ...(options.oidc
    ? {
        "bindings.yaml": `apiVersion: opendepot.defdev.io/v1alpha1
kind: GroupBinding
metadata: { name: 10-platform, namespace: opendepot-system }
spec:
  expression: '"platform-team" in groups'
  moduleResources: ["secret-*"]
  providerResources: []
`,
      }
    : {}),
});

export interface UiRegistry {
  url: string;
  registry: StandaloneProcess;
  upstreams: SampleUpstreams;
  dataDir: string;
  kubectl(args: string[], stdin?: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startUiRegistry(options: { oidc?: { issuer: string; clientId: string; token: () => Promise<string> } } = {}): Promise<UiRegistry> {
  const upstreams = await startSampleUpstreams();
  upstreams.github.addRepo("acme", "network", { releases: ["v1.0.0", "v2.0.0"], files: networkFiles });
  upstreams.github.addRepo("acme", "hostile", { releases: ["v0.1.0"], files: { "README.md": HOSTILE_README, "main.tf": 'output "x" {\n  value = 1\n}\n' } });
  upstreams.github.addRepo("acme", "secret-vault", { releases: ["v1.0.0"], files: { "README.md": "# secret vault\n\nBOUND-ONLY-CONTENT\n", "main.tf": "" } });
  upstreams.github.addRepo("acme", "unbound-thing", { releases: ["v1.0.0"], files: { "README.md": "# unbound\n\nNEVER-RENDERED-CONTENT\n", "main.tf": "" } });
  const root = await mkdtemp(join(tmpdir(), "opendepot-ui-"));
  const manifests = join(root, "manifests");
  await mkdir(manifests);
  for (const [name, text] of Object.entries(MANIFESTS({ oidc: !!options.oidc }))) await writeFile(join(manifests, name), text);
  const dataDir = join(root, "data");
  const extra = ["--github-api-url", upstreams.github.url, "--opentofu-registry-url", upstreams.opentofu.url];
  if (options.oidc) extra.push("--oidc-issuer-url", options.oidc.issuer, "--oidc-client-id", options.oidc.clientId);
  const registry = await startStandalone({ dataDir, manifests, admin: true, extra });
  const url = registry.url;

  const kubectl = async (args: string[], stdin?: string) => {
    const proc = Bun.spawn(["kubectl", "--kubeconfig", registry.kubeconfig!, ...args], { stdin: stdin === undefined ? "ignore" : new Blob([stdin]), stdout: "pipe", stderr: "pipe" });
    const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    if (code !== 0) throw new Error(`kubectl ${args.join(" ")} failed: ${err}`);
    return out;
  };
  // Browse with the registry's own anonymous view when there is one; in OIDC mode, the public view.
  const detail = async (ns: string, kind: string, name: string) => {
    const r = (await fetch(`${url}/opendepot/ui/v1/resources/${ns}/${kind}/${name}`, options.oidc ? { headers: { authorization: `Bearer ${await options.oidc.token()}` } } : {})) as JsonResponse;
    return r.status === 200 ? r.json() : undefined;
  };
  const synced = (ns: string, kind: string, name: string, n: number) =>
    waitFor(async () => {
      const d = await detail(ns, kind, name);
      return d && d.versions.length >= n && d.versions.every((v: { synced: boolean }) => v.synced);
    }, 90_000, `${kind} ${name} to sync`, 250);
  if (!options.oidc) {
    for (const [kind, name, n] of [["module", "network", 2], ["module", "hostile", 1], ["module", "terraform-aws-vpc", 2], ["provider", "random", 2]] as const) await synced("default", kind, name, n);
  } else {
    await synced("default", "module", "network", 2);
    await synced("team", "module", "secret-vault", 1);
    // Not visible to the test's user (that is the point), so asked of the store through kubectl.
    await waitFor(async () => (await kubectl(["get", "modules.opendepot.defdev.io", "unbound-thing", "-n", "team", "-o", "jsonpath={.status.synced}"])) === "true", 90_000, "unbound-thing to sync", 250);
  }
  // Documentation and scan findings, as their producers write them.
  const docs = Object.entries(NETWORK_DOCS).map(([v, body]) => ({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: `network-${v.replaceAll(".", "-")}-docs`, namespace: "default", labels: { "opendepot.defdev.io/version": `network-${v.replaceAll(".", "-")}` } },
    data: { "docs.json": JSON.stringify(body) },
  }));
  await kubectl(["apply", "--validate=false", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items: docs }));
  if (!options.oidc) {
    const now = new Date().toISOString();
    const findings = [
      { vulnerabilityID: "CVE-2024-0001", pkgName: "openssl", installedVersion: "3.0.0", fixedVersion: "3.0.1", severity: "CRITICAL", title: "Buffer overflow in openssl" },
      { vulnerabilityID: "AVD-AWS-0086", pkgName: "main.tf", installedVersion: "", severity: "HIGH", title: "S3 bucket allows public ACLs" },
    ];
    await kubectl(["patch", "versions.opendepot.defdev.io", "network-2-0-0", "-n", "default", "--subresource=status", "--type=merge", "-p", JSON.stringify({ status: { sourceScan: { scannedAt: now, findings } } })]);
    const randomVersions = (await detail("default", "provider", "random")).versions as { name: string; os: string; version: string }[];
    const linux = randomVersions.find((v) => v.os === "linux")!;
    await kubectl(["patch", "versions.opendepot.defdev.io", linux.name, "-n", "default", "--subresource=status", "--type=merge", "-p", JSON.stringify({ status: { binaryScan: { scannedAt: now, findings: [{ vulnerabilityID: "CVE-2023-9999", pkgName: "golang.org/x/net", installedVersion: "0.1.0", fixedVersion: "0.17.0", severity: "MEDIUM", title: "HTTP/2 rapid reset" }] } } })]);
    await waitFor(async () => (await detail("default", "module", "network"))?.scanCounts?.critical === 1, 15_000, "scan findings to reach the browse API", 100);
  }
  return {
    url,
    registry,
    upstreams,
    dataDir,
    kubectl,
    async stop() {
      await registry.stop();
      await upstreams.stop();
    },
  };
}
