// A small `expect` for running the bun:test unit tests under Deno (see bun-test-shim.ts): the matchers those tests
// use, with bun:test's semantics (toEqual ignores undefined properties and compares typed arrays, Maps, Sets,
// Dates and RegExps by value; toMatchObject matches a subset; .not, .resolves, .rejects; expect.stringMatching,
// expect.any, expect.anything, expect.objectContaining, expect.arrayContaining). No dependency: it runs offline.

export class AssertionError extends Error {
  override name = "AssertionError";
}

abstract class Asymmetric {
  abstract matches(actual: unknown): boolean;
  abstract describe(): string;
}

class StringMatching extends Asymmetric {
  constructor(private readonly pattern: string | RegExp) {
    super();
  }
  matches = (actual: unknown) => typeof actual === "string" && (typeof this.pattern === "string" ? actual.includes(this.pattern) : this.pattern.test(actual));
  describe = () => `StringMatching ${String(this.pattern)}`;
}

class Any extends Asymmetric {
  constructor(private readonly type: unknown) {
    super();
  }
  matches = (actual: unknown) => {
    const t = this.type;
    if (t === String) return typeof actual === "string" || actual instanceof String;
    if (t === Number) return typeof actual === "number" || actual instanceof Number;
    if (t === Boolean) return typeof actual === "boolean";
    if (t === BigInt) return typeof actual === "bigint";
    if (t === Function) return typeof actual === "function";
    if (t === Object) return typeof actual === "object" && actual !== null;
    return typeof t === "function" && actual instanceof (t as new (...a: never[]) => unknown);
  };
  describe = () => `Any<${(this.type as { name?: string })?.name ?? "?"}>`;
}

class Anything extends Asymmetric {
  matches = (actual: unknown) => actual !== null && actual !== undefined;
  describe = () => "Anything";
}

class ObjectContaining extends Asymmetric {
  constructor(private readonly expected: Record<string, unknown>) {
    super();
  }
  matches = (actual: unknown) => matchesObject(actual, this.expected);
  describe = () => `ObjectContaining ${show(this.expected)}`;
}

class ArrayContaining extends Asymmetric {
  constructor(private readonly expected: unknown[]) {
    super();
  }
  matches = (actual: unknown) => Array.isArray(actual) && this.expected.every((e) => actual.some((a) => equals(a, e)));
  describe = () => `ArrayContaining ${show(this.expected)}`;
}

function show(value: unknown): string {
  const inspect = (globalThis as { Deno?: { inspect(v: unknown, o: object): string } }).Deno?.inspect;
  if (inspect) return inspect(value, { depth: 8, colors: false, strAbbreviateSize: 2000, iterableLimit: 200 });
  try {
    return JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? `${v}n` : v));
  } catch {
    return String(value);
  }
}

const isObject = (v: unknown): v is Record<string | symbol, unknown> => typeof v === "object" && v !== null;

/** bun:test's toEqual (strict: toStrictEqual — undefined properties and classes count). */
export function equals(a: unknown, b: unknown, strict = false): boolean {
  if (b instanceof Asymmetric) return b.matches(a);
  if (a instanceof Asymmetric) return a.matches(b);
  if (Object.is(a, b)) return true;
  if (!isObject(a) || !isObject(b)) return false;
  if (strict && Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (a instanceof Date || b instanceof Date) return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  if (a instanceof RegExp || b instanceof RegExp) return a instanceof RegExp && b instanceof RegExp && String(a) === String(b);
  if (ArrayBuffer.isView(a) || ArrayBuffer.isView(b)) {
    if (!ArrayBuffer.isView(a) || !ArrayBuffer.isView(b) || a.constructor !== b.constructor && strict) return false;
    const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    return x.length === y.length && x.every((v, i) => v === y[i]);
  }
  if (a instanceof Map || b instanceof Map) {
    if (!(a instanceof Map && b instanceof Map) || a.size !== b.size) return false;
    for (const [k, v] of a) if (!b.has(k) || !equals(v, b.get(k), strict)) return false;
    return true;
  }
  if (a instanceof Set || b instanceof Set) {
    if (!(a instanceof Set && b instanceof Set) || a.size !== b.size) return false;
    for (const v of a) if (!b.has(v) && ![...b].some((w) => equals(v, w, strict))) return false;
    return true;
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return false;
    return a.every((v, i) => equals(v, b[i], strict));
  }
  if (a instanceof Error && b instanceof Error && a.message !== b.message) return false;
  const keys = (o: Record<string | symbol, unknown>) => Object.keys(o).filter((k) => strict || o[k] !== undefined);
  const ka = keys(a);
  const kb = keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && equals(a[k], b[k], strict));
}

/** toMatchObject: every property of `expected` matches in `actual` (recursively; arrays element by element). */
function matchesObject(actual: unknown, expected: unknown): boolean {
  if (expected instanceof Asymmetric) return expected.matches(actual);
  if (Array.isArray(expected)) return Array.isArray(actual) && actual.length === expected.length && expected.every((e, i) => matchesObject(actual[i], e));
  if (isObject(expected) && !(expected instanceof Date) && !(expected instanceof RegExp) && !ArrayBuffer.isView(expected) && !(expected instanceof Map) && !(expected instanceof Set)) {
    if (!isObject(actual)) return false;
    return Object.keys(expected).every((k) => k in actual && matchesObject(actual[k], expected[k]));
  }
  return equals(actual, expected);
}

function thrownMatches(error: unknown, expected: unknown): string | undefined {
  if (expected === undefined) return undefined;
  const message = error instanceof Error ? error.message : String(error);
  if (typeof expected === "string") return message.includes(expected) ? undefined : `message ${show(message)} does not contain ${show(expected)}`;
  if (expected instanceof RegExp) return expected.test(message) ? undefined : `message ${show(message)} does not match ${String(expected)}`;
  if (typeof expected === "function") return error instanceof (expected as new (...a: never[]) => unknown) ? undefined : `${show(error)} is not an instance of ${(expected as { name: string }).name}`;
  if (expected instanceof Error) return message === expected.message ? undefined : `message ${show(message)} is not ${show(expected.message)}`;
  if (isObject(expected)) return matchesObject(error, expected) ? undefined : `${show(error)} does not match ${show(expected)}`;
  return `unsupported toThrow argument ${show(expected)}`;
}

type Matcher = (actual: unknown, ...args: never[]) => { pass: boolean; message: string };

const compare = (name: string, test: (a: number | bigint, b: number | bigint) => boolean): Matcher =>
  ((actual: number | bigint, expected: number | bigint) => ({ pass: (typeof actual === "number" || typeof actual === "bigint") && test(actual, expected), message: `expected ${show(actual)} ${name} ${show(expected)}` })) as Matcher;

const MATCHERS: Record<string, Matcher> = {
  toBe: ((a: unknown, e: unknown) => ({ pass: Object.is(a, e), message: `expected ${show(a)} to be ${show(e)}` })) as Matcher,
  toEqual: ((a: unknown, e: unknown) => ({ pass: equals(a, e), message: `expected ${show(a)}\nto equal ${show(e)}` })) as Matcher,
  toStrictEqual: ((a: unknown, e: unknown) => ({ pass: equals(a, e, true), message: `expected ${show(a)}\nto strictly equal ${show(e)}` })) as Matcher,
  toMatchObject: ((a: unknown, e: unknown) => ({ pass: matchesObject(a, e), message: `expected ${show(a)}\nto match object ${show(e)}` })) as Matcher,
  toContain: ((a: unknown, e: unknown) => ({
    pass: typeof a === "string" ? typeof e === "string" && a.includes(e) : a != null && typeof (a as Iterable<unknown>)[Symbol.iterator] === "function" && [...(a as Iterable<unknown>)].some((v) => v === e),
    message: `expected ${show(a)} to contain ${show(e)}`,
  })) as Matcher,
  toContainEqual: ((a: unknown, e: unknown) => ({ pass: Array.isArray(a) && a.some((v) => equals(v, e)), message: `expected ${show(a)} to contain an element equal to ${show(e)}` })) as Matcher,
  toHaveLength: ((a: { length?: number }, n: number) => ({ pass: a != null && a.length === n, message: `expected length ${show(a?.length)} (of ${show(a)}) to be ${n}` })) as Matcher,
  toMatch: ((a: unknown, e: string | RegExp) => ({ pass: typeof a === "string" && (typeof e === "string" ? a.includes(e) : e.test(a)), message: `expected ${show(a)} to match ${String(e)}` })) as Matcher,
  toStartWith: ((a: unknown, e: string) => ({ pass: typeof a === "string" && a.startsWith(e), message: `expected ${show(a)} to start with ${show(e)}` })) as Matcher,
  toEndWith: ((a: unknown, e: string) => ({ pass: typeof a === "string" && a.endsWith(e), message: `expected ${show(a)} to end with ${show(e)}` })) as Matcher,
  toBeOneOf: ((a: unknown, list: unknown[]) => ({ pass: Array.isArray(list) && list.some((v) => equals(a, v)), message: `expected ${show(a)} to be one of ${show(list)}` })) as Matcher,
  toBeString: ((a: unknown) => ({ pass: typeof a === "string", message: `expected ${show(a)} to be a string` })) as Matcher,
  toBeUndefined: ((a: unknown) => ({ pass: a === undefined, message: `expected ${show(a)} to be undefined` })) as Matcher,
  toBeDefined: ((a: unknown) => ({ pass: a !== undefined, message: `expected ${show(a)} to be defined` })) as Matcher,
  toBeNull: ((a: unknown) => ({ pass: a === null, message: `expected ${show(a)} to be null` })) as Matcher,
  toBeTruthy: ((a: unknown) => ({ pass: !!a, message: `expected ${show(a)} to be truthy` })) as Matcher,
  toBeFalsy: ((a: unknown) => ({ pass: !a, message: `expected ${show(a)} to be falsy` })) as Matcher,
  toBeInstanceOf: ((a: unknown, c: new (...x: never[]) => unknown) => ({ pass: a instanceof c, message: `expected ${show(a)} to be an instance of ${c?.name}` })) as Matcher,
  toBeGreaterThan: compare(">", (a, b) => a > b),
  toBeGreaterThanOrEqual: compare(">=", (a, b) => a >= b),
  toBeLessThan: compare("<", (a, b) => a < b),
  toBeLessThanOrEqual: compare("<=", (a, b) => a <= b),
};

function callThrows(fn: unknown): { threw: boolean; error?: unknown } {
  if (typeof fn !== "function") throw new AssertionError(`toThrow expects a function, got ${show(fn)}`);
  try {
    fn();
    return { threw: false };
  } catch (error) {
    return { threw: true, error };
  }
}

function toThrowResult(outcome: { threw: boolean; error?: unknown }, expected: unknown) {
  if (!outcome.threw) return { pass: false, message: "expected the function to throw" };
  const mismatch = thrownMatches(outcome.error, expected);
  return { pass: mismatch === undefined, message: mismatch ?? `expected not to throw, but it threw ${show(outcome.error)}` };
}

type Mode = "value" | "resolves" | "rejects";

function matchers(actual: unknown, negate: boolean, mode: Mode): Record<string, (...args: unknown[]) => unknown> {
  const check = (result: { pass: boolean; message: string }, name: string) => {
    if (result.pass === negate) throw new AssertionError(`${negate ? "not." : ""}${name}: ${negate ? result.message.replace(/\bexpected\b/, "expected not") : result.message}`);
  };
  const target: Record<string, (...args: unknown[]) => unknown> = {};
  for (const [name, matcher] of Object.entries(MATCHERS)) {
    target[name] = (...args: unknown[]) => {
      if (mode === "value") return check((matcher as (...a: unknown[]) => { pass: boolean; message: string })(actual, ...args), name);
      return (async () => {
        let settled: unknown;
        try {
          settled = await actual;
          if (mode === "rejects") throw new AssertionError(`rejects.${name}: the promise resolved with ${show(settled)}`);
        } catch (e) {
          if (e instanceof AssertionError) throw e;
          if (mode === "resolves") throw new AssertionError(`resolves.${name}: the promise rejected with ${show(e)}`);
          settled = e;
        }
        check((matcher as (...a: unknown[]) => { pass: boolean; message: string })(settled, ...args), `${mode}.${name}`);
      })();
    };
  }
  target.toThrow = (expected?: unknown) => {
    if (mode === "value") return check(toThrowResult(callThrows(actual), expected), "toThrow");
    return (async () => {
      try {
        const value = await actual;
        if (mode === "rejects") throw new AssertionError(`rejects.toThrow: the promise resolved with ${show(value)}`);
        check({ pass: false, message: "expected the promise to reject" }, "resolves.toThrow");
      } catch (e) {
        if (e instanceof AssertionError) throw e;
        check(toThrowResult({ threw: true, error: e }, expected), `${mode}.toThrow`);
      }
    })();
  };
  return target;
}

interface ExpectFn {
  (actual: unknown): Record<string, (...args: unknown[]) => unknown> & {
    not: Record<string, (...args: unknown[]) => unknown>;
    resolves: Record<string, (...args: unknown[]) => unknown> & { not: Record<string, (...args: unknown[]) => unknown> };
    rejects: Record<string, (...args: unknown[]) => unknown> & { not: Record<string, (...args: unknown[]) => unknown> };
  };
  stringMatching(pattern: string | RegExp): unknown;
  any(type: unknown): unknown;
  anything(): unknown;
  objectContaining(expected: Record<string, unknown>): unknown;
  arrayContaining(expected: unknown[]): unknown;
}

export const expect: ExpectFn = Object.assign(
  (actual: unknown) =>
    Object.assign(matchers(actual, false, "value"), {
      not: matchers(actual, true, "value"),
      resolves: Object.assign(matchers(actual, false, "resolves"), { not: matchers(actual, true, "resolves") }),
      rejects: Object.assign(matchers(actual, false, "rejects"), { not: matchers(actual, true, "rejects") }),
    }),
  {
    stringMatching: (pattern: string | RegExp) => new StringMatching(pattern),
    any: (type: unknown) => new Any(type),
    anything: () => new Anything(),
    objectContaining: (expected: Record<string, unknown>) => new ObjectContaining(expected),
    arrayContaining: (expected: unknown[]) => new ArrayContaining(expected),
  },
);
