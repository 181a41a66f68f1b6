// GroupBindings as the server consults them: compiled once per change from the watch-fed cache (never listed per
// request), ordered by name, scoped by namespace — bindings in the server's own namespace apply to every
// namespace, others only to their own — and with each caller's outcome remembered until the bindings change.
// First match wins, as in v0.9: the first binding (by name) whose expression holds decides, whether or not it
// grants the resource. An invalid binding is skipped (it grants nothing; its status says why). An expression
// that fails while evaluating (budget, type) denies the request: the caller's groups caused it, and moving on to
// the next binding could grant what a stricter one meant to refuse.
import type { GroupBindingObject } from "../../api/kinds.ts";
import type { Logger } from "../../log.ts";
import type { ObjectFeed } from "../feed.ts";
import { BoundedMemo } from "../http.ts";
import { compileBinding, grants, isProblem, type BindingRules } from "../../policy/binding-rules.ts";
import { compileExpression, type CompiledExpression } from "../../policy/expr/index.ts";

export interface ActiveBinding {
  namespace: string;
  name: string;
  rules: BindingRules;
}

export type Selection = { binding: ActiveBinding } | { binding: undefined; error?: string };

const keyOf = (o: GroupBindingObject) => `${o.metadata.namespace ?? ""}/${o.metadata.name}`;

export class BindingIndex {
  private readonly active = new Map<string, ActiveBinding>();
  private readonly byNamespace = new Map<string, ActiveBinding[]>();
  private decisions = new BoundedMemo<Selection>(10_000);
  /** Compiled expressions by source: a hundred bindings with the same expression compile once. */
  private expressions = new Map<string, CompiledExpression>();
  private readonly unsubscribe: () => void;
  /** Bumped whenever the bindings change, so callers can memoise decisions derived from them. */
  generation = 0;

  constructor(
    feed: ObjectFeed<GroupBindingObject>,
    private readonly options: { globalNamespace: string; log: Logger },
  ) {
    for (const b of feed.list()) this.put(b);
    this.unsubscribe = feed.onChange((type, obj, old) => {
      if (old) this.active.delete(keyOf(old));
      if (type === "DELETED") this.active.delete(keyOf(obj));
      else this.put(obj);
      this.changed();
    });
  }

  close(): void {
    this.unsubscribe();
  }

  get size(): number {
    return this.active.size;
  }

  /** The binding that decides for these groups in this namespace. */
  select(groups: readonly string[], namespace: string): Selection {
    const memoKey = `${namespace}\u0000${groups.join("\u0000")}`;
    const known = this.decisions.get(memoKey);
    if (known) return known;
    const selection = this.evaluate(groups, namespace);
    this.decisions.set(memoKey, selection);
    return selection;
  }

  grants(binding: ActiveBinding, kind: "module" | "provider", name: string): boolean {
    return grants(binding.rules, kind, name);
  }

  private evaluate(groups: readonly string[], namespace: string): Selection {
    for (const binding of this.applicable(namespace)) {
      try {
        if (binding.rules.expression.evaluate(groups)) return { binding };
      } catch (e) {
        const error = `GroupBinding ${binding.namespace}/${binding.name} failed to evaluate: ${e instanceof Error ? e.message : String(e)}`;
        this.options.log.error("GroupBinding evaluation failed; denying", { namespace: binding.namespace, binding: binding.name, error: (e as Error).message });
        return { binding: undefined, error };
      }
    }
    return { binding: undefined };
  }

  /** Global bindings plus the namespace's own, by name (then namespace, to be deterministic). */
  private applicable(namespace: string): ActiveBinding[] {
    let list = this.byNamespace.get(namespace);
    if (!list) {
      list = [...this.active.values()]
        .filter((b) => b.namespace === this.options.globalNamespace || b.namespace === namespace)
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.namespace < b.namespace ? -1 : a.namespace > b.namespace ? 1 : 0));
      this.byNamespace.set(namespace, list);
    }
    return list;
  }

  private put(obj: GroupBindingObject): void {
    const key = keyOf(obj);
    this.active.delete(key);
    if (obj.metadata.deletionTimestamp) return;
    const rules = compileBinding(obj.spec, (source) => this.compile(source));
    if (isProblem(rules)) {
      this.options.log.error("GroupBinding is invalid and grants nothing", { namespace: obj.metadata.namespace, binding: obj.metadata.name, reason: rules.reason, error: rules.message });
      return;
    }
    this.active.set(key, { namespace: obj.metadata.namespace ?? "", name: obj.metadata.name, rules });
  }

  private compile(source: string): CompiledExpression {
    let compiled = this.expressions.get(source);
    if (!compiled) {
      compiled = compileExpression(source);
      this.expressions.set(source, compiled);
    }
    return compiled;
  }

  private changed(): void {
    this.generation++;
    this.byNamespace.clear();
    this.decisions = new BoundedMemo<Selection>(10_000);
    // Drop compiled expressions no binding uses any more.
    const inUse = new Set([...this.active.values()].map((b) => b.rules.expression.source));
    this.expressions = new Map([...this.expressions].filter(([source]) => inUse.has(source)));
  }
}
