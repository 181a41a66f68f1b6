// Parser and static checker of the GroupBinding expression language: expr-lang's grammar and operator
// precedence for the subset v0.9 bindings use, producing a typed AST. Size and nesting are bounded here so that
// neither parsing nor evaluation can recurse or allocate without limit; types are checked here so that a wrong
// binding is reported by the controller instead of failing at request time.
import { ExprSyntaxError, tokenize, type Token } from "./lexer.ts";
import { RegexSyntaxError, SafeRegex } from "./regex.ts";

export const LIMITS = {
  /** Characters in an expression. */
  length: 4096,
  tokens: 1500,
  /** AST nodes. */
  nodes: 2000,
  /** Nesting of parentheses, operators and calls. */
  depth: 64,
} as const;

export type Ty = { k: "bool" | "string" | "number" | "nil" | "any" } | { k: "array"; of: Ty };
const T = {
  bool: { k: "bool" } as Ty,
  string: { k: "string" } as Ty,
  number: { k: "number" } as Ty,
  nil: { k: "nil" } as Ty,
  any: { k: "any" } as Ty,
  array: (of: Ty): Ty => ({ k: "array", of }),
};

export type Value = string | number | boolean | null | Value[];
export type BinaryOp = "or" | "and" | "==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "matches" | "contains" | "startsWith" | "endsWith";
export type PredicateFn = "any" | "all" | "none" | "one" | "filter" | "count";
export type CallFn = "len" | "lower" | "upper";

export type Node =
  | { t: "lit"; value: Value }
  | { t: "array"; items: Node[] }
  | { t: "var" } // `groups`, the only name in the environment
  | { t: "pointer" } // `#`, the element of the innermost predicate
  | { t: "not"; x: Node }
  | { t: "neg"; x: Node }
  | { t: "binary"; op: BinaryOp; negate: boolean; l: Node; r: Node; regex?: SafeRegex }
  | { t: "call"; fn: CallFn; arg: Node }
  | { t: "predicate"; fn: PredicateFn; arr: Node; body: Node };

const PRECEDENCE: Record<string, number> = {
  or: 10, "||": 10, and: 15, "&&": 15,
  "==": 20, "!=": 20, "<": 20, "<=": 20, ">": 20, ">=": 20, in: 20, matches: 20, contains: 20, startsWith: 20, endsWith: 20,
  "+": 30, "-": 30, // recognised only to say that arithmetic is not part of the language
};
const CANONICAL: Record<string, BinaryOp> = { "||": "or", "&&": "and" };
const NEGATABLE = new Set(["in", "matches", "contains", "startsWith", "endsWith"]);
const UNARY_NOT_PRECEDENCE = 50;
const UNARY_MINUS_PRECEDENCE = 90;
const PREDICATES = new Set<string>(["any", "all", "none", "one", "filter", "count"]);
const CALLS = new Set<string>(["len", "lower", "upper"]);

export class ExprTypeError extends Error {}

export function parse(src: string): Node {
  if (src.length > LIMITS.length) throw new ExprSyntaxError(`expression longer than ${LIMITS.length} characters`);
  const p = new Parser(tokenize(src, LIMITS.tokens));
  const node = p.expression(0, 0);
  p.expectEnd();
  const ty = check(node, []);
  if (ty.k !== "bool" && ty.k !== "any") throw new ExprTypeError(`expression must evaluate to a boolean, not ${show(ty)}`);
  return node;
}

class Parser {
  private i = 0;
  private nodes = 0;
  constructor(private readonly tokens: Token[]) {}

  private get tok(): Token {
    return this.tokens[this.i]!;
  }

  private node<N extends Node>(n: N): N {
    if (++this.nodes > LIMITS.nodes) throw new ExprSyntaxError(`expression has more than ${LIMITS.nodes} nodes`);
    return n;
  }

  private guard(depth: number): void {
    if (depth > LIMITS.depth) throw new ExprSyntaxError(`expression nested deeper than ${LIMITS.depth} levels`);
  }

  expectEnd(): void {
    if (this.tok.kind !== "eof") throw new ExprSyntaxError(`unexpected ${describe(this.tok)}`, this.tok.pos);
  }

  private expect(text: string): void {
    if (this.tok.text !== text || this.tok.kind === "string") throw new ExprSyntaxError(`expected ${text} but found ${describe(this.tok)}`, this.tok.pos);
    this.i++;
  }

  /** Precedence climbing, as expr-lang does it: all binary operators are left-associative. */
  expression(minPrecedence: number, depth: number): Node {
    this.guard(depth);
    let left = this.unary(depth + 1);
    for (;;) {
      const t = this.tok;
      let name = t.kind === "op" || t.kind === "ident" ? t.text : "";
      let negate = false;
      if (name === "not" && NEGATABLE.has(this.tokens[this.i + 1]?.text ?? "") && this.tokens[this.i + 1]?.kind === "ident") {
        negate = true;
        name = this.tokens[this.i + 1]!.text;
      }
      const precedence = PRECEDENCE[name];
      if (precedence === undefined || precedence < minPrecedence) return left;
      if (name === "+" || name === "-") throw new ExprSyntaxError(`arithmetic is not supported`, t.pos);
      this.i += negate ? 2 : 1;
      // A chain like `a or b or c` grows the tree to the left without recursing here; the node limit bounds it.
      const right = this.expression(precedence + 1, depth + 1);
      left = this.node({ t: "binary", op: CANONICAL[name] ?? (name as BinaryOp), negate, l: left, r: right });
    }
  }

  private unary(depth: number): Node {
    this.guard(depth);
    const t = this.tok;
    if ((t.kind === "ident" && t.text === "not") || (t.kind === "op" && t.text === "!")) {
      this.i++;
      return this.node({ t: "not", x: this.expression(UNARY_NOT_PRECEDENCE, depth + 1) });
    }
    if (t.kind === "op" && (t.text === "-" || t.text === "+")) {
      this.i++;
      const x = this.expression(UNARY_MINUS_PRECEDENCE, depth + 1);
      return t.text === "-" ? this.node({ t: "neg", x }) : x;
    }
    return this.primary(depth + 1);
  }

  private primary(depth: number): Node {
    this.guard(depth);
    const t = this.tok;
    switch (t.kind) {
      case "string":
      case "number":
        this.i++;
        return this.node({ t: "lit", value: t.value! });
      case "pointer":
        this.i++;
        return this.node({ t: "pointer" });
      case "punct":
        if (t.text === "(") {
          this.i++;
          const inner = this.expression(0, depth + 1);
          this.expect(")");
          return inner;
        }
        if (t.text === "[") return this.arrayLiteral(depth + 1);
        break;
      case "ident":
        return this.identifier(depth + 1);
    }
    throw new ExprSyntaxError(`unexpected ${describe(t)}`, t.pos);
  }

  private arrayLiteral(depth: number): Node {
    this.expect("[");
    const items: Node[] = [];
    while (!(this.tok.kind === "punct" && this.tok.text === "]")) {
      items.push(this.expression(0, depth + 1));
      if (this.tok.kind === "punct" && this.tok.text === ",") this.i++;
      else break;
    }
    this.expect("]");
    return this.node({ t: "array", items });
  }

  private identifier(depth: number): Node {
    const t = this.tok;
    this.i++;
    if (t.text === "true" || t.text === "false") return this.node({ t: "lit", value: t.text === "true" });
    if (t.text === "nil") return this.node({ t: "lit", value: null });
    if (t.text === "groups") return this.node({ t: "var" });
    const isCall = this.tok.kind === "punct" && this.tok.text === "(";
    if (isCall && CALLS.has(t.text)) {
      this.expect("(");
      const arg = this.expression(0, depth + 1);
      this.expect(")");
      return this.node({ t: "call", fn: t.text as CallFn, arg });
    }
    if (isCall && PREDICATES.has(t.text)) {
      this.expect("(");
      const arr = this.expression(0, depth + 1);
      this.expect(",");
      // expr-lang accepts the predicate with or without braces: any(groups, {# == "x"}) or any(groups, # == "x").
      const braced = this.tok.kind === "punct" && this.tok.text === "{";
      if (braced) this.i++;
      const body = this.expression(0, depth + 1);
      if (braced) this.expect("}");
      this.expect(")");
      return this.node({ t: "predicate", fn: t.text as PredicateFn, arr, body });
    }
    if (isCall) throw new ExprSyntaxError(`unknown function ${t.text}()`, t.pos);
    throw new ExprSyntaxError(`unknown name ${t.text} (the environment holds only "groups")`, t.pos);
  }
}

function describe(t: Token): string {
  return t.kind === "eof" ? "end of expression" : `"${t.text.slice(0, 40)}"`;
}

const show = (ty: Ty): string => (ty.k === "array" ? `array of ${show(ty.of)}` : ty.k);
const isA = (ty: Ty, k: Ty["k"]) => ty.k === k || ty.k === "any";

function want(ty: Ty, k: Ty["k"], what: string): void {
  if (!isA(ty, k)) throw new ExprTypeError(`${what} needs ${k === "array" ? "an array" : `a ${k}`}, not ${show(ty)}`);
}

/** Infers the node's type, rejecting operations whose operand types are known to be wrong. `scopes` holds `#`. */
function check(node: Node, scopes: Ty[]): Ty {
  switch (node.t) {
    case "lit":
      if (node.value === null) return T.nil;
      return typeof node.value === "string" ? T.string : typeof node.value === "number" ? T.number : T.bool;
    case "array": {
      const types = node.items.map((n) => check(n, scopes));
      const first = types[0];
      return T.array(first && types.every((t) => t.k === first.k && t.k !== "array") ? first : T.any);
    }
    case "var":
      return T.array(T.string);
    case "pointer":
      if (!scopes.length) throw new ExprTypeError("# is only defined inside a predicate such as any(groups, # == \"x\")");
      return scopes[scopes.length - 1]!;
    case "not":
      want(check(node.x, scopes), "bool", "not");
      return T.bool;
    case "neg":
      want(check(node.x, scopes), "number", "unary -");
      return T.number;
    case "call": {
      const arg = check(node.arg, scopes);
      if (node.fn === "len") {
        if (!isA(arg, "string") && !isA(arg, "array")) throw new ExprTypeError(`len() needs a string or an array, not ${show(arg)}`);
        return T.number;
      }
      want(arg, "string", `${node.fn}()`);
      return T.string;
    }
    case "predicate": {
      const arr = check(node.arr, scopes);
      want(arr, "array", `${node.fn}()`);
      const body = check(node.body, [...scopes, arr.k === "array" ? arr.of : T.any]);
      want(body, "bool", `the predicate of ${node.fn}()`);
      return node.fn === "filter" ? arr : node.fn === "count" ? T.number : T.bool;
    }
    case "binary":
      return checkBinary(node, scopes);
  }
}

function checkBinary(node: Extract<Node, { t: "binary" }>, scopes: Ty[]): Ty {
  const l = check(node.l, scopes);
  const r = check(node.r, scopes);
  switch (node.op) {
    case "or":
    case "and":
      want(l, "bool", node.op);
      want(r, "bool", node.op);
      break;
    case "==":
    case "!=":
      if (l.k !== r.k && l.k !== "any" && r.k !== "any" && l.k !== "nil" && r.k !== "nil") {
        throw new ExprTypeError(`invalid operation ${node.op}: mismatched types ${show(l)} and ${show(r)}`);
      }
      break;
    case "<":
    case "<=":
    case ">":
    case ">=":
      if (!((isA(l, "number") && isA(r, "number")) || (isA(l, "string") && isA(r, "string")))) {
        throw new ExprTypeError(`invalid operation ${node.op} between ${show(l)} and ${show(r)}`);
      }
      break;
    case "in":
      want(r, "array", `the right side of ${node.negate ? "not in" : "in"}`);
      break;
    case "matches":
      want(l, "string", "matches");
      if (node.r.t !== "lit" || typeof node.r.value !== "string") throw new ExprTypeError("matches needs a string literal pattern on its right");
      try {
        node.regex = new SafeRegex(node.r.value);
      } catch (e) {
        if (e instanceof RegexSyntaxError) throw new ExprTypeError(`invalid regular expression ${JSON.stringify(node.r.value.slice(0, 80))}: ${e.message}`);
        throw e;
      }
      break;
    default:
      want(l, "string", node.op);
      want(r, "string", node.op);
  }
  return T.bool;
}
