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
