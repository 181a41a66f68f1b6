// The sample content the Terraform acceptance tests install — a module with a submodule and a provider with two
// platforms — published into any storage backend, plus the Terraform configurations that install it and the checks
// a user would make on the result.
import { expect } from "bun:test";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { StorageConfig } from "../../src/api/types.ts";
import type { ResourceStore } from "../../src/store/types.ts";
import type { StorageFor } from "../../src/storage/locate.ts";
import { publishModule, publishProvider } from "./publish.ts";
import { REGISTRY_HOST, TerraformWorkspace } from "./terraform.ts";

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

export const SAMPLE = { module: "network", moduleVersion: "v1.2.0", provider: "widget", providerVersion: "2.1.0" } as const;

/** Uploads module `network` v1.2.0 and provider `widget` 2.1.0 (both platforms) and marks their Versions synced. */
export async function publishSampleRegistry(store: ResourceStore, storageFor: StorageFor, options: { namespace?: string; storageConfig?: StorageConfig } = {}) {
  const namespace = options.namespace ?? "default";
  const { storageConfig } = options;
  const module = await publishModule(store, storageFor, { namespace, module: SAMPLE.module, version: SAMPLE.moduleVersion, files: MODULE_FILES, storageConfig });
  const builds = [];
  for (const [platform, binary] of Object.entries(PROVIDER_BINARIES)) {
    const [os, arch] = platform.split("_") as [string, string];
    builds.push(await publishProvider(store, storageFor, { namespace, provider: SAMPLE.provider, version: SAMPLE.providerVersion, os, arch, binary, storageConfig }));
  }
  return { module, builds };
}

/** A root module using the sample module and its `//modules/sub` submodule. */
export const sampleModuleConfig = (namespace = "default", system = "aws") => `
module "net" {
  source  = "${REGISTRY_HOST}/${namespace}/network/${system}"
  version = "1.2.0"
  name    = "core"
}

module "sub" {
  source  = "${REGISTRY_HOST}/${namespace}/network/${system}//modules/sub"
  version = "~> 1.2"
}

output "id" {
  value = module.net.id
}

output "cidr" {
  value = module.sub.cidr
}
`;

export const sampleProviderConfig = (namespace = "default") => `
terraform {
  required_providers {
    widget = {
      source  = "${REGISTRY_HOST}/${namespace}/widget"
      version = "2.1.0"
    }
  }
}
`;

/** `terraform init` + `validate` of the sample module; its files sit at the module root and the submodule resolves. */
export async function installSampleModules(baseUrl: string, options: { namespace?: string; system?: string } = {}) {
  const ws = await TerraformWorkspace.create(baseUrl, { "main.tf": sampleModuleConfig(options.namespace, options.system) });
  const init = await ws.run("init");
  expect(init.stderr + init.stdout).not.toContain("Error");
  expect(init.exitCode).toBe(0);
  expect(await readFile(join(ws.dir, ".terraform/modules/net/main.tf"), "utf8")).toBe(MODULE_FILES["main.tf"]);
  expect(existsSync(join(ws.dir, ".terraform/modules/sub/modules/sub/main.tf"))).toBe(true);
  const validate = await ws.run("validate");
  expect(validate.stdout).toContain("Success");
  expect(validate.exitCode).toBe(0);
  return ws;
}

/** `terraform init` of the sample provider for linux_amd64, verified through the registry's signature. */
export async function installSampleProvider(baseUrl: string, options: { namespace?: string } = {}) {
  const namespace = options.namespace ?? "default";
  const ws = await TerraformWorkspace.create(baseUrl, { "main.tf": sampleProviderConfig(namespace) });
  const init = await ws.run("init");
  expect(init.stderr).toBe("");
  expect(init.exitCode).toBe(0);
  const source = `${REGISTRY_HOST}/${namespace}/widget`;
  expect(init.stdout).toMatch(new RegExp(`Installed ${source.replace(/\./g, "\\.")} v2\\.1\\.0 \\(self-signed, key ID [0-9A-F]{16}\\)`));
  const lock = await readFile(join(ws.dir, ".terraform.lock.hcl"), "utf8");
  expect(lock).toContain(`provider "${source}"`);
  expect(lock).toMatch(/"h1:[A-Za-z0-9+/=]{44}"/);
  expect(lock).toMatch(/"zh:[0-9a-f]{64}"/);
  const binary = join(ws.dir, `.terraform/providers/${source}/2.1.0/linux_amd64/terraform-provider-widget_v2.1.0`);
  expect(await readFile(binary, "utf8")).toBe(PROVIDER_BINARIES.linux_amd64);
  return ws;
}
