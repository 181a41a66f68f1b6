// The publish gate: which findings keep a version from being served. blockOnHigh means HIGH *and above* (the
// docs' "at or above the threshold"; v0.9 compared severities exactly, so blockOnHigh let CRITICAL through).
// A resource's scanConfig overrides the controller defaults field by field; its `ignore` entries accept reviewed
// findings until they expire, after which the finding blocks again.
import { createHash } from "node:crypto";
import type { ScanConfig, SecurityFinding } from "../api/types.ts";
import { atLeast, type Severity } from "./severity.ts";

export interface IgnoreEntry {
  id: string;
  reason: string;
  /** Epoch ms; undefined = no expiry. NaN = unparseable (never applies: fail closed). */
  expiresAt?: number;
  expires?: string;
}

export interface ScanPolicy {
  blockOnCritical: boolean;
  blockOnHigh: boolean;
  ignore: IgnoreEntry[];
}

export interface PolicyDefaults {
  blockOnCritical: boolean;
  blockOnHigh: boolean;
}

/** `2026-12-31` is UTC midnight at the start of that day; anything else must be an RFC 3339 time. */
export function parseExpiry(text: string): number {
  const t = text.trim();
  if (/^\d{4}-\d{2}-\d{2}$/.test(t)) return Date.parse(`${t}T00:00:00Z`);
  if (!/^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.test(t)) return NaN;
  return Date.parse(t);
}

export function effectivePolicy(defaults: PolicyDefaults, config: ScanConfig | undefined): ScanPolicy {
  return {
    blockOnCritical: config?.blockOnCritical ?? defaults.blockOnCritical,
    blockOnHigh: config?.blockOnHigh ?? defaults.blockOnHigh,
    ignore: (config?.ignore ?? []).map((e) => ({
      id: e.id,
      reason: e.reason,
      ...(e.expires ? { expires: e.expires, expiresAt: parseExpiry(e.expires) } : {}),
    })),
  };
}

/** The lowest severity that blocks, or undefined when nothing does. */
export function blockThreshold(p: ScanPolicy): Severity | undefined {
  return p.blockOnHigh ? "HIGH" : p.blockOnCritical ? "CRITICAL" : undefined;
}

export const isGated = (p: ScanPolicy): boolean => blockThreshold(p) !== undefined;

/** AVD-AWS-0104 (≤ v0.68) and AWS-0104 (v0.69+) are one rule; IDs compare case-insensitively. */
const canonicalId = (id: string) => id.trim().toUpperCase().replace(/^AVD-/, "");

const isActive = (e: IgnoreEntry, now: number) => e.expiresAt === undefined || (Number.isFinite(e.expiresAt) && e.expiresAt > now);

export interface Evaluation {
  /** Findings that block, worst first (empty: the version may be served). */
  blocking: SecurityFinding[];
  /** The findings, annotated with `ignored` where an active entry accepts them. */
  findings: SecurityFinding[];
  /** Earliest future expiry of an entry that is accepting a finding right now: re-evaluate then. */
  nextExpiry?: number;
  /** Entries that cannot apply (unparseable expiry), for the user to fix. */
  invalid: IgnoreEntry[];
}

export function evaluate(findings: SecurityFinding[], policy: ScanPolicy, now = Date.now()): Evaluation {
  const threshold = blockThreshold(policy);
  const active = policy.ignore.filter((e) => isActive(e, now));
  let nextExpiry: number | undefined;
  const annotated = findings.map((f): SecurityFinding => {
    const entry = active.find((e) => canonicalId(e.id) === canonicalId(f.vulnerabilityID));
    if (!entry) {
      const { ignored: _drop, ...rest } = f;
      return rest;
    }
    if (entry.expiresAt !== undefined) nextExpiry = Math.min(nextExpiry ?? Infinity, entry.expiresAt);
    return { ...f, ignored: entry.expires ? `${entry.reason} (until ${entry.expires})` : entry.reason };
  });
  const blocking = threshold ? annotated.filter((f) => !f.ignored && atLeast(f.severity, threshold)) : [];
  return { blocking, findings: annotated, nextExpiry, invalid: policy.ignore.filter((e) => e.expiresAt !== undefined && !Number.isFinite(e.expiresAt)) };
}

/** `CRITICAL AWS-0104 in main.tf:107 (module.endpoints)` / `HIGH CVE-2021-38561 in golang.org/x/text v0.3.5`. */
export function describeFinding(f: SecurityFinding): string {
  if (f.resource !== undefined || (f.installedVersion === "" && f.target)) {
    const where = f.target ? ` in ${f.target}${f.startLine ? `:${f.startLine}` : ""}` : "";
    return `${f.severity} ${f.vulnerabilityID}${where}${f.resource ? ` (${f.resource})` : ""}`;
  }
  return `${f.severity} ${f.vulnerabilityID} in ${f.pkgName}${f.installedVersion ? ` ${f.installedVersion}` : ""}${f.fixedVersion ? ` (fixed in ${f.fixedVersion})` : ""}`;
}

/**
 * A fingerprint of everything a verdict depends on besides the artifact: the gate, the ignore entries in force now
 * (so an expiry changes it), and the inputs the caller adds (the vulnerability DB's UpdatedAt). A different
 * fingerprint means "scan again".
 */
export function policyFingerprint(policy: ScanPolicy, now: number, extra: Record<string, string | undefined> = {}): string {
  const active = policy.ignore.filter((e) => isActive(e, now)).map((e) => `${canonicalId(e.id)}@${e.expires ?? ""}`).sort();
  const text = JSON.stringify({ c: policy.blockOnCritical, h: policy.blockOnHigh, i: active, ...extra });
  return createHash("sha256").update(text).digest("hex").slice(0, 16);
}
