#!/usr/bin/env bun
// opendepot <role>: one binary, several roles (ARCHITECTURE.md).
import { formatHelp, parseFlags, UsageError, type FlagSpec } from "./cli/flags.ts";

interface Role {
  summary: string;
  /** Loaded on demand: a process imports only the role it runs (a role's module graph is most of its startup). */
  load(): Promise<{ flags: FlagSpec[]; run(flags: Record<string, string | undefined>): Promise<unknown> }>;
}

const ROLES: Record<string, Role> = {
  standalone: { summary: "Store, controllers and registry server in one process (the embedded default)", load: async () => { const m = await import("./roles/standalone.ts"); return { flags: m.STANDALONE_FLAGS, run: m.runStandalone }; } },
  serve: { summary: "Registry server reading the Kubernetes API (stateless; run N replicas)", load: async () => { const m = await import("./roles/serve.ts"); return { flags: m.SERVE_FLAGS, run: m.runServe }; } },
  controller: { summary: "Controllers against the Kubernetes API, one leader-elected Lease per controller group", load: async () => { const m = await import("./roles/controller-role.ts"); return { flags: m.CONTROLLER_ROLE_FLAGS, run: m.runController }; } },
  keygen: { summary: "Write a new RSA OpenPGP key pair for signing provider SHA256SUMS", load: async () => { const m = await import("./roles/keygen.ts"); return { flags: m.KEYGEN_FLAGS, run: m.runKeygen }; } },
};

function usage(): string {
  const lines = ["Usage: opendepot <role> [flags]", "", "Roles:"];
  for (const [name, role] of Object.entries(ROLES)) lines.push(`  ${name.padEnd(12)} ${role.summary}`);
  lines.push("", "Run `opendepot <role> --help` for the flags of a role.");
  return lines.join("\n");
}

export async function main(argv: string[]): Promise<number> {
  const [roleName, ...rest] = argv;
  if (!roleName || roleName === "--help" || roleName === "-h" || roleName === "help") {
    console.log(usage());
    return roleName ? 0 : 2;
  }
  const entry = ROLES[roleName];
  if (!entry) {
    console.error(`unknown role "${roleName}"\n\n${usage()}`);
    return 2;
  }
  const role = { summary: entry.summary, ...(await entry.load()) };
  if (rest.includes("--help") || rest.includes("-h")) {
    console.log(formatHelp(`Usage: opendepot ${roleName} [flags]\n\n${role.summary}.`, role.flags));
    return 0;
  }
  try {
    await role.run(parseFlags(role.flags, rest));
    return -1; // long-running roles keep the process alive
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`${e.message}\n\n${formatHelp(`Usage: opendepot ${roleName} [flags]`, role.flags)}`);
      return 2;
    }
    console.error(JSON.stringify({ time: new Date().toISOString(), level: "error", msg: "fatal", error: (e as Error).message }));
    return 1;
  }
}

if (import.meta.main) {
  const code = await main(process.argv.slice(2));
  if (code >= 0) process.exit(code);
}
