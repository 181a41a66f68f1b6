// Legacy (unaggregated) discovery: /api, /api/v1, /apis, /apis/<group>, /apis/<group>/<version> and /version.
// kubectl asks for aggregated discovery first and falls back to these when the answer is plain application/json.
import { createHash } from "node:crypto";
import { runtime } from "../runtime/index.ts";
import { groupVersionOf, groupVersions, resourcesIn, type ResourceInfo } from "./resources.ts";

/** The Kubernetes release whose API this front follows (kubectl's version skew policy reads it). */
export const KUBERNETES_VERSION = { major: "1", minor: "32", gitVersion: "v1.32.0" };

export function versionInfo(appVersion: string) {
  return {
    major: KUBERNETES_VERSION.major,
    minor: KUBERNETES_VERSION.minor,
    gitVersion: `${KUBERNETES_VERSION.gitVersion}+opendepot-${appVersion}`,
    gitCommit: "",
    gitTreeState: "clean",
    buildDate: "1970-01-01T00:00:00Z",
    goVersion: `${runtime.name}${runtime.version}`,
    compiler: "bun",
    platform: `${process.platform}/${process.arch === "x64" ? "amd64" : process.arch}`,
  };
}

export function apiVersions(serverAddress: string) {
  return { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress }] };
}

function apiGroup(group: string) {
  const versions = groupVersions()
    .filter((gv) => gv.group === group)
    .map((gv) => ({ groupVersion: groupVersionOf(gv), version: gv.version }));
  if (!versions.length) return undefined;
  return { name: group, versions, preferredVersion: versions[0] };
}

export function apiGroupList() {
  const groups = [...new Set(groupVersions().map((gv) => gv.group))].filter((g) => g !== "");
  return { kind: "APIGroupList", apiVersion: "v1", groups: groups.map(apiGroup) };
}

export function apiGroupDoc(group: string) {
  const g = apiGroup(group);
  return g ? { kind: "APIGroup", apiVersion: "v1", ...g } : undefined;
}

/** A stable hash kubectl uses to notice that a resource's storage changed; ours never does. */
function storageVersionHash(r: ResourceInfo): string {
  const digest = createHash("sha256").update(`${r.group}/${r.version}/${r.kind}`).digest("base64");
  return digest.slice(0, 11);
}

export function apiResourceList(group: string, version: string) {
  const resources = resourcesIn(group, version);
  if (!resources.length) return undefined;
  const out: Record<string, unknown>[] = [];
  for (const r of resources) {
    out.push({
      name: r.resource,
      singularName: r.singular,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: r.verbs,
      ...(r.shortNames ? { shortNames: r.shortNames } : {}),
      ...(r.categories ? { categories: r.categories } : {}),
      ...(r.descriptor ? { storageVersionHash: storageVersionHash(r) } : {}),
    });
    for (const sub of r.subresources) {
      out.push({ name: `${r.resource}/${sub}`, singularName: "", namespaced: r.namespaced, kind: r.kind, verbs: ["get", "patch", "update"] });
    }
  }
  return { kind: "APIResourceList", apiVersion: "v1", groupVersion: groupVersionOf({ group, version }), resources: out };
}
