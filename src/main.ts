#!/usr/bin/env bun
// opendepot <role>: one binary, several roles (ARCHITECTURE.md).
import { formatHelp, parseFlags, UsageError, type FlagSpec } from "./cli/flags.ts";
import { runStandalone, STANDALONE_FLAGS } from "./roles/standalone.ts";
import { runKeygen, KEYGEN_FLAGS } from "./roles/keygen.ts";
import { CONTROLLER_ROLE_FLAGS, runController } from "./roles/controller-role.ts";
import { runServe, SERVE_FLAGS } from "./roles/serve.ts";

interface Role {
  summary: string;
  flags: FlagSpec[];
  run(flags: Record<string, string | undefined>): Promise<unknown>;
}

const ROLES: Record<string, Role> = {
  standalone: { summary: "Store, controllers and registry server in one process (the embedded default)", flags: STANDALONE_FLAGS, run: runStandalone },
  serve: { summary: "Registry server reading the Kubernetes API (stateless; run N replicas)", flags: SERVE_FLAGS, run: runServe },
  controller: { summary: "Controllers against the Kubernetes API, one leader-elected Lease per controller group", flags: CONTROLLER_ROLE_FLAGS, run: runController },
  keygen: { summary: "Write a new RSA OpenPGP key pair for signing provider SHA256SUMS", flags: KEYGEN_FLAGS, run: runKeygen },
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
  const role = ROLES[roleName];
  if (!role) {
    console.error(`unknown role "${roleName}"\n\n${usage()}`);
    return 2;
  }
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
