// What the Kubernetes-compatible API serves: every store kind (ALL_KINDS) plus the virtual resources that have no
// storage (CRDs, token and access reviews). Discovery, OpenAPI, routing and authorization all read this table.
import { ALL_KINDS, OUR_KINDS, type KindDescriptor } from "../api/kinds.ts";

export type VirtualResource = "crds" | "tokenreviews" | "selfsubjectreviews" | "subjectaccessreviews" | "selfsubjectaccessreviews";

export interface ResourceInfo {
  group: string;
  version: string;
  /** The plural resource name used in paths, e.g. `modules`. */
  resource: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  verbs: string[];
  shortNames?: string[];
  categories?: string[];
  /** Subresources served at `<name>/<sub>`: only `status`, for kinds with a status subresource. */
  subresources: string[];
  /** Store-backed kinds carry their descriptor. */
  descriptor?: KindDescriptor;
  virtual?: VirtualResource;
}

const FULL_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];
const SHORT_NAMES: Record<string, string[]> = { namespaces: ["ns"], configmaps: ["cm"] };
const OURS = new Set<KindDescriptor>(OUR_KINDS);

const stored = (d: KindDescriptor): ResourceInfo => ({
  group: d.group,
  version: d.version,
  resource: d.plural,
  singular: d.kind.toLowerCase(),
  kind: d.kind,
  namespaced: d.namespaced,
  verbs: FULL_VERBS,
  ...(SHORT_NAMES[d.plural] ? { shortNames: SHORT_NAMES[d.plural] } : {}),
  ...(OURS.has(d) ? { categories: ["opendepot"] } : {}),
  subresources: d.status ? ["status"] : [],
  descriptor: d,
});

const virtual = (group: string, resource: string, kind: string, verbs: string[], v: VirtualResource, shortNames?: string[]): ResourceInfo => ({
  group,
  version: "v1",
  resource,
  singular: kind.toLowerCase(),
  kind,
  namespaced: false,
  verbs,
  ...(shortNames ? { shortNames } : {}),
  subresources: [],
  virtual: v,
});

export const RESOURCES: readonly ResourceInfo[] = [
  ...ALL_KINDS.map(stored),
  virtual("apiextensions.k8s.io", "customresourcedefinitions", "CustomResourceDefinition", ["create", "get", "list", "patch", "update", "watch"], "crds", ["crd", "crds"]),
  virtual("authentication.k8s.io", "tokenreviews", "TokenReview", ["create"], "tokenreviews"),
  virtual("authentication.k8s.io", "selfsubjectreviews", "SelfSubjectReview", ["create"], "selfsubjectreviews"),
  virtual("authorization.k8s.io", "subjectaccessreviews", "SubjectAccessReview", ["create"], "subjectaccessreviews"),
  virtual("authorization.k8s.io", "selfsubjectaccessreviews", "SelfSubjectAccessReview", ["create"], "selfsubjectaccessreviews"),
];

export const groupVersionOf = (r: Pick<ResourceInfo, "group" | "version">) => (r.group ? `${r.group}/${r.version}` : r.version);

/** Every served group/version, core first, in a stable order. */
export function groupVersions(): { group: string; version: string }[] {
  const seen = new Map<string, { group: string; version: string }>();
  for (const r of RESOURCES) seen.set(groupVersionOf(r), { group: r.group, version: r.version });
  return [...seen.values()].sort((a, b) => (a.group === "" ? -1 : b.group === "" ? 1 : a.group.localeCompare(b.group)));
}

export function resourcesIn(group: string, version: string): ResourceInfo[] {
  return RESOURCES.filter((r) => r.group === group && r.version === version);
}

export function findResource(group: string, version: string, resource: string): ResourceInfo | undefined {
  return RESOURCES.find((r) => r.group === group && r.version === version && r.resource === resource);
}
