// Fuzzing the expression language: random well-formed expressions, random token soup, and adversarial inputs
// (deep nesting, huge literals, catastrophic regexes, huge group lists). Every input must either compile or be
// rejected with InvalidExpression, and every evaluation must return a boolean or fail with a bounded-evaluation
// error — never crash or hang. "Never hang" is asserted deterministically on the evaluator's own step counter
// (every node visit, iteration, comparison and regex step is charged to it), never on the wall clock, which fails
// on a loaded machine; how long inputs take is measured by `bun bench/expr.ts`.
import { describe, expect, test } from "bun:test";
import { BudgetExceeded, compileExpression, DEFAULT_STEP_BUDGET, ExprRuntimeError, InvalidExpression, LIMITS } from "./index.ts";

const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed);
const ITERATIONS = Number(process.env.FUZZ_ITERATIONS ?? 3000);
/** One charge is at most one string's length: an expression's (LIMITS.length) or a group's (1,024 characters). */
const LARGEST_CHARGE = LIMITS.length + 1024;

function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const random = rng(SEED);
const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
const int = (n: number) => Math.floor(random() * n);

const STRINGS = ['"team-a"', '"sre"', "'x'", '""', '"client:ci"', "`raw`", '"\\u00e9"'];
const REGEXES = ['"^team-[a-z]+$"', '"(a+)+$"', '"(a|aa)*b"', '"(?i)ADMIN"', '"(.*a){10}"', '"\\\\d{1,3}"', '"[^x]*y"'];

/** A random expression of roughly the right shape, often ill-typed; depth-limited. */
function expression(depth: number, inPredicate: boolean): string {
  if (depth <= 0) return pick(["groups", "true", "false", "nil", "1", "2.5", ...STRINGS, ...(inPredicate ? ["#"] : [])]);
  const sub = () => expression(depth - 1, inPredicate);
  const inner = () => expression(depth - 1, true);
  switch (int(12)) {
    case 0:
      return `(${sub()} ${pick(["and", "or", "&&", "||"])} ${sub()})`;
    case 1:
      return `${pick(STRINGS)} ${pick(["in", "not in"])} ${pick(["groups", `[${STRINGS.slice(0, int(4)).join(", ")}]`, sub()])}`;
    case 2:
      return `${pick(["not ", "!"])}(${sub()})`;
    case 3:
      return `${sub()} ${pick(["==", "!=", "<", ">=", "startsWith", "endsWith", "contains", "not contains"])} ${sub()}`;
    case 4:
      return `${pick(["#", ...STRINGS, "lower(#)"])} ${pick(["matches", "not matches"])} ${pick(REGEXES)}`;
    case 5:
      return `${pick(["any", "all", "none", "one"])}(${pick(["groups", sub()])}, ${pick(["", "{"])}${inner()}${""})`.replace(/\{([^}]*)\)$/, "{$1})");
    case 6:
      return `len(${pick(["groups", `filter(groups, ${inner()})`, sub()])}) ${pick([">", "==", "<="])} ${int(5)}`;
    case 7:
      return `${pick(["lower", "upper", "len"])}(${sub()}) == ${pick(STRINGS)}`;
    case 8:
      return `[${Array.from({ length: int(4) }, sub).join(", ")}] == ${sub()}`;
    case 9:
      return `count(groups, ${inner()}) > ${int(3)}`;
    default:
      return `any(groups, # ${pick(["startsWith", "matches", "=="])} ${pick([...STRINGS, ...REGEXES])})`;
  }
}

const SOUP = ["(", ")", "[", "]", "{", "}", ",", "#", "!", "not", "in", "and", "or", "==", "groups", "any", "len", '"a"', "1", "matches", "-", "`", '"', "\\", "=", "?", "."];
const soup = () => Array.from({ length: 1 + int(30) }, () => pick(SOUP)).join(pick([" ", ""]));

// The most groups (and longest) a token may carry; random inputs use a smaller set to keep the suite quick.
const BIG_GROUPS = Array.from({ length: 1000 }, (_, i) => `${"a".repeat(200)}-team-${i}`);
const WIDE_GROUPS = BIG_GROUPS.slice(0, 100);
const GROUP_SETS: string[][] = [[], ["team-a", "sre"], ["client:ci"], WIDE_GROUPS];

/** Steps one evaluation used; it either finished within the budget or stopped at it with BudgetExceeded. */
function steps(compiled: { evaluate(groups: readonly string[], budget?: { left: number }): boolean }, groups: readonly string[], source: string): number {
  const budget = { left: DEFAULT_STEP_BUDGET };
  try {
    expect(typeof compiled.evaluate(groups, budget)).toBe("boolean");
    expect(budget.left).toBeGreaterThanOrEqual(0);
  } catch (e) {
    if (e instanceof BudgetExceeded) expect(budget.left).toBeLessThan(0);
    else if (!(e instanceof ExprRuntimeError)) throw new Error(`evaluate crashed on ${JSON.stringify(source.slice(0, 200))}: ${e}`);
  }
  const used = DEFAULT_STEP_BUDGET - budget.left;
  // Work is counted (at least the root node) and cut off at the budget, overshooting by at most one charge.
  expect(used).toBeGreaterThan(0);
  expect(used).toBeLessThanOrEqual(DEFAULT_STEP_BUDGET + LARGEST_CHARGE);
  return used;
}

function run(source: string, groupSets = GROUP_SETS): void {
  let compiled;
  try {
    compiled = compileExpression(source);
  } catch (e) {
    if (!(e instanceof InvalidExpression)) throw new Error(`compile crashed on ${JSON.stringify(source.slice(0, 200))}: ${e}`);
  }
  if (compiled) for (const groups of groupSets) steps(compiled, groups, source);
}

describe(`fuzz (seed ${SEED})`, () => {
  test("random well-formed expressions", () => {
    for (let i = 0; i < ITERATIONS; i++) run(expression(1 + int(5), false));
  });

  test("random token soup", () => {
    for (let i = 0; i < ITERATIONS; i++) run(soup());
  });

  test.each([
    ["deep parentheses", `${"(".repeat(50_000)}true${")".repeat(50_000)}`],
    ["deep parentheses within the length limit", `${"(".repeat(2000)}true${")".repeat(2000)}`],
    ["deep negation", `${"!".repeat(4000)}true`],
    ["deep not", `${"not ".repeat(1000)}true`],
    ["deep arrays", `${"[".repeat(2000)}${"]".repeat(2000)} == nil`],
    ["deep predicates", `${"any(groups, ".repeat(300)}true${")".repeat(300)}`],
    ["long or-chain", Array.from({ length: 400 }, (_, i) => `"g${i}" in groups`).join(" or ").slice(0, 4096).replace(/ or "g\d*" in( groups?)?$| or "?g?\d*$| or$/, "")],
    ["huge string literal", `"${"a".repeat(1_000_000)}" in groups`],
    ["huge number literal", `${"9".repeat(5000)} > 1`],
    ["huge array literal", `"x" in [${Array(1500).fill('"y"').join(",")}]`],
    ["catastrophic regex", 'any(groups, # matches "(a+)+$")'],
    ["catastrophic regex with nesting", 'all(groups, # matches "((a|aa)+)+b" or # matches "(.*a){20}")'],
    ["nested predicates multiply work", `any(groups, any(groups, any(groups, # == "nope")))`],
    ["null bytes and odd characters", '"\\x00" in groups or "\u202e" in groups'],
    ["unterminated everything", '(any(groups, {# matches "['],
  ])("adversarial: %s", (_name, source) => run(source, [...GROUP_SETS, BIG_GROUPS]));

  test("a wide nested predicate is cut off by the step budget, not left to run", () => {
    const compiled = compileExpression('any(groups, any(groups, any(groups, # == "nope")))');
    // 1,000³ comparisons would be a billion steps; the evaluation stops at the budget.
    expect(() => compiled.evaluate(BIG_GROUPS)).toThrow(BudgetExceeded);
    const used = steps(compiled, BIG_GROUPS, compiled.source);
    expect(used).toBeGreaterThan(DEFAULT_STEP_BUDGET);
  });

  test("comparisons are charged by the characters they compare", () => {
    const long = "a".repeat(1000);
    const cost = (source: string, groups: string[] = []) => steps(compileExpression(source), groups, source);
    expect(cost(`"${long}" == "${long}"`) - cost('"a" == "a"')).toBe(999);
    expect(cost(`"${long}" < "${long}b"`) - cost('"a" < "ab"')).toBe(999);
    expect(cost(`any(groups, # == "${long}")`, [`${long}b`, long]) - cost('any(groups, # == "a")', ["ab", "a"])).toBe(999);
  });
});
