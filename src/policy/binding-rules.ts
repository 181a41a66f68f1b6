// One GroupBinding, compiled: its expression, its module globs and its provider names, or why it is invalid.
// Pure (no I/O, no server state) so that the GroupBinding controller reports exactly what the server enforces.
import type { GroupBindingSpec } from "../api/types.ts";
import { compileExpression, InvalidExpression, type CompiledExpression } from "./expr/index.ts";
import { BadPattern, Glob } from "./glob.ts";

export type BindingProblem = { reason: "InvalidExpression" | "InvalidPattern"; message: string };

export interface BindingRules {
  expression: CompiledExpression;
  modules: Glob[];
  /** Exact provider types, or "*" for all. */
  providers: Set<string> | "*";
}

/** Compile a binding's spec; an invalid one grants nothing and says why. */
export function compileBinding(spec: GroupBindingSpec, compile: (source: string) => CompiledExpression = compileExpression): BindingRules | BindingProblem {
  let expression: CompiledExpression;
  try {
    expression = compile(spec.expression ?? "");
  } catch (e) {
    if (e instanceof InvalidExpression) return { reason: "InvalidExpression", message: `expression ${JSON.stringify(truncate(spec.expression ?? ""))} is invalid: ${e.message}` };
    throw e;
  }
  const modules: Glob[] = [];
  for (const pattern of spec.moduleResources ?? []) {
    try {
      modules.push(new Glob(pattern));
    } catch (e) {
      if (e instanceof BadPattern) return { reason: "InvalidPattern", message: `moduleResources: ${e.message}` };
      throw e;
    }
  }
  const providerNames = spec.providerResources ?? [];
  return { expression, modules, providers: providerNames.includes("*") ? "*" : new Set(providerNames) };
}

export function isProblem(x: BindingRules | BindingProblem): x is BindingProblem {
  return "reason" in x;
}

/** Does the binding grant this module (by glob on its name) or provider (by exact type, or "*")? */
export function grants(rules: BindingRules, kind: "module" | "provider", name: string): boolean {
  if (kind === "module") return rules.modules.some((g) => g.match(name));
  return rules.providers === "*" || rules.providers.has(name);
}

function truncate(s: string): string {
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}
