// Shared pieces of the scanning acceptance tests: objects, predicates, and upstream content carrying stand-in
// trivy scenario markers (see fixtures/trivy/README.md).
import type { ModuleObject, ProviderObject, VersionObject } from "../../src/api/kinds.ts";
import { API_VERSION } from "../../src/api/meta.ts";
import { sampleModuleFiles, type SampleUpstreams } from "../../fixtures/upstream-fakes.ts";

const enc = new TextEncoder();

export const moduleObject = (name: string, repo: string, scanConfig?: Record<string, unknown>): ModuleObject => ({
  apiVersion: API_VERSION,
  kind: "Module",
  metadata: { name, namespace: "default" },
  spec: { moduleConfig: { name: repo, repoOwner: "acme", provider: "aws", fileFormat: "zip", ...(scanConfig ? { scanConfig } : {}) }, versions: [{ version: "v1.0.0" }] },
});

/** A Provider with 4 builds (linux/darwin × amd64/arm64), or only linux/amd64 with `single`. */
export const providerObject = (name: string, version: string, scanConfig?: Record<string, unknown>, single = false): ProviderObject => ({
  apiVersion: API_VERSION,
  kind: "Provider",
  metadata: { name, namespace: "default" },
  spec: {
    providerConfig: { operatingSystems: single ? ["linux"] : ["linux", "darwin"], architectures: single ? ["amd64"] : ["amd64", "arm64"], ...(scanConfig ? { scanConfig } : {}) },
    versions: [{ version }],
  },
});

export const condition = (o: VersionObject, type: string) => o.status?.conditions?.find((c) => c.type === type);
export const verdict = (reason: string) => (v: VersionObject) => v.status?.scanVerdict?.reason === reason;

/** A module repo whose every tag carries one extra file with a stand-in scenario marker. */
export function addScannedRepo(upstreams: SampleUpstreams, repo: string, scenario: string) {
  upstreams.github.addRepo("acme", repo, { releases: ["v1.0.0"], files: (tag) => ({ ...sampleModuleFiles(tag), "security.tf": `# trivy-scenario: ${scenario}\n` }) });
}

/** A provider whose executables carry a stand-in scenario marker. */
export function addScannedProvider(upstreams: SampleUpstreams, name: string, version: string, scenario: string, link?: string) {
  upstreams.opentofu.addProvider("hashicorp", name, {
    versions: [version],
    binary: (v, os, arch) => enc.encode(`#!/bin/sh\n# trivy-scenario: ${scenario}\necho ${name} ${v} ${os}_${arch}\n`),
    ...(link ? { link } : {}),
  });
}
