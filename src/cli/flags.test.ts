import { describe, expect, test } from "bun:test";
import { checks, parseFlags, UsageError, type FlagSpec } from "./flags.ts";

const SPECS: FlagSpec[] = [
  { name: "ttl", env: "T_TTL", default: "15m", description: "", check: checks.duration },
  { name: "workers", env: "T_WORKERS", default: "4", description: "", check: checks.integer(1, 64) },
  { name: "on", env: "T_ON", boolean: true, default: "false", description: "" },
  { name: "admin", env: "T_ADMIN", default: "127.0.0.1:8081", description: "", check: checks.listen(true) },
];
const usage = (argv: string[], env: Record<string, string> = {}) => {
  try {
    parseFlags(SPECS, argv, env);
    return "accepted";
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
};

describe("parseFlags checks every value before anything starts", () => {
  test("good values, from flags, the environment or defaults, pass", () => {
    expect(parseFlags(SPECS, ["--ttl", "1h30m", "--admin=off"], { T_WORKERS: "8", T_ON: "true" })).toEqual({ ttl: "1h30m", workers: "8", on: "true", admin: "off" });
  });

  test("a bad value names the flag, and the environment variable it came from", () => {
    expect(usage(["--ttl", "forever"])).toBe('flag --ttl: invalid duration "forever": use e.g. 90s, 15m, 1h30m');
    expect(usage([], { T_WORKERS: "0" })).toBe('flag --workers (from T_WORKERS): must be an integer from 1 to 64, got "0"');
    expect(usage([], { T_ON: "yes" })).toBe('flag --on (from T_ON) takes true or false, got "yes"');
    expect(usage(["--on=maybe"])).toBe('flag --on takes true or false, got "maybe"');
    expect(usage(["--admin", "nowhere"])).toContain("flag --admin: invalid listen address");
  });
});
