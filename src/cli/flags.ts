// Command-line flags with environment-variable equivalents. One table per role drives parsing and --help, and
// checks every value (from the command line, the environment or the default) before the role starts anything, so a
// bad value fails at once with a message that names the flag, not halfway through start-up.
import { parseDuration } from "./duration.ts";

export interface FlagSpec {
  name: string; // without the leading --
  env?: string;
  description: string;
  default?: string;
  boolean?: boolean;
  /** Throws an Error saying what is wrong with the value (see `checks`). */
  check?: (value: string) => void;
}

export class UsageError extends Error {}

/** Value checks for FlagSpec.check. */
export const checks = {
  duration: (value: string) => void parseDuration(value),
  integer: (min: number, max: number) => (value: string) => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isInteger(n) || n < min || n > max) throw new Error(`must be an integer from ${min} to ${max}, got "${value.slice(0, 32)}"`);
  },
  oneOf: (allowed: readonly string[]) => (value: string) => {
    if (!allowed.includes(value)) throw new Error(`must be one of ${allowed.join(", ")}, got "${value.slice(0, 32)}"`);
  },
  /** A comma-separated list whose items are all allowed (empty = none). */
  listOf: (allowed: readonly string[]) => (value: string) => {
    for (const item of value.split(",").map((s) => s.trim()).filter(Boolean)) if (!allowed.includes(item)) throw new Error(`unknown item "${item.slice(0, 32)}": choose from ${allowed.join(", ")}`);
  },
  /** host:port; `off` or empty disable the listener when `disable` is set. */
  listen: (disable = false) => (value: string) => {
    if (disable && (value === "" || value === "off")) return;
    parseListen(value);
  },
  url: (value: string) => {
    if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol)) throw new Error(`must be an http(s) URL, got "${value.slice(0, 64)}"`);
  },
};

/** Parse `--flag value`, `--flag=value` and boolean `--flag`/`--flag=false`; env vars fill what flags don't. */
export function parseFlags(specs: FlagSpec[], argv: string[], env: Record<string, string | undefined> = process.env): Record<string, string | undefined> {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const values: Record<string, string | undefined> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("--")) throw new UsageError(`unexpected argument "${arg}"`);
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const spec = byName.get(name);
    if (!spec) throw new UsageError(`unknown flag --${name}`);
    if (eq !== -1) values[name] = arg.slice(eq + 1);
    else if (spec.boolean) values[name] = "true";
    else {
      const next = argv[++i];
      if (next === undefined) throw new UsageError(`flag --${name} needs a value`);
      values[name] = next;
    }
  }
  const fromEnv = new Set<string>();
  for (const spec of specs) {
    if (values[spec.name] === undefined && spec.env && env[spec.env] !== undefined && env[spec.env] !== "") {
      values[spec.name] = env[spec.env];
      fromEnv.add(spec.name);
    }
    if (values[spec.name] === undefined) values[spec.name] = spec.default;
  }
  for (const spec of specs) {
    const value = values[spec.name];
    if (value === undefined) continue;
    const where = `--${spec.name}${fromEnv.has(spec.name) ? ` (from ${spec.env})` : ""}`;
    if (spec.boolean && !["true", "false"].includes(value)) throw new UsageError(`flag ${where} takes true or false, got "${value.slice(0, 32)}"`);
    try {
      spec.check?.(value);
    } catch (e) {
      throw new UsageError(`flag ${where}: ${(e as Error).message}`);
    }
  }
  return values;
}

export function formatHelp(usage: string, specs: FlagSpec[]): string {
  const lines = [usage, "", "Flags:"];
  for (const s of specs) {
    const left = `  --${s.name}${s.boolean ? "" : " VALUE"}`;
    const extra = [s.env ? `env ${s.env}` : "", s.default !== undefined ? `default ${JSON.stringify(s.default)}` : ""].filter(Boolean).join("; ");
    lines.push(`${left.padEnd(34)} ${s.description}${extra ? ` (${extra})` : ""}`);
  }
  return lines.join("\n");
}

/** `host:port`, `:port` or `port` → hostname/port. */
export function parseListen(text: string): { hostname: string; port: number } {
  const m = /^(?:(\[[^\]]+\]|[^:]*):)?(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new UsageError(`invalid listen address "${text}": use host:port, e.g. 127.0.0.1:8080`);
  return { hostname: (m[1] || "0.0.0.0").replace(/^\[|\]$/g, ""), port };
}
