// Benchmark: how long the GroupBinding expression language takes on adversarial inputs (the timings the fuzz test
// used to assert, which failed on loaded machines; the test now asserts on the evaluator's step counter).
//   bun bench/expr.ts [--rounds 20]
import { BudgetExceeded, compileExpression, DEFAULT_STEP_BUDGET, ExprRuntimeError, InvalidExpression } from "../src/policy/expr/index.ts";

const i = process.argv.indexOf("--rounds");
const ROUNDS = i > 0 ? Number(process.argv[i + 1]) : 20;
const BIG_GROUPS = Array.from({ length: 1000 }, (_, n) => `${"a".repeat(200)}-team-${n}`);
const INPUTS: [string, string][] = [
  ["deep parentheses", `${"(".repeat(2000)}true${")".repeat(2000)}`],
  ["deep predicates", `${"any(groups, ".repeat(300)}true${")".repeat(300)}`],
  ["catastrophic regex", 'any(groups, # matches "(a+)+$")'],
  ["nested regexes", 'all(groups, # matches "((a|aa)+)+b" or # matches "(.*a){20}")'],
  ["wide nested predicate (hits the budget)", 'any(groups, any(groups, any(groups, # == "nope")))'],
  ["huge array literal", `"x" in [${Array(1500).fill('"y"').join(",")}]`],
];

const rows: string[] = [];
for (const [name, source] of INPUTS) {
  const times: number[] = [];
  let outcome = "";
  let steps = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const started = performance.now();
    const budget = { left: DEFAULT_STEP_BUDGET };
    try {
      outcome = String(compileExpression(source).evaluate(BIG_GROUPS, budget));
    } catch (e) {
      if (!(e instanceof InvalidExpression || e instanceof ExprRuntimeError || e instanceof BudgetExceeded)) throw e;
      outcome = e.constructor.name;
    }
    times.push(performance.now() - started);
    steps = DEFAULT_STEP_BUDGET - budget.left;
  }
  times.sort((a, b) => a - b);
  const p50 = times[Math.floor(times.length / 2)]!;
  const max = times[times.length - 1]!;
  rows.push(`${name.padEnd(42)} ${outcome.padEnd(18)} ${String(steps).padStart(9)} steps  p50 ${p50.toFixed(2).padStart(8)} ms  max ${max.toFixed(2).padStart(8)} ms`);
}
console.log(`expression evaluation over ${BIG_GROUPS.length} groups of ~210 characters, ${ROUNDS} rounds each`);
for (const row of rows) console.log(row);
