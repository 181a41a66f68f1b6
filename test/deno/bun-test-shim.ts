// `bun:test` on Deno: deno.json's import map sends `import … from "bun:test"` here, so the unit tests run
// unchanged under `deno test`. Each `test` becomes one `Deno.test` named "describe > … > test", registered in
// source order (Deno runs a module's tests in that order, one at a time), and the describe-scoped hooks run around
// them as bun:test runs them: beforeAll before a scope's first test, afterAll after its last, beforeEach/afterEach
// around each test, outermost first. Timeouts given to `test` are bun:test's; Deno runs without them.
import { BUN_ONLY_TESTS } from "./bun-only.ts";
export { expect } from "./expect.ts";

type Fn = () => unknown;
type TestFn = (...args: never[]) => unknown;

interface Scope {
  name: string;
  parent?: Scope;
  beforeAll: Fn[];
  afterAll: Fn[];
  beforeEach: Fn[];
  afterEach: Fn[];
  /** Tests registered in this scope and the scopes inside it. */
  total: number;
  finished: number;
  started: boolean;
  setupError?: unknown;
}

interface DenoTestApi {
  test(options: { name: string; fn: () => Promise<void>; ignore?: boolean; only?: boolean; sanitizeOps: boolean; sanitizeResources: boolean; sanitizeExit: boolean }): void;
}

const denoTest = () => (globalThis as unknown as { Deno: DenoTestApi }).Deno;

const newScope = (name: string, parent?: Scope): Scope => ({ name, parent, beforeAll: [], afterAll: [], beforeEach: [], afterEach: [], total: 0, finished: 0, started: false });
const root = newScope("");
let current = root;

const chain = (scope: Scope): Scope[] => {
  const scopes: Scope[] = [];
  for (let s: Scope | undefined = scope; s; s = s.parent) scopes.unshift(s);
  return scopes;
};

async function runTest(scope: Scope, fn: TestFn, args: unknown[]): Promise<void> {
  const scopes = chain(scope);
  let failure: unknown;
  let failed = false;
  try {
    for (const s of scopes) {
      if (!s.started) {
        s.started = true;
        try {
          for (const hook of s.beforeAll) await hook();
        } catch (e) {
          s.setupError = e;
        }
      }
      if (s.setupError !== undefined) throw s.setupError;
    }
    for (const s of scopes) for (const hook of s.beforeEach) await hook();
    try {
      await (fn as (...a: unknown[]) => unknown)(...args);
    } finally {
      for (const s of [...scopes].reverse()) for (const hook of s.afterEach) await hook();
    }
  } catch (e) {
    failed = true;
    failure = e;
  }
  for (const s of [...scopes].reverse()) {
    s.finished++;
    if (s.finished === s.total) {
      try {
        for (const hook of s.afterAll) await hook();
      } catch (e) {
        if (!failed) [failed, failure] = [true, e];
      }
    }
  }
  if (failed) throw failure;
}

function register(name: string, fn: TestFn, args: unknown[] = [], options: { skip?: boolean; only?: boolean } = {}): void {
  const scope = current;
  const full = [...chain(scope).map((s) => s.name).filter(Boolean), name].join(" > ");
  if (options.skip || BUN_ONLY_TESTS.has(full)) {
    denoTest().test({ name: full, fn: async () => {}, ignore: true, sanitizeOps: false, sanitizeResources: false, sanitizeExit: false });
    return;
  }
  for (const s of chain(scope)) s.total++;
  denoTest().test({
    name: full,
    fn: () => runTest(scope, fn, args),
    ...(options.only ? { only: true } : {}),
    // Suites keep servers and temp files open from beforeAll to afterAll, across tests: bun:test does not check.
    sanitizeOps: false,
    sanitizeResources: false,
    sanitizeExit: false,
  });
}

/** printf-style test names of test.each: %s %p %d %i %j %o %#, as bun:test formats them. */
function formatName(template: string, row: unknown[], index: number): string {
  let i = 0;
  return template.replace(/%[spdifjo#%]/g, (token) => {
    if (token === "%%") return "%";
    if (token === "%#") return String(index);
    const value = row[i++];
    if (token === "%s") return typeof value === "string" ? value : String(value);
    if (token === "%d" || token === "%i") return String(Math.trunc(Number(value)));
    if (token === "%f") return String(Number(value));
    try {
      return JSON.stringify(value) ?? String(value);
    } catch {
      return String(value);
    }
  });
}

const each =
  (options: { skip?: boolean; only?: boolean } = {}) =>
  (table: readonly unknown[]) =>
  (name: string, fn: TestFn) => {
    table.forEach((row, index) => {
      const args = Array.isArray(row) ? row : [row];
      register(formatName(name, args, index), fn, args, options);
    });
  };

type TestApi = ((name: string, fn: TestFn, timeout?: number | object) => void) & {
  each: ReturnType<typeof each>;
  skip: (name: string, fn: TestFn, timeout?: number | object) => void;
  only: (name: string, fn: TestFn, timeout?: number | object) => void;
  todo: (name: string, fn?: TestFn) => void;
  if: (condition: boolean) => (name: string, fn: TestFn, timeout?: number | object) => void;
  skipIf: (condition: boolean) => (name: string, fn: TestFn, timeout?: number | object) => void;
};

export const test: TestApi = Object.assign((name: string, fn: TestFn) => register(name, fn), {
  each: each(),
  skip: (name: string, fn: TestFn) => register(name, fn, [], { skip: true }),
  only: (name: string, fn: TestFn) => register(name, fn, [], { only: true }),
  todo: (name: string, fn?: TestFn) => register(name, fn ?? (() => {}), [], { skip: true }),
  if: (condition: boolean) => (name: string, fn: TestFn) => register(name, fn, [], { skip: !condition }),
  skipIf: (condition: boolean) => (name: string, fn: TestFn) => register(name, fn, [], { skip: condition }),
});
export const it = test;

function runDescribe(name: string, body: () => unknown): void {
  const parent = current;
  current = newScope(name, parent);
  try {
    const result = body();
    if (result instanceof Promise) throw new Error(`describe("${name}") must be synchronous`);
  } finally {
    current = parent;
  }
}

export const describe = Object.assign(runDescribe, {
  each: (table: readonly unknown[]) => (name: string, body: (...args: never[]) => unknown) =>
    table.forEach((row, index) => {
      const args = Array.isArray(row) ? row : [row];
      runDescribe(formatName(name, args, index), () => (body as (...a: unknown[]) => unknown)(...args));
    }),
});

export const beforeAll = (fn: Fn) => void current.beforeAll.push(fn);
export const afterAll = (fn: Fn) => void current.afterAll.push(fn);
export const beforeEach = (fn: Fn) => void current.beforeEach.push(fn);
export const afterEach = (fn: Fn) => void current.afterEach.push(fn);
