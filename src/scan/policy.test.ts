import { describe, expect, test } from "bun:test";
import type { SecurityFinding } from "../api/types.ts";
import { describeFinding, effectivePolicy, evaluate, isGated, parseExpiry, policyFingerprint } from "./policy.ts";

const f = (id: string, severity: string, extra: Partial<SecurityFinding> = {}): SecurityFinding => ({ vulnerabilityID: id, pkgName: "pkg", installedVersion: "1.0.0", severity, ...extra });
const NOW = Date.parse("2026-12-01T08:00:00Z");
const off = { blockOnCritical: false, blockOnHigh: false };

describe("severity thresholds", () => {
  const findings = [f("C", "CRITICAL"), f("H", "HIGH"), f("M", "MEDIUM"), f("U", "UNKNOWN"), f("X", "bogus")];
  test("blockOnHigh blocks HIGH and above (v0.9 let CRITICAL through)", () => {
    expect(evaluate(findings, effectivePolicy({ blockOnCritical: false, blockOnHigh: true }, undefined), NOW).blocking.map((x) => x.vulnerabilityID)).toEqual(["C", "H"]);
  });
  test("blockOnCritical blocks only CRITICAL; no policy blocks nothing; UNKNOWN never blocks", () => {
    expect(evaluate(findings, effectivePolicy({ blockOnCritical: true, blockOnHigh: false }, undefined), NOW).blocking.map((x) => x.vulnerabilityID)).toEqual(["C"]);
    expect(evaluate(findings, effectivePolicy(off, undefined), NOW).blocking).toEqual([]);
    expect(isGated(effectivePolicy(off, undefined))).toBe(false);
  });
  test("a resource's scanConfig overrides the defaults field by field", () => {
    const p = effectivePolicy({ blockOnCritical: true, blockOnHigh: true }, { blockOnHigh: false });
    expect(p).toMatchObject({ blockOnCritical: true, blockOnHigh: false });
    expect(effectivePolicy({ blockOnCritical: true, blockOnHigh: false }, { blockOnCritical: false }).blockOnCritical).toBe(false);
  });
});

describe("ignore entries", () => {
  const gate = { blockOnCritical: true, blockOnHigh: true };
  test("an accepted finding does not block and says why; AVD-AWS-0104 matches AWS-0104", () => {
    const p = effectivePolicy(gate, { ignore: [{ id: "avd-aws-0104", reason: "egress needed for patching", expires: "2027-01-01" }] });
    const ev = evaluate([f("AWS-0104", "CRITICAL"), f("AWS-0086", "HIGH")], p, NOW);
    expect(ev.blocking.map((x) => x.vulnerabilityID)).toEqual(["AWS-0086"]);
    expect(ev.findings[0]!.ignored).toBe("egress needed for patching (until 2027-01-01)");
    expect(ev.nextExpiry).toBe(Date.parse("2027-01-01T00:00:00Z"));
  });
  test("an expired entry no longer applies, and stale annotations are dropped", () => {
    const p = effectivePolicy(gate, { ignore: [{ id: "CVE-1", reason: "r", expires: "2026-12-01T07:59:59Z" }] });
    const ev = evaluate([f("CVE-1", "HIGH", { ignored: "old" })], p, NOW);
    expect(ev.blocking).toHaveLength(1);
    expect(ev.findings[0]!.ignored).toBeUndefined();
  });
  test("an unparseable expiry never applies (fail closed) and is reported", () => {
    const p = effectivePolicy(gate, { ignore: [{ id: "CVE-1", reason: "r", expires: "next tuesday" }] });
    const ev = evaluate([f("CVE-1", "HIGH")], p, NOW);
    expect(ev.blocking).toHaveLength(1);
    expect(ev.invalid.map((e) => e.id)).toEqual(["CVE-1"]);
  });
  test("expiry formats", () => {
    expect(parseExpiry("2026-12-31")).toBe(Date.parse("2026-12-31T00:00:00Z"));
    expect(parseExpiry("2026-12-31T10:00:00+02:00")).toBe(Date.parse("2026-12-31T08:00:00Z"));
    expect(parseExpiry("31/12/2026")).toBeNaN();
    expect(parseExpiry("2026-12-31T10:00:00")).toBeNaN(); // no zone: ambiguous
  });
  test("no expiry = accepted until removed", () => {
    const ev = evaluate([f("CVE-1", "CRITICAL")], effectivePolicy(gate, { ignore: [{ id: "CVE-1", reason: "vendored, unused" }] }), NOW);
    expect(ev.blocking).toEqual([]);
    expect(ev.nextExpiry).toBeUndefined();
  });
});

describe("policy fingerprint (what makes a rescan due)", () => {
  const base = effectivePolicy(off, { blockOnHigh: true, ignore: [{ id: "CVE-1", reason: "r", expires: "2026-12-02" }] });
  const fp = (p = base, now = NOW, db = "2026-11-30T00:00:00Z") => policyFingerprint(p, now, { db });
  test("stable for the same inputs; changes with the gate, the ignore list, an expiry passing, and the DB", () => {
    expect(fp()).toBe(fp());
    expect(fp(effectivePolicy(off, { blockOnCritical: true }))).not.toBe(fp());
    expect(fp(effectivePolicy(off, { blockOnHigh: true }))).not.toBe(fp());
    expect(fp(base, Date.parse("2026-12-03T00:00:00Z"))).not.toBe(fp());
    expect(fp(base, NOW, "2026-12-01T06:00:00Z")).not.toBe(fp());
    expect(fp(effectivePolicy(off, { blockOnHigh: true, ignore: [{ id: "CVE-1", reason: "reworded", expires: "2026-12-02" }] }))).toBe(fp());
  });
});

test("describeFinding names file, line and resource for misconfigurations, package and fix for vulnerabilities", () => {
  expect(describeFinding({ vulnerabilityID: "AWS-0104", pkgName: "module.endpoints", installedVersion: "", severity: "CRITICAL", target: "main.tf", resource: "module.endpoints", startLine: 107 })).toBe("CRITICAL AWS-0104 in main.tf:107 (module.endpoints)");
  expect(describeFinding({ vulnerabilityID: "CVE-2021-38561", pkgName: "golang.org/x/text", installedVersion: "v0.3.5", fixedVersion: "0.3.7", severity: "HIGH", target: "provider-binary" })).toBe("HIGH CVE-2021-38561 in golang.org/x/text v0.3.5 (fixed in 0.3.7)");
});
