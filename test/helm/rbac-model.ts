// Kubernetes RBAC evaluation over rendered Roles/ClusterRoles and their bindings, for one service account: which
// recorded calls are allowed, and which granted permissions no call used. Wildcards are refused outright (the
// chart must name every verb and resource), so matching is exact.
import type { K8sObject } from "./helm.ts";
import type { ApiCall } from "./recording-proxy.ts";

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

/** One granted (group, resource, verb), where it applies, and which rendered role grants it. */
export interface Grant {
  role: string; // "ClusterRole/x" or "Role/x" (the same Role name in several namespaces is one template)
  namespace?: string; // undefined: every namespace and cluster scope
  group: string;
  resource: string;
  verb: string;
  resourceNames?: string[];
}

export function grantsFor(docs: K8sObject[], account: { namespace: string; name: string }): Grant[] {
  const roles = new Map(docs.filter((d) => d.kind === "Role" || d.kind === "ClusterRole").map((d) => [`${d.kind}/${d.metadata.namespace ?? ""}/${d.metadata.name}`, d as K8sObject & { rules: Rule[] }]));
  const grants: Grant[] = [];
  for (const b of docs.filter((d) => d.kind === "RoleBinding" || d.kind === "ClusterRoleBinding") as (K8sObject & { roleRef: { kind: string; name: string }; subjects: { kind: string; name: string; namespace?: string }[] })[]) {
    if (!b.subjects.some((s) => s.kind === "ServiceAccount" && s.name === account.name && s.namespace === account.namespace)) continue;
    const scope = b.kind === "RoleBinding" ? b.metadata.namespace : undefined;
    const role = roles.get(`${b.roleRef.kind}/${b.roleRef.kind === "Role" ? b.metadata.namespace : ""}/${b.roleRef.name}`);
    if (!role) throw new Error(`${b.kind} ${b.metadata.name} refers to ${b.roleRef.kind} ${b.roleRef.name}, which is not rendered`);
    for (const rule of role.rules) {
      for (const field of [rule.apiGroups, rule.resources, rule.verbs]) if (field.some((x) => x.includes("*"))) throw new Error(`${role.kind} ${role.metadata.name} uses a wildcard: ${JSON.stringify(rule)}`);
      for (const group of rule.apiGroups)
        for (const resource of rule.resources)
          for (const verb of rule.verbs) grants.push({ role: `${role.kind}/${role.metadata.name}`, ...(scope ? { namespace: scope } : {}), group, resource, verb, ...(rule.resourceNames ? { resourceNames: rule.resourceNames } : {}) });
    }
  }
  return grants;
}

export function allows(g: Grant, c: ApiCall): boolean {
  if (g.group !== c.group || g.resource !== c.resource || g.verb !== c.verb) return false;
  if (g.namespace !== undefined && g.namespace !== c.namespace) return false; // a Role never covers cluster-wide calls
  if (g.resourceNames && (!c.name || !g.resourceNames.includes(c.name))) return false; // as RBAC: never list/watch/create
  return true;
}

const show = (c: ApiCall) => `${c.verb} ${c.group || "core"}/${c.resource}${c.namespace ? ` in ${c.namespace}` : " (all namespaces)"}${c.name ? ` ${c.name}` : ""}${c.via ? ` [${c.via}]` : ""}`;

/** Calls no grant allows, and grants (per role template, group, resource, verb) no call used. */
export function compare(grants: Grant[], calls: ApiCall[]): { denied: string[]; unused: string[] } {
  const denied = [...new Set(calls.filter((c) => !grants.some((g) => allows(g, c))).map(show))].sort();
  const atoms = new Map<string, Grant[]>();
  for (const g of grants) {
    const key = `${g.role}: ${g.verb} ${g.group || "core"}/${g.resource}${g.resourceNames ? ` ${g.resourceNames.join(",")}` : ""}`;
    atoms.set(key, [...(atoms.get(key) ?? []), g]);
  }
  const unused = [...atoms].filter(([, gs]) => !calls.some((c) => gs.some((g) => allows(g, c)))).map(([key]) => key).sort();
  return { denied, unused };
}
