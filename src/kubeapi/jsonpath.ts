// The JSONPath subset printer columns use: `.a.b`, `.a[0]`, `.a[*].b`, `['key']` and filters
// `[?(@.type=="Ready")]` with == / != against string, number or boolean literals. Compiled once per column.

type Step =
  | { kind: "field"; name: string }
  | { kind: "index"; index: number }
  | { kind: "all" }
  | { kind: "filter"; path: string[]; op: "==" | "!="; value: unknown };

export class JsonPathError extends Error {}

export function compileJsonPath(expression: string): (value: unknown) => unknown[] {
  const steps = parse(expression);
  return (value) => evaluate(steps, value);
}

function parse(expression: string): Step[] {
  let s = expression.trim();
  if (s.startsWith("{") && s.endsWith("}")) s = s.slice(1, -1).trim();
  if (s.startsWith("$")) s = s.slice(1);
  const steps: Step[] = [];
  let i = 0;
  const fail = (why: string): never => {
    throw new JsonPathError(`invalid JSONPath ${JSON.stringify(expression)}: ${why}`);
  };
  while (i < s.length) {
    const c = s[i]!;
    if (c === ".") {
      i++;
      const m = /^[A-Za-z0-9_\-$]+/.exec(s.slice(i));
      if (!m) {
        if (s[i] === "[" || i === s.length) continue;
        fail(`expected a field name at ${i}`);
      }
      steps.push({ kind: "field", name: m![0] });
      i += m![0].length;
    } else if (c === "[") {
      const close = findClose(s, i);
      if (close < 0) fail("unclosed '['");
      const inner = s.slice(i + 1, close).trim();
      i = close + 1;
      if (inner === "*") steps.push({ kind: "all" });
      else if (/^-?\d+$/.test(inner)) steps.push({ kind: "index", index: Number(inner) });
      else if (/^'[^']*'$/.test(inner) || /^"[^"]*"$/.test(inner)) steps.push({ kind: "field", name: inner.slice(1, -1) });
      else if (inner.startsWith("?(") && inner.endsWith(")")) steps.push(parseFilter(inner.slice(2, -1).trim(), fail));
      else fail(`unsupported selector [${inner}]`);
    } else {
      const m = /^[A-Za-z0-9_\-$]+/.exec(s.slice(i));
      if (!m || steps.length) fail(`unexpected ${JSON.stringify(c)} at ${i}`);
      steps.push({ kind: "field", name: m![0] });
      i += m![0].length;
    }
  }
  return steps;
}

function findClose(s: string, open: number): number {
  let quote: string | undefined;
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === "[" || c === "(") depth++;
    else if (c === "]" || c === ")") {
      depth--;
      if (depth === 0 && c === "]") return i;
    }
  }
  return -1;
}

function parseFilter(expr: string, fail: (why: string) => never): Step {
  const m = /^@((?:\.[A-Za-z0-9_\-]+)+)\s*(==|!=)\s*(.+)$/.exec(expr);
  if (!m) return fail(`unsupported filter ${expr}`);
  const literal = m[3]!.trim();
  let value: unknown;
  if (/^"[^"]*"$/.test(literal) || /^'[^']*'$/.test(literal)) value = literal.slice(1, -1);
  else if (/^-?\d+(\.\d+)?$/.test(literal)) value = Number(literal);
  else if (literal === "true" || literal === "false") value = literal === "true";
  else return fail(`unsupported literal ${literal}`);
  return { kind: "filter", path: m[1]!.slice(1).split("."), op: m[2] as "==" | "!=", value };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function evaluate(steps: Step[], root: unknown): unknown[] {
  let current: unknown[] = [root];
  for (const step of steps) {
    const next: unknown[] = [];
    for (const v of current) {
      switch (step.kind) {
        case "field":
          if (isObject(v) && Object.hasOwn(v, step.name)) next.push(v[step.name]);
          break;
        case "index":
          if (Array.isArray(v)) {
            const i = step.index < 0 ? v.length + step.index : step.index;
            if (i >= 0 && i < v.length) next.push(v[i]);
          }
          break;
        case "all":
          if (Array.isArray(v)) next.push(...v);
          else if (isObject(v)) next.push(...Object.values(v));
          break;
        case "filter":
          if (Array.isArray(v)) {
            for (const item of v) {
              let field: unknown = item;
              for (const p of step.path) field = isObject(field) ? field[p] : undefined;
              if (field !== undefined && (field === step.value) === (step.op === "==")) next.push(item);
            }
          }
          break;
      }
    }
    current = next;
  }
  return current.filter((v) => v !== undefined);
}
