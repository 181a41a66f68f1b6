// The registry content the end-to-end tests install: a module with a submodule and a provider with two platforms,
// declared by manifests and published through the store and storage interfaces.
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EmbeddedStore } from "../../src/store/embedded.ts";
import { storageFactory } from "../../src/storage/factory.ts";
import { publishModule, publishProvider } from "../support/publish.ts";

export const MODULE_FILES = {
  "main.tf": 'variable "name" {\n  type = string\n}\n\noutput "id" {\n  value = "net-${var.name}"\n}\n',
  "versions.tf": 'terraform {\n  required_version = ">= 1.0"\n}\n',
  "README.md": "# network\n",
  "modules/sub/main.tf": 'variable "cidr" {\n  type    = string\n  default = "10.0.0.0/16"\n}\n\noutput "cidr" {\n  value = var.cidr\n}\n',
};

export const PROVIDER_BINARIES = {
  linux_amd64: "#!/bin/sh\necho widget linux amd64\n",
  darwin_arm64: "#!/bin/sh\necho widget darwin arm64\n",
};

export const MANIFESTS = {
  "module.yaml": `apiVersion: opendepot.defdev.io/v1alpha1
kind: Module
metadata:
  name: network
  namespace: default
spec:
  moduleConfig:
    provider: aws
    repoOwner: acme
    fileFormat: zip
  versions:
    - version: v1.2.0
`,
  "provider.yaml": `apiVersion: opendepot.defdev.io/v1alpha1
kind: Provider
metadata:
  name: widget
  namespace: default
spec:
  providerConfig:
    namespace: acme
    operatingSystems: [linux, darwin]
    architectures: [amd64, arm64]
  versions:
    - version: 2.1.0
`,
  // First document is invalid (a typo'd field); the second must load regardless.
  "mixed.yaml": `apiVersion: opendepot.defdev.io/v1alpha1
kind: Module
metadata:
  name: broken
spec:
  moduleConfig:
    repoOwnr: acme
  versions: []
---
apiVersion: opendepot.defdev.io/v1alpha1
kind: Provider
metadata:
  name: gadget
spec:
  providerConfig:
    operatingSystems: [linux]
    architectures: [amd64]
  versions: []
`,
};

export async function createFixtureRegistry() {
  const root = await mkdtemp(join(tmpdir(), "opendepot-e2e-"));
  const dataDir = join(root, "data");
  const manifests = join(root, "manifests");
  await mkdir(manifests, { recursive: true });
  await mkdir(dataDir, { recursive: true });
  for (const [name, text] of Object.entries(MANIFESTS)) await writeFile(join(manifests, name), text);

  const store = EmbeddedStore.open(join(dataDir, "store.db"));
  const storageFor = storageFactory({ defaultRoot: join(dataDir, "artifacts") });
  const module = await publishModule(store, storageFor, { namespace: "default", module: "network", version: "v1.2.0", files: MODULE_FILES });
  const builds = [];
  for (const [platform, binary] of Object.entries(PROVIDER_BINARIES)) {
    const [os, arch] = platform.split("_") as [string, string];
    builds.push(await publishProvider(store, storageFor, { namespace: "default", provider: "widget", version: "2.1.0", os, arch, binary }));
  }
  await store.close();
  return { root, dataDir, manifests, module, builds, storageFor };
}
