// Every role's flag table: each flag has an environment variable, and the defaults pass their own checks.
import { describe, expect, test } from "bun:test";
import { parseFlags } from "../cli/flags.ts";
import { STANDALONE_FLAGS } from "./standalone.ts";
import { SERVE_FLAGS } from "./serve.ts";
import { CONTROLLER_ROLE_FLAGS } from "./controller.ts";
import { KEYGEN_FLAGS } from "./keygen.ts";

describe("every role's flags", () => {
  test("every flag has an environment variable, and no two flags share one", () => {
    for (const [role, specs] of Object.entries({ standalone: STANDALONE_FLAGS, serve: SERVE_FLAGS, controller: CONTROLLER_ROLE_FLAGS, keygen: KEYGEN_FLAGS })) {
      expect({ role, missing: specs.filter((s) => !s.env).map((s) => s.name) }).toEqual({ role, missing: [] });
      const envs = specs.map((s) => s.env);
      expect({ role, envs: envs.length }).toEqual({ role, envs: new Set(envs).size });
    }
  });

  test("the defaults of every role pass their own checks", () => {
    for (const specs of [STANDALONE_FLAGS, SERVE_FLAGS, CONTROLLER_ROLE_FLAGS, KEYGEN_FLAGS]) expect(() => parseFlags(specs, [], {})).not.toThrow();
  });
});

describe("README's flag tables match the code", () => {
  const readme = require("node:fs").readFileSync(new URL("../../README.md", import.meta.url), "utf8") as string;
  const rows = readme.split("\n").filter((l) => /^\| `--/.test(l)).map((l) => l.split("|").slice(1, 4).map((c) => c.trim()));
  const code = (s: string) => [...s.matchAll(/`([^`]*)`/g)].map((m) => m[1]!);

  test("every documented flag exists with its environment variable and default", () => {
    expect(rows.length).toBeGreaterThan(20);
    for (const [flags, envs, defaults] of rows) {
      const names = code(flags!).map((f) => f.replace(/^--/, ""));
      const vars = code(envs!);
      const defaultCells = defaults!.split(" / ");
      names.forEach((name, i) => {
        // Most rows are standalone's; a row may name a flag only serve or controller has (marked so in the README).
        const spec = [STANDALONE_FLAGS, SERVE_FLAGS, CONTROLLER_ROLE_FLAGS].map((specs) => specs.find((s) => s.name === name)).find(Boolean);
        expect({ name, known: spec !== undefined }).toEqual({ name, known: true });
        const env = vars[i];
        expect({ name, env: spec!.env }).toEqual({ name, env });
        const documented = (defaultCells[i] ?? defaultCells[0]!).match(/^`([^`]*)`/)?.[1];
        if (documented !== undefined && spec!.default !== undefined && !documented.startsWith("--")) expect({ name, default: spec!.default }).toEqual({ name, default: documented });
      });
    }
  });

  test("every standalone flag is documented somewhere in the README", () => {
    for (const spec of STANDALONE_FLAGS) expect({ flag: spec.name, documented: readme.includes(`--${spec.name}`) }).toEqual({ flag: spec.name, documented: true });
  });
});
