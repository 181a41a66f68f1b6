// Scanning flags of the Version controller (v0.9's names, plus ours), on `controller` and `standalone`.
import { parseDuration } from "../cli/duration.ts";
import { checks, type FlagSpec } from "../cli/flags.ts";
import type { ScanSettings } from "../controllers/version-scan.ts";

export const SCAN_FLAGS: FlagSpec[] = [
  { name: "scanning-enabled", env: "OPENDEPOT_SCANNING_ENABLED", boolean: true, default: "false", description: "Scan provider builds (binary and go.mod) with Trivy before they are served" },
  { name: "scan-modules", env: "OPENDEPOT_SCAN_MODULES", boolean: true, default: "false", description: "Also scan module archives for IaC misconfigurations (needs --scanning-enabled)" },
  { name: "scan-offline", env: "OPENDEPOT_SCAN_OFFLINE", boolean: true, default: "true", description: "Never let Trivy download its DB or checks (air-gapped; the DB comes from the refresh job)" },
  { name: "trivy-cache-dir", env: "OPENDEPOT_TRIVY_CACHE_DIR", default: "/var/cache/trivy", description: "Trivy cache dir holding db/trivy.db and db/metadata.json" },
  { name: "trivy-path", env: "OPENDEPOT_TRIVY_PATH", default: "trivy", description: "Trivy executable (looked up on PATH unless it has a /)" },
  { name: "scan-block-on-critical", env: "OPENDEPOT_SCAN_BLOCK_ON_CRITICAL", boolean: true, default: "false", description: "Default policy: never serve a version with a CRITICAL finding" },
  { name: "scan-block-on-high", env: "OPENDEPOT_SCAN_BLOCK_ON_HIGH", boolean: true, default: "false", description: "Default policy: never serve a version with a HIGH or CRITICAL finding" },
  { name: "scan-timeout", env: "OPENDEPOT_SCAN_TIMEOUT", default: "5m", description: "Trivy --timeout per scan (the process is killed shortly after)", check: checks.duration },
  { name: "rescan-interval", env: "OPENDEPOT_RESCAN_INTERVAL", default: "24h", description: "Scan stored versions again this often (also on a DB update or policy change)", check: checks.duration },
  { name: "scan-concurrency", env: "OPENDEPOT_SCAN_CONCURRENCY", default: "1", description: "Trivy processes at once (each loads the whole DB)", check: checks.integer(1, 16) },
  { name: "scan-max-findings", env: "OPENDEPOT_SCAN_MAX_FINDINGS", default: "200", description: "Findings kept in a Version's status per scan (counts cover all)", check: checks.integer(0, 2000) },
  { name: "opentofu-api-url", env: "OPENDEPOT_OPENTOFU_API_URL", default: "https://api.opentofu.org", description: "OpenTofu docs API, for a provider's source repository link", check: checks.url },
];

const int = (flags: Record<string, string | undefined>, name: string, min: number, max: number): number => {
  const n = Number(flags[name]);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer from ${min} to ${max}`);
  return n;
};

export function scanSettingsFromFlags(flags: Record<string, string | undefined>): ScanSettings {
  return {
    enabled: flags["scanning-enabled"] === "true",
    modules: flags["scan-modules"] === "true",
    trivy: { path: flags["trivy-path"] ?? "trivy", cacheDir: flags["trivy-cache-dir"] ?? "/var/cache/trivy", offline: flags["scan-offline"] !== "false", timeoutMs: parseDuration(flags["scan-timeout"] ?? "5m") },
    defaults: { blockOnCritical: flags["scan-block-on-critical"] === "true", blockOnHigh: flags["scan-block-on-high"] === "true" },
    rescanIntervalMs: parseDuration(flags["rescan-interval"] ?? "24h"),
    concurrency: int(flags, "scan-concurrency", 1, 16),
    maxFindings: int(flags, "scan-max-findings", 0, 2000),
    tmpDir: flags["work-dir"],
  };
}
