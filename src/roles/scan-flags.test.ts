import { expect, test } from "bun:test";
import { parseFlags } from "../cli/flags.ts";
import { CONTROLLER_ROLE_FLAGS } from "./controller.ts";
import { SCAN_FLAGS, scanSettingsFromFlags } from "./scan-flags.ts";
import { STANDALONE_FLAGS } from "./standalone.ts";

test("both roles that run the Version controller take every scanning flag (v0.9 names)", () => {
  for (const specs of [STANDALONE_FLAGS, CONTROLLER_ROLE_FLAGS]) {
    const names = new Set(specs.map((s) => s.name));
    for (const f of SCAN_FLAGS) expect(names.has(f.name)).toBe(true);
  }
  for (const v09 of ["scanning-enabled", "scan-modules", "scan-offline", "trivy-cache-dir", "scan-block-on-critical", "scan-block-on-high"]) expect(SCAN_FLAGS.some((f) => f.name === v09)).toBe(true);
});

test("defaults: off, offline, /var/cache/trivy, trivy on PATH, 5m timeout, 24h rescans, one scan at a time, 200 findings", () => {
  const s = scanSettingsFromFlags(parseFlags(SCAN_FLAGS, [], {}));
  expect(s).toMatchObject({ enabled: false, modules: false, defaults: { blockOnCritical: false, blockOnHigh: false }, rescanIntervalMs: 86_400_000, concurrency: 1, maxFindings: 200 });
  expect(s.trivy).toEqual({ path: "trivy", cacheDir: "/var/cache/trivy", offline: true, timeoutMs: 300_000 });
});

test("flags and their environment variables", () => {
  const fromArgs = scanSettingsFromFlags(parseFlags(SCAN_FLAGS, ["--scanning-enabled", "--scan-offline=false", "--scan-block-on-high", "--trivy-path", "/opt/trivy", "--scan-timeout", "90s"], {}));
  expect(fromArgs).toMatchObject({ enabled: true, defaults: { blockOnHigh: true }, trivy: { path: "/opt/trivy", offline: false, timeoutMs: 90_000 } });
  const fromEnv = scanSettingsFromFlags(parseFlags(SCAN_FLAGS, [], { OPENDEPOT_SCANNING_ENABLED: "true", OPENDEPOT_SCAN_MODULES: "true", OPENDEPOT_SCAN_BLOCK_ON_CRITICAL: "true", OPENDEPOT_TRIVY_CACHE_DIR: "/cache", OPENDEPOT_SCAN_CONCURRENCY: "2", OPENDEPOT_RESCAN_INTERVAL: "6h" }));
  expect(fromEnv).toMatchObject({ enabled: true, modules: true, defaults: { blockOnCritical: true }, trivy: { cacheDir: "/cache" }, concurrency: 2, rescanIntervalMs: 21_600_000 });
});

test("bad values are refused at startup", () => {
  expect(() => scanSettingsFromFlags(parseFlags(SCAN_FLAGS, ["--scan-concurrency", "0"], {}))).toThrow("--scan-concurrency");
  expect(() => scanSettingsFromFlags(parseFlags(SCAN_FLAGS, ["--scan-max-findings", "lots"], {}))).toThrow("--scan-max-findings");
  expect(() => scanSettingsFromFlags(parseFlags(SCAN_FLAGS, ["--rescan-interval", "daily"], {}))).toThrow("invalid duration");
  expect(() => parseFlags(SCAN_FLAGS, ["--scan-offline=maybe"], {})).toThrow();
});
