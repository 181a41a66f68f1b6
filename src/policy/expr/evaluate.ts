// Tree-walking evaluator of a checked expression. No eval, no Function: just a switch over node types. Every node
// visit, predicate iteration and regex step is charged to a step budget, so an evaluation is bounded by
// LIMITS + budget whatever the expression and whatever the caller's groups; running out is an error (and the
// gatekeeper turns errors into a denial, never into "try the next binding").
import type { Node, Value } from "./parser.ts";
import { BudgetExceeded, type Budget } from "./regex.ts";

export { BudgetExceeded };

export class ExprRuntimeError extends Error {}

/** Steps allowed per evaluation: ~ a few milliseconds of work at worst. */
export const DEFAULT_STEP_BUDGET = 1_000_000;

interface Scope {
  groups: readonly string[];
  pointers: Value[];
  budget: Budget;
}

export function evaluate(node: Node, groups: readonly string[], budget: Budget = { left: DEFAULT_STEP_BUDGET }): boolean {
  const v = ev(node, { groups, pointers: [], budget });
  if (typeof v !== "boolean") throw new ExprRuntimeError(`expression evaluated to ${typeName(v)}, not a boolean`);
  return v;
}

function charge(scope: Scope, steps = 1): void {
  scope.budget.left -= steps;
  if (scope.budget.left < 0) throw new BudgetExceeded();
}

function ev(node: Node, s: Scope): Value {
  charge(s);
  switch (node.t) {
    case "lit":
      return node.value;
    case "array":
      return node.items.map((n) => ev(n, s));
    case "var":
      return s.groups as Value[];
    case "pointer":
      return s.pointers[s.pointers.length - 1]!;
    case "not":
      return !bool(ev(node.x, s), "not");
    case "neg":
      return -num(ev(node.x, s), "unary -");
    case "call": {
      const arg = ev(node.arg, s);
      if (node.fn === "len") {
        if (Array.isArray(arg)) return arg.length;
        let n = 0;
        for (const _ of str(arg, "len()")) n++; // code points, as Go counts runes
        charge(s, n);
        return n;
      }
      const text = str(arg, `${node.fn}()`);
      charge(s, text.length);
      return node.fn === "lower" ? text.toLowerCase() : text.toUpperCase();
    }
    case "predicate":
      return predicate(node, s);
    case "binary":
      return binary(node, s);
  }
}

function predicate(node: Extract<Node, { t: "predicate" }>, s: Scope): Value {
  const items = arr(ev(node.arr, s), `${node.fn}()`);
  const test = (item: Value) => {
    s.pointers.push(item);
    try {
      return bool(ev(node.body, s), `the predicate of ${node.fn}()`);
    } finally {
      s.pointers.pop();
    }
  };
  switch (node.fn) {
    case "any":
      return items.some(test);
    case "all":
      return items.every(test);
    case "none":
      return !items.some(test);
    case "one": {
      let hits = 0;
      for (const item of items) if (test(item) && ++hits > 1) return false;
      return hits === 1;
    }
    case "count":
      return items.filter(test).length;
    case "filter":
      return items.filter(test);
  }
}

function binary(node: Extract<Node, { t: "binary" }>, s: Scope): Value {
  if (node.op === "or") return bool(ev(node.l, s), "or") || bool(ev(node.r, s), "or");
  if (node.op === "and") return bool(ev(node.l, s), "and") && bool(ev(node.r, s), "and");
  const l = ev(node.l, s);
  const r = ev(node.r, s);
  let result: boolean;
  switch (node.op) {
    case "==":
      return equal(l, r, s);
    case "!=":
      return !equal(l, r, s);
    case "<":
    case "<=":
    case ">":
    case ">=":
      if (typeof l === "string" && typeof r === "string") charge(s, Math.min(l.length, r.length));
      return compare(node.op, l, r);
    case "in": {
      const list = arr(r, "in");
      charge(s, list.length);
      result = list.some((item) => equal(l, item, s));
      break;
    }
    case "matches":
      result = node.regex!.test(str(l, "matches"), s.budget);
      break;
    case "contains":
      result = charged(s, str(l, "contains"), str(r, "contains"), (a, b) => a.includes(b));
      break;
    case "startsWith":
      result = charged(s, str(l, "startsWith"), str(r, "startsWith"), (a, b) => a.startsWith(b));
      break;
    case "endsWith":
      result = charged(s, str(l, "endsWith"), str(r, "endsWith"), (a, b) => a.endsWith(b));
      break;
  }
  return node.negate ? !result : result;
}

/** String searches are charged by length; the gatekeeper bounds the length of every group a token may carry. */
function charged(s: Scope, a: string, b: string, op: (a: string, b: string) => boolean): boolean {
  charge(s, a.length + b.length);
  return op(a, b);
}

function equal(a: Value, b: Value, s: Scope): boolean {
  charge(s);
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => equal(x, b[i]!, s));
  }
  if (typeof a === "string" && typeof b === "string" && a.length === b.length) charge(s, a.length); // a full compare
  return a === b;
}

function compare(op: "<" | "<=" | ">" | ">=", l: Value, r: Value): boolean {
  if (!((typeof l === "number" && typeof r === "number") || (typeof l === "string" && typeof r === "string"))) {
    throw new ExprRuntimeError(`invalid operation ${op} between ${typeName(l)} and ${typeName(r)}`);
  }
  switch (op) {
    case "<":
      return l < r;
    case "<=":
      return l <= r;
    case ">":
      return l > r;
    case ">=":
      return l >= r;
  }
}

function typeName(v: Value): string {
  return v === null ? "nil" : Array.isArray(v) ? "array" : typeof v;
}

function bool(v: Value, what: string): boolean {
  if (typeof v !== "boolean") throw new ExprRuntimeError(`${what} needs a boolean, got ${typeName(v)}`);
  return v;
}
function num(v: Value, what: string): number {
  if (typeof v !== "number") throw new ExprRuntimeError(`${what} needs a number, got ${typeName(v)}`);
  return v;
}
function str(v: Value, what: string): string {
  if (typeof v !== "string") throw new ExprRuntimeError(`${what} needs a string, got ${typeName(v)}`);
  return v;
}
function arr(v: Value, what: string): Value[] {
  if (!Array.isArray(v)) throw new ExprRuntimeError(`${what} needs an array, got ${typeName(v)}`);
  return v;
}
