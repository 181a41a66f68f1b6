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
import { hasControlCharacter } from "./oidc-verifier.ts";
import { compileBinding, grants, isProblem, type BindingRules } from "../../policy/binding-rules.ts";
import { compileExpression, type CompiledExpression } from "../../policy/expr/index.ts";

export interface ActiveBinding {
  namespace: string;
  name: string;
  rules: BindingRules;
}

export type Selection = { binding: ActiveBinding } | { binding: undefined; error?: string };

/** Longer keys (many long group names) are evaluated every time rather than held in memory. */
const MAX_MEMO_KEY = 2048;

const keyOf = (o: GroupBindingObject) => `${o.metadata.namespace ?? ""}/${o.metadata.name}`;

export class BindingIndex {
  private readonly active = new Map<string, ActiveBinding>();
  /** Applicable lists, only for namespaces that hold bindings of their own (keyed by what exists, so bounded). */
  private readonly byNamespace = new Map<string, ActiveBinding[]>();
  private globalOnly: ActiveBinding[] | undefined;
  private ownNamespaces = new Set<string>();
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
    this.changed();
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

  /** How much the caches hold (metrics and tests: both are bounded whatever callers send). */
  cacheSizes(): { namespaces: number; decisions: number } {
    return { namespaces: this.byNamespace.size + (this.globalOnly ? 1 : 0), decisions: this.decisions.size };
  }

  /** The binding that decides for these groups in this namespace. */
  select(groups: readonly string[], namespace: string): Selection {
    if (groups.some(hasControlCharacter)) return { binding: undefined, error: "group names with control characters are refused" };
    // Namespaces without bindings of their own all see the global bindings: one cache entry for all of them. The
    // key is JSON, unambiguous for any group names (["a\u0000b"] and ["a","b"] differ).
    const scope = this.ownNamespaces.has(namespace) ? namespace : "";
    const memoKey = JSON.stringify([scope, groups]);
    const cacheable = memoKey.length <= MAX_MEMO_KEY;
    const known = cacheable ? this.decisions.get(memoKey) : undefined;
    if (known) return known;
    const selection = this.evaluate(groups, namespace);
    if (cacheable) this.decisions.set(memoKey, selection);
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
    if (!this.ownNamespaces.has(namespace)) return (this.globalOnly ??= this.listFor(undefined));
    let list = this.byNamespace.get(namespace);
    if (!list) this.byNamespace.set(namespace, (list = this.listFor(namespace)));
    return list;
  }

  private listFor(namespace: string | undefined): ActiveBinding[] {
    return [...this.active.values()]
      .filter((b) => b.namespace === this.options.globalNamespace || b.namespace === namespace)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.namespace < b.namespace ? -1 : a.namespace > b.namespace ? 1 : 0));
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
    this.globalOnly = undefined;
    this.ownNamespaces = new Set([...this.active.values()].map((b) => b.namespace).filter((ns) => ns !== this.options.globalNamespace));
    this.decisions = new BoundedMemo<Selection>(10_000);
    // Drop compiled expressions no binding uses any more.
    const inUse = new Set([...this.active.values()].map((b) => b.rules.expression.source));
    this.expressions = new Map([...this.expressions].filter(([source]) => inUse.has(source)));
  }
}
