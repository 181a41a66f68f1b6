// Acceptance: the real Terraform CLI installs a *public* provider address (`hashicorp/widget`, i.e.
// registry.terraform.io/hashicorp/widget) from the registry's provider network mirror, with no change to the
// `source`: the mirror serves the Providers of its Kubernetes namespace (default opendepot-system) by their upstream
// address. Network mirrors are HTTPS-only, so standalone serves TLS with a throwaway CA.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, readdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { VersionObject } from "../../src/api/kinds.ts";
import { EmbeddedStore } from "../../src/store/embedded.ts";
import { storageFactory } from "../../src/storage/factory.ts";
import { waitFor } from "../support/ports.ts";
import { publishProvider } from "../support/publish.ts";
import { TERRAFORM } from "../support/terraform.ts";
import { makeCertificates, startTlsStandalone, TerraformUser, type TlsStandalone } from "./oidc-login-support.ts";

const MIRROR_NS = "opendepot-system";
const VERSION = "2.0.0";
const PROVIDER_MANIFEST = `apiVersion: opendepot.defdev.io/v1alpha1
kind: Provider
metadata:
  name: widget
  namespace: ${MIRROR_NS}
spec:
  providerConfig:
    namespace: hashicorp
    operatingSystems: [linux, darwin]
    architectures: [amd64, arm64]
  versions:
    - version: ${VERSION}
`;

let server: TlsStandalone;
let user: TerraformUser;
let ca: string;
let linux: VersionObject;

beforeAll(async () => {
  if (!existsSync(TERRAFORM)) throw new Error(`Terraform CLI not found at ${TERRAFORM}: the acceptance tests need it`);
  const root = await mkdtemp(join(tmpdir(), "opendepot-mirror-e2e-"));
  const dataDir = join(root, "data");
  const manifests = join(root, "manifests");
  await mkdir(dataDir, { recursive: true });
  await mkdir(manifests, { recursive: true });
  await writeFile(join(manifests, "provider.yaml"), PROVIDER_MANIFEST);
  const store = EmbeddedStore.open(join(dataDir, "store.db"), { namespaces: ["opendepot-system"] });
  const storageFor = storageFactory({ defaultRoot: join(dataDir, "artifacts") });
  linux = await publishProvider(store, storageFor, { namespace: MIRROR_NS, provider: "widget", version: VERSION, os: "linux", arch: "amd64", binary: "#!/bin/sh\necho widget\n" });
  await publishProvider(store, storageFor, { namespace: MIRROR_NS, provider: "widget", version: VERSION, os: "darwin", arch: "arm64", binary: "#!/bin/sh\necho widget darwin\n" });
  // The same upstream address in another namespace must not be what the mirror serves.
  await publishProvider(store, storageFor, { namespace: "default", provider: "widget", version: "9.0.0", os: "linux", arch: "amd64", binary: "other" });
  await store.close();
  const certs = await makeCertificates(join(root, "tls"));
  ca = await readFile(certs.ca, "utf8");
  server = await startTlsStandalone({ dataDir, manifests, certs, extra: ["--admin-listen=off"] });
  const cliConfig = join(root, "mirror.tfrc");
  await writeFile(cliConfig, `provider_installation {\n  network_mirror {\n    url = "${server.url}/opendepot/mirror/v1/"\n  }\n}\n`);
  user = await TerraformUser.create(certs.ca, { TF_CLI_CONFIG_FILE: cliConfig, TF_IN_AUTOMATION: "1" });
}, 60_000);

afterAll(async () => {
  await server?.stop();
});

const requiring = (source: string, version: string) => ({
  "main.tf": `terraform {\n  required_providers {\n    widget = {\n      source  = "${source}"\n      version = "${version}"\n    }\n  }\n}\n`,
});

describe("provider network mirror with terraform init", () => {
  test("the mirror documents answer over HTTPS", async () => {
    const index = await fetch(`${server.url}/opendepot/mirror/v1/registry.terraform.io/hashicorp/widget/index.json`, { tls: { ca } });
    expect(await index.json()).toEqual({ versions: { [VERSION]: {} } });
    const doc = (await (await fetch(`${server.url}/opendepot/mirror/v1/registry.terraform.io/hashicorp/widget/${VERSION}.json`, { tls: { ca } })).json()) as { archives: Record<string, { url: string; hashes: string[] }> };
    expect(Object.keys(doc.archives)).toEqual(["darwin_arm64", "linux_amd64"]);
    expect(doc.archives.linux_amd64?.hashes).toEqual([linux.status!.h1!]);
  });

  test("installs hashicorp/widget from the mirror and locks its h1 hash", async () => {
    const r = await user.init(requiring("hashicorp/widget", VERSION));
    expect({ exitCode: r.exitCode, output: r.output }).toEqual({ exitCode: 0, output: expect.stringContaining(`Installed hashicorp/widget v${VERSION} (verified checksum)`) });
    const lock = await readFile(join(r.dir, ".terraform.lock.hcl"), "utf8");
    expect(lock).toContain('provider "registry.terraform.io/hashicorp/widget"');
    expect(lock).toContain(`version     = "${VERSION}"`);
    expect(lock).toContain(`"${linux.status!.h1}"`);
    expect(lock).not.toContain("zh:");
    const pluginDir = join(r.dir, ".terraform", "providers", "registry.terraform.io", "hashicorp", "widget", VERSION, "linux_amd64");
    expect(await readdir(pluginDir)).toEqual([`terraform-provider-widget_v${VERSION}`]);
    // The archive was fetched through the mirror's signed URL. The server writes its access log in batches and the
    // lines cross a pipe: wait for the download's line rather than reading the log the moment terraform exits.
    const paths = () => server.logs().map((l) => String(l.path ?? ""));
    const downloaded = () => paths().some((p) => p.startsWith(`/opendepot/providers/v1/${MIRROR_NS}/widget/${VERSION}/download/linux/amd64/`));
    await waitFor(downloaded, 10_000, "the download's access-log line");
    expect(paths()).toContain(`/opendepot/mirror/v1/registry.terraform.io/hashicorp/widget/${VERSION}.json`);
  }, 60_000);

  test("an unknown provider or version fails cleanly", async () => {
    const unknown = await user.init(requiring("hashicorp/nope", "1.0.0"));
    expect(unknown.exitCode).not.toBe(0);
    expect(unknown.output.replace(/\s+/g, " ")).toContain("provider registry.terraform.io/hashicorp/nope was not found");
    expect(unknown.output).not.toContain("panic");
    const missing = await user.init(requiring("hashicorp/widget", "9.0.0"));
    expect(missing.exitCode).not.toBe(0);
    expect(missing.output).toContain("hashicorp/widget");
  }, 60_000);
});
