// Authorization with a small RBAC model the admin configures through the API itself: ConfigMaps in the system
// namespace labelled `opendepot.defdev.io/rbac: "true"` hold under `policy.yaml` a document
//
//   subjects: [{ kind: User|Group|ServiceAccount, name, namespace (ServiceAccount only) }]
//   rules:
//     - { verbs: [get, list, watch], apiGroups: [opendepot.defdev.io], resources: [modules, "*/status"],
//         namespaces: [team-a],          # optional: only these namespaces (omitted: every namespace and cluster scope)
//         resourceNames: [network] }     # optional, as in RBAC
//     - { verbs: [get], nonResourceURLs: ["/healthz", "/metrics/*"] }
//
// Rules match like Kubernetes RBAC PolicyRules ("*" wildcards, `*/status`, resourceNames never match list/create);
// `namespaces` replaces the RoleBinding's namespace. Built in: `system:masters` may do everything, and every
// authenticated identity may read discovery/OpenAPI/version and ask what it itself may do.
import { ConfigMap } from "../api/kinds.ts";
import type { KubeObject } from "../api/meta.ts";
import { isPlainObject } from "../kits/json.ts";
import { runtime } from "../runtime/index.ts";
import type { ResourceStore, StoreLogger } from "../store/types.ts";
import { AUTHENTICATED_GROUP, MASTERS_GROUP, SYSTEM_NAMESPACE, type UserInfo } from "./identity.ts";

export const RBAC_LABEL = "opendepot.defdev.io/rbac";
export const POLICY_KEY = "policy.yaml";

export interface ResourceAttributes {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}
export interface NonResourceAttributes {
  verb: string;
  path: string;
}
export type Attributes = { resource: ResourceAttributes } | { nonResource: NonResourceAttributes };

export interface Decision {
  allowed: boolean;
  reason: string;
  evaluationError?: string;
}

interface Rule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  namespaces?: string[];
  nonResourceURLs?: string[];
}
interface Subject {
  kind: "User" | "Group" | "ServiceAccount";
  name: string;
  namespace?: string;
}
export interface Policy {
  source: string;
  subjects: Subject[];
  rules: Rule[];
}

const DISCOVERY_PATHS = ["/api", "/api/*", "/apis", "/apis/*", "/version", "/version/", "/openapi/*", "/healthz", "/livez", "/readyz"];
const BUILT_IN: Policy[] = [
  {
    source: "built-in system:basic-user",
    subjects: [{ kind: "Group", name: AUTHENTICATED_GROUP }],
    rules: [
      { verbs: ["get"], nonResourceURLs: DISCOVERY_PATHS },
      { verbs: ["create"], apiGroups: ["authorization.k8s.io"], resources: ["selfsubjectaccessreviews"] },
      { verbs: ["create"], apiGroups: ["authentication.k8s.io"], resources: ["selfsubjectreviews"] },
    ],
  },
];

const RULE_KEYS = new Set(["verbs", "apiGroups", "resources", "resourceNames", "namespaces", "nonResourceURLs"]);

function stringList(v: unknown, what: string): string[] {
  if (!Array.isArray(v) || v.some((s) => typeof s !== "string")) throw new Error(`${what} must be a list of strings`);
  return v as string[];
}

/** Parse and check one policy document; errors name the offending entry. */
export function parsePolicy(text: string, source: string): Policy {
  let doc: unknown;
  try {
    doc = runtime.parseYaml(text);
  } catch (e) {
    throw new Error(`${source}: ${POLICY_KEY} is not valid YAML: ${(e as Error).message}`);
  }
  if (!isPlainObject(doc)) throw new Error(`${source}: ${POLICY_KEY} must be a mapping with subjects and rules`);
  const fail = (why: string): never => {
    throw new Error(`${source}: ${why}`);
  };
  if (!Array.isArray(doc.subjects) || !doc.subjects.length) fail("subjects must be a non-empty list");
  const subjects = (doc.subjects as unknown[]).map((s, i): Subject => {
    if (!isPlainObject(s) || !["User", "Group", "ServiceAccount"].includes(String(s.kind)) || typeof s.name !== "string" || !s.name) {
      return fail(`subjects[${i}] needs kind User, Group or ServiceAccount and a name`);
    }
    if (s.kind === "ServiceAccount" && (typeof s.namespace !== "string" || !s.namespace)) fail(`subjects[${i}]: a ServiceAccount needs a namespace`);
    return { kind: s.kind as Subject["kind"], name: s.name, ...(typeof s.namespace === "string" ? { namespace: s.namespace } : {}) };
  });
  if (!Array.isArray(doc.rules)) fail("rules must be a list");
  const rules = (doc.rules as unknown[]).map((r, i): Rule => {
    if (!isPlainObject(r)) return fail(`rules[${i}] must be a mapping`);
    for (const k of Object.keys(r)) if (!RULE_KEYS.has(k)) fail(`rules[${i}]: unknown field ${JSON.stringify(k)}`);
    const list = (k: string) => (r[k] === undefined ? undefined : stringList(r[k], `rules[${i}].${k}`));
    const rule: Rule = { verbs: stringList(r.verbs, `rules[${i}].verbs`) };
    for (const k of ["apiGroups", "resources", "resourceNames", "namespaces", "nonResourceURLs"] as const) {
      const v = list(k);
      if (v) rule[k] = v;
    }
    if (!rule.verbs.length) fail(`rules[${i}].verbs must not be empty`);
    if (rule.nonResourceURLs ? rule.apiGroups || rule.resources : !rule.apiGroups || !rule.resources) {
      fail(`rules[${i}] needs either nonResourceURLs, or apiGroups and resources`);
    }
    return rule;
  });
  return { source, subjects, rules };
}

const has = (list: string[] | undefined, v: string) => !!list && (list.includes("*") || list.includes(v));

function subjectMatches(s: Subject, user: UserInfo): boolean {
  switch (s.kind) {
    case "User":
      return s.name === user.username;
    case "Group":
      return user.groups.includes(s.name);
    case "ServiceAccount":
      return user.username === `system:serviceaccount:${s.namespace}:${s.name}`;
  }
}

/** rbac/v1 ResourceMatches: "*", an exact `resource[/subresource]`, or `*\/subresource`. */
function resourceMatches(rule: Rule, a: ResourceAttributes): boolean {
  const combined = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  return (rule.resources ?? []).some((r) => r === "*" || r === combined || (!!a.subresource && r === `*/${a.subresource}`));
}

function ruleAllows(rule: Rule, attrs: Attributes): boolean {
  if (!has(rule.verbs, "nonResource" in attrs ? attrs.nonResource.verb : attrs.resource.verb)) return false;
  if ("nonResource" in attrs) {
    const path = attrs.nonResource.path;
    return (rule.nonResourceURLs ?? []).some((u) => u === "*" || u === path || (u.endsWith("*") && path.startsWith(u.slice(0, -1))));
  }
  const a = attrs.resource;
  if (rule.nonResourceURLs || !has(rule.apiGroups, a.group) || !resourceMatches(rule, a)) return false;
  if (rule.namespaces && !(a.namespace && has(rule.namespaces, a.namespace))) return false;
  if (rule.resourceNames?.length && !(a.name && rule.resourceNames.includes(a.name))) return false;
  return true;
}

export class PolicyAuthorizer {
  private memo: { key: string; policies: Policy[]; errors: string[] } | undefined;

  constructor(
    private readonly store: ResourceStore,
    private readonly log?: StoreLogger,
  ) {}

  async authorize(user: UserInfo, attrs: Attributes): Promise<Decision> {
    if (user.groups.includes(MASTERS_GROUP)) return { allowed: true, reason: `allowed: ${JSON.stringify(user.username)} is in group ${MASTERS_GROUP}` };
    const { policies, errors } = await this.load();
    for (const p of [...BUILT_IN, ...policies]) {
      if (!p.subjects.some((s) => subjectMatches(s, user))) continue;
      const i = p.rules.findIndex((r) => ruleAllows(r, attrs));
      if (i >= 0) return { allowed: true, reason: `allowed by ${p.source} rule ${i}` };
    }
    return { allowed: false, reason: "no policy rule allows it", ...(errors.length ? { evaluationError: errors.join("; ") } : {}) };
  }

  /** The policy ConfigMaps, parsed once per change of any of them. */
  private async load(): Promise<{ policies: Policy[]; errors: string[] }> {
    const { items } = await this.store.list<KubeObject>(ConfigMap, { namespace: SYSTEM_NAMESPACE, labelSelector: `${RBAC_LABEL}=true` });
    const key = items.map((c) => `${c.metadata.name}@${c.metadata.resourceVersion}`).join(",");
    if (this.memo?.key === key) return this.memo;
    const policies: Policy[] = [];
    const errors: string[] = [];
    for (const cm of items) {
      const source = `ConfigMap ${SYSTEM_NAMESPACE}/${cm.metadata.name}`;
      const text = (cm.data as Record<string, unknown> | undefined)?.[POLICY_KEY];
      try {
        if (typeof text !== "string") throw new Error(`${source}: has no ${POLICY_KEY} key`);
        policies.push(parsePolicy(text, source));
      } catch (e) {
        errors.push((e as Error).message);
        this.log?.warn("ignoring an invalid RBAC policy", { error: (e as Error).message });
      }
    }
    this.memo = { key, policies, errors };
    return this.memo;
  }
}

/** The API server's wording for a denial: `User "alice" cannot list resource "modules" in API group "..." in the namespace "x"`. */
export function denialMessage(user: UserInfo, attrs: Attributes): string {
  if ("nonResource" in attrs) return `User ${JSON.stringify(user.username)} cannot ${attrs.nonResource.verb} path ${JSON.stringify(attrs.nonResource.path)}`;
  const a = attrs.resource;
  const what = a.subresource ? `resource "${a.resource}/${a.subresource}"` : `resource "${a.resource}"`;
  const where = a.namespace ? `in the namespace "${a.namespace}"` : "at the cluster scope";
  return `User ${JSON.stringify(user.username)} cannot ${a.verb} ${what} in API group "${a.group}" ${where}`;
}
