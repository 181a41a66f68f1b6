// What makes a production file of src/ Bun-only: the Bun global, `bun` / `bun:*` modules, Bun-only import.meta
// fields and import attributes. Only the Bun implementation of the runtime adapter may use them; everything else
// goes through src/runtime/ (see src/runtime/README.md), Web APIs or `node:` modules.

/** src/-relative files allowed to be Bun-only, and why. */
export const BUN_ONLY: Record<string, string> = {
  "runtime/bun.ts": "the Bun implementation of the runtime adapter",
};

/** Files allowed exactly one thing: importing the test framework (they are test suites shared by several tests). */
export const TEST_SUITES: Record<string, string> = {
  "storage/conformance.ts": "the storage conformance suite every backend's test runs",
};

const RULES: { pattern: RegExp; what: string }[] = [
  { pattern: /\bBun\s*\.\s*[A-Za-z_$]/, what: "the Bun global" },
  { pattern: /(?:globalThis|typeof)\s*\.?\s*Bun\b/, what: "the Bun global" },
  { pattern: /\bfrom\s*["']bun(?::[^"']*)?["']|\b(?:import|require)\s*\(\s*["']bun(?::[^"']*)?["']|^\s*import\s*["']bun(?::[^"']*)?["']/, what: "a bun module" },
  { pattern: /\bimport\.meta\.(?:dir|file|path|require)\b/, what: "a Bun-only import.meta field (use import.meta.url / dirname / filename)" },
  { pattern: /\bwith\s*\{\s*type\s*:\s*["'](?:macro|file|sqlite|toml|napi)["']/, what: "a Bun-only import attribute" },
];

export interface RuntimeViolation {
  file: string;
  line: number;
  what: string;
  text: string;
}

/** Comments removed (line and block), strings and code kept, line numbers unchanged. */
function withoutComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\/|(^|[^:"'`\\])\/\/.*$/gm, (m, before: string | undefined) => (m.startsWith("/*") ? m.replace(/[^\n]/g, " ") : `${before ?? ""}`));
}

export function runtimeViolationsIn(file: string, source: string): RuntimeViolation[] {
  if (file in BUN_ONLY) return [];
  const original = source.split("\n");
  const out: RuntimeViolation[] = [];
  withoutComments(source)
    .split("\n")
    .forEach((code, i) => {
      for (const { pattern, what } of RULES) {
        if (!pattern.test(code)) continue;
        if (file in TEST_SUITES && /\bfrom\s*["']bun:test["']/.test(code) && !/\bBun\s*\./.test(code)) continue;
        out.push({ file, line: i + 1, what, text: original[i]!.trim() });
      }
    });
  return out;
}
