// The controllers' flags and names, apart from controller-manager.ts so that a role can parse them without
// importing every controller (standalone with --controllers "" never loads them).
import { checks, type FlagSpec } from "../cli/flags.ts";
import { SCAN_FLAGS } from "./scan-flags.ts";

export const CONTROLLER_NAMES = ["depot", "module", "provider", "version", "groupbinding"] as const;
export type ControllerName = (typeof CONTROLLER_NAMES)[number];

export const CONTROLLER_FLAGS: FlagSpec[] = [
  { name: "controllers", env: "OPENDEPOT_CONTROLLERS", default: CONTROLLER_NAMES.join(","), description: "Controllers to run (comma-separated; empty = none)", check: checks.listOf(CONTROLLER_NAMES) },
  { name: "version-concurrency", env: "OPENDEPOT_VERSION_CONCURRENCY", default: "4", description: "Versions synced in parallel", check: checks.integer(1, 64) },
  { name: "resync-interval", env: "OPENDEPOT_RESYNC_INTERVAL", default: "10m", description: "Reconcile every object at least this often", check: checks.duration },
  { name: "rehash-interval", env: "OPENDEPOT_REHASH_INTERVAL", default: "24h", description: "Fully re-hash stored artifacts this often", check: checks.duration },
  { name: "work-dir", env: "OPENDEPOT_WORK_DIR", description: "Scratch space for downloads (default: the system temp dir)" },
  { name: "github-api-url", env: "OPENDEPOT_GITHUB_API_URL", default: "https://api.github.com", description: "GitHub (or GitHub Enterprise /api/v3) API base URL", check: checks.url },
  { name: "opentofu-registry-url", env: "OPENDEPOT_OPENTOFU_REGISTRY_URL", default: "https://registry.opentofu.org", description: "Upstream provider registry base URL", check: checks.url },
  ...SCAN_FLAGS,
];

export function parseControllerList(text: string | undefined): ControllerName[] {
  const names = (text ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  for (const n of names) if (!(CONTROLLER_NAMES as readonly string[]).includes(n)) throw new Error(`unknown controller "${n}": choose from ${CONTROLLER_NAMES.join(", ")}`);
  return names as ControllerName[];
}
