// Command-line flags with environment-variable equivalents. One table per role drives parsing and --help.
export interface FlagSpec {
  name: string; // without the leading --
  env?: string;
  description: string;
  default?: string;
  boolean?: boolean;
}

export class UsageError extends Error {}

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
    if (spec.boolean && !["true", "false"].includes(values[name]!)) throw new UsageError(`flag --${name} takes true or false`);
  }
  for (const spec of specs) {
    if (values[spec.name] === undefined && spec.env && env[spec.env] !== undefined && env[spec.env] !== "") values[spec.name] = env[spec.env];
    if (values[spec.name] === undefined) values[spec.name] = spec.default;
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
