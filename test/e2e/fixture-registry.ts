// The registry content the end-to-end tests install: a module with a submodule and a provider with two platforms,
// declared by manifests and published through the store and storage interfaces.
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EmbeddedStore } from "../../src/store/embedded.ts";
import { storageFactory } from "../../src/storage/factory.ts";
import { publishSampleRegistry } from "../support/sample-registry.ts";

export { MODULE_FILES, PROVIDER_BINARIES } from "../support/sample-registry.ts";

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
  const { module, builds } = await publishSampleRegistry(store, storageFor, { namespace: "default" });
  await store.close();
  return { root, dataDir, manifests, module, builds, storageFor };
}
