// Scan schemas of the Module, Provider and Version kinds (additive to v0.9): the policy a resource sets, the findings
// and results the scanner reports, and the verdict the registry serves by. Part of the CRDs via types.ts.
import { Type, type Static } from "@sinclair/typebox";
import { Opt, Str } from "./schema-kit.ts";

/** Scan settings of a Module or Provider; unset fields take the controller's defaults. Additive to v0.9. */
export const ScanConfig = Type.Object(
  {
    blockOnCritical: Opt(Type.Boolean({ description: "Never serve a version with a CRITICAL finding." })),
    blockOnHigh: Opt(Type.Boolean({ description: "Never serve a version with a HIGH or CRITICAL finding." })),
    ignore: Opt(
      Type.Array(
        Type.Object(
          {
            id: Str("Finding ID (CVE-2021-38561, AWS-0104; AVD-AWS-0104 matches AWS-0104)."),
            reason: Str("Why the finding is accepted."),
            expires: Opt(Str("RFC 3339 time or YYYY-MM-DD (UTC midnight) after which the finding blocks again.")),
          },
          { additionalProperties: false },
        ),
        { maxItems: 500, description: "Findings a team has reviewed and accepts, each with a reason and an optional expiry." },
      ),
    ),
  },
  { additionalProperties: false, description: "Scan policy; unset fields take the controller's --scan-block-on-* defaults. Additive to v0.9." },
);

export const SecurityFinding = Type.Object(
  {
    vulnerabilityID: Type.String({ description: "Vulnerability identifier (CVE, GHSA, ...)." }),
    pkgName: Type.String({ description: "Affected package." }),
    installedVersion: Type.String({ description: "Version of the package found." }),
    fixedVersion: Opt(Type.String({ description: "First version with a fix, when known." })),
    severity: Type.String({ description: "CRITICAL, HIGH, MEDIUM, LOW or UNKNOWN." }),
    title: Opt(Type.String({ description: "Short description." })),
    // Additive to v0.9: what a user needs to act on a finding.
    target: Opt(Str("File the finding is in, relative to the scanned tree (main.tf, go.mod, provider-binary).")),
    resource: Opt(Str("Terraform resource of a misconfiguration, e.g. aws_s3_bucket.logs.")),
    startLine: Opt(Type.Integer({ description: "First line of the finding in target." })),
    endLine: Opt(Type.Integer({ description: "Last line of the finding in target." })),
    primaryURL: Opt(Str("Where the rule or vulnerability is documented.")),
    ignored: Opt(Str("Set when a scanConfig.ignore entry accepts this finding: that entry's reason.")),
  },
  { additionalProperties: false },
);

export const ScanResult = Type.Object(
  {
    scannedAt: Type.String({ description: "When the scan ran (RFC 3339)." }),
    findings: Opt(Type.Array(SecurityFinding, { description: "The most severe findings, one per (rule, resource) or (ID, package), at most --scan-max-findings." })),
    counts: Opt(Type.Record(Type.String(), Type.Integer(), { description: "Every finding of the scan by severity (CRITICAL, HIGH, MEDIUM, LOW, UNKNOWN). Additive to v0.9." })),
    scanner: Opt(Str("Scanner and version, e.g. trivy 0.74.0. Additive to v0.9.")),
    dbUpdatedAt: Opt(Str("UpdatedAt of the vulnerability DB the scan used. Additive to v0.9.")),
    source: Opt(Str("What was scanned. Additive to v0.9.")),
  },
  { additionalProperties: false },
);

/** Whether scan results let a Version be served. Additive to v0.9. */
export const ScanVerdict = Type.Object(
  {
    blocked: Type.Boolean({ description: "True: the registry does not serve this Version." }),
    reason: Str("Passed, ScanPolicyViolation, ScanFailed or Unscanned."),
    message: Opt(Str("What blocked it (the worst finding) or why it could not be scanned.")),
    policy: Opt(Str("Fingerprint of the policy and DB the verdict was reached under; a change triggers a rescan.")),
    evaluatedAt: Opt(Str("When the verdict was reached (RFC 3339).")),
  },
  { additionalProperties: false, description: "Whether the scans let this Version be served. Additive to v0.9." },
);

export type SecurityFinding = Static<typeof SecurityFinding>;
export type ScanResult = Static<typeof ScanResult>;
export type ScanConfig = Static<typeof ScanConfig>;
export type ScanVerdict = Static<typeof ScanVerdict>;
