// The GroupBinding expression language: compile once (syntax, types, regexes, size limits), evaluate per caller.
// Used by the server's gatekeeper and by the GroupBinding controller, which reports compile errors in status.
import { evaluate, ExprRuntimeError, BudgetExceeded, DEFAULT_STEP_BUDGET } from "./evaluate.ts";
import { ExprSyntaxError } from "./lexer.ts";
import { ExprTypeError, LIMITS, parse, type Node } from "./parser.ts";

export { LIMITS, DEFAULT_STEP_BUDGET, BudgetExceeded, ExprRuntimeError };

/** Why an expression was rejected at compile time. */
export class InvalidExpression extends Error {}

export interface CompiledExpression {
  readonly source: string;
  /** True when the expression holds for these groups. Throws ExprRuntimeError or BudgetExceeded. */
  evaluate(groups: readonly string[], budget?: { left: number }): boolean;
}

export function compileExpression(source: string): CompiledExpression {
  let ast: Node;
  try {
    ast = parse(source);
  } catch (e) {
    if (e instanceof ExprSyntaxError || e instanceof ExprTypeError) throw new InvalidExpression(e.message);
    if (e instanceof RangeError) throw new InvalidExpression("expression too complex"); // stack exhaustion, belt and braces
    throw e;
  }
  return {
    source,
    evaluate: (groups, budget = { left: DEFAULT_STEP_BUDGET }) => evaluate(ast, groups, budget),
  };
}

