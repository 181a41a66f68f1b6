// Parsing runs on every real Trivy report in fixtures/trivy/reports (copies of shared/testdata/trivy).
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseTrivyReport, ReportError } from "./report.ts";

const DIR = join(import.meta.dir, "../../fixtures/trivy/reports");
const read = (name: string) => readFileSync(join(DIR, name), "utf8");
const ids = (r: ReturnType<typeof parseTrivyReport>) => r.findings.map((f) => f.vulnerabilityID);

describe("every real report parses", () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith(".json")).sort();
  test("the fixture folder holds all nine reports", () => {
    expect(files).toHaveLength(9);
  });
  for (const file of files) {
    test(file, () => {
      for (const kind of ["module", "binary", "source"] as const) {
        const r = parseTrivyReport(read(file), kind);
        const total = Object.values(r.counts).reduce((a, b) => a + b, 0);
        expect(total).toBe(r.findings.length);
        for (const f of r.findings) expect(["CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"]).toContain(f.severity);
      }
    });
  }
});

describe("module IaC reports", () => {
  test("current format: 8 FAILs with target, resource, lines and primaryURL, worst first", () => {
    const r = parseTrivyReport(read("terraform-misconfig.json"), "module");
    expect(r.counts).toEqual({ CRITICAL: 0, HIGH: 5, MEDIUM: 1, LOW: 2, UNKNOWN: 0 });
    expect(ids(r)).toEqual(["AWS-0086", "AWS-0087", "AWS-0091", "AWS-0093", "AWS-0132", "AWS-0090", "AWS-0089", "AWS-0094"]);
    const medium = r.findings.find((f) => f.vulnerabilityID === "AWS-0090")!;
    expect(medium).toMatchObject({ severity: "MEDIUM", target: "main.tf", resource: "aws_s3_bucket_versioning.bucket_versioning", pkgName: "aws_s3_bucket_versioning.bucket_versioning", installedVersion: "" });
    expect(medium.startLine).toBe(16);
    expect(r.findings[0]!.primaryURL).toBe("https://avd.aquasec.com/misconfig/aws-0086");
    expect(r.findings[0]!.startLine).toBeGreaterThan(0);
    expect(r.scanner).toBe("trivy 0.72.0");
  });

  test("CRITICAL in a called module, and the old ≤ v0.68 long IDs", () => {
    const now = parseTrivyReport(read("terraform-misconfig-critical.json"), "module");
    expect(now.findings.map((f) => [f.vulnerabilityID, f.severity, f.resource, f.startLine])).toEqual([
      ["AWS-0104", "CRITICAL", "module.endpoints", 107],
      ["AWS-0124", "LOW", "module.endpoints", 106],
    ]);
    const old = parseTrivyReport(read("terraform-misconfig-critical-v0.68-avdid.json"), "module");
    expect(ids(old)).toEqual(["aws-vpc-no-public-egress-sgr", "aws-vpc-add-description-to-security-group-rule"]);
    expect(old.scanner).toBeUndefined();
  });

  test("v0.60 report: 9 FAILs, AVD- IDs", () => {
    const r = parseTrivyReport(read("terraform-misconfig-v0.60-avdid.json"), "module");
    expect(r.findings).toHaveLength(9);
    expect(r.counts.HIGH).toBe(6);
    expect(ids(r)).toContain("s3-bucket-logging");
  });

  test("clean reports: no findings, zero counts (a Results key that is absent is not an error)", () => {
    for (const f of ["terraform-clean.json", "clean.json"]) {
      const r = parseTrivyReport(read(f), "module");
      expect(r.findings).toEqual([]);
      expect(r.counts).toEqual({ CRITICAL: 0, HIGH: 0, MEDIUM: 0, LOW: 0, UNKNOWN: 0 });
    }
  });

  test("one finding per (rule, resource): the same rule on two resources stays two findings", () => {
    const doc = JSON.parse(read("terraform-misconfig.json"));
    const main = doc.Results[1];
    const copy = structuredClone(main.Misconfigurations[0]);
    copy.CauseMetadata.Resource = "aws_s3_bucket.other";
    main.Misconfigurations.push(copy, structuredClone(main.Misconfigurations[0]));
    const r = parseTrivyReport(JSON.stringify(doc), "module");
    expect(r.findings.filter((f) => f.vulnerabilityID === "AWS-0086").map((f) => f.resource).sort()).toEqual(["aws_s3_bucket.bucket", "aws_s3_bucket.other"]);
  });

  test("only FAIL counts; misconfigurations are not counted for vulnerability scans", () => {
    const doc = JSON.parse(read("terraform-misconfig.json"));
    for (const m of doc.Results[1].Misconfigurations) m.Status = "PASS";
    expect(parseTrivyReport(JSON.stringify(doc), "module").findings).toEqual([]);
    expect(parseTrivyReport(read("terraform-misconfig.json"), "binary").findings).toEqual([]);
  });
});

describe("vulnerability reports", () => {
  test("go.mod: deduplicated across submodules by (ID, package, version); Title and PrimaryURL may be absent", () => {
    const r = parseTrivyReport(read("gomod-vulns.json"), "source");
    expect(r.findings.map((f) => [f.vulnerabilityID, f.severity, f.pkgName])).toEqual([
      ["CVE-2022-23628", "MEDIUM", "github.com/open-policy-agent/opa"],
      ["CVE-2021-38561", "UNKNOWN", "golang.org/x/text"],
      ["GMS-2022-20", "UNKNOWN", "github.com/docker/distribution"],
    ]);
    const opa = r.findings[0]!;
    expect(opa).toMatchObject({ installedVersion: "v0.35.0", fixedVersion: "0.37.0", title: "Incorrect Calculation", target: "go.mod", primaryURL: "https://avd.aquasec.com/nvd/cve-2022-23628" });
    const gms = r.findings.find((f) => f.vulnerabilityID === "GMS-2022-20")!;
    expect(gms.primaryURL).toBeUndefined();
    expect(r.findings.find((f) => f.vulnerabilityID === "CVE-2021-38561")!.title).toBeUndefined();
  });

  test("Go binary (2022 format) next to an os-pkgs result: both count for a binary scan, not for a source scan", () => {
    const r = parseTrivyReport(read("gobinary-vulns.json"), "binary");
    expect(r.findings.map((f) => [f.vulnerabilityID, f.pkgName, f.target])).toEqual([
      ["CVE-2022-24765", "git", "testdata/fixtures/images/alpine-distroless.tar.gz (alpine edge)"],
      ["CVE-2021-38561", "golang.org/x/text", "usr/bin/git-lfs"],
    ]);
    expect(parseTrivyReport(read("gobinary-vulns.json"), "source").findings).toEqual([]);
  });

  test("a lang-pkgs result with only Target/Class/Type is clean; a range FixedVersion is kept as written", () => {
    const r = parseTrivyReport(read("lang-pkgs-mixed-clean-result.json"), "binary");
    expect(r.counts).toMatchObject({ HIGH: 1, MEDIUM: 1 });
    expect(r.findings.map((f) => f.fixedVersion)).toEqual([">= 2.1.0", ">= 3.1.0, >= 2.1.3, < 3.0.0"]);
  });

  test("the derived current-format gobinary report", () => {
    const r = parseTrivyReport(readFileSync(join(DIR, "../derived/rootfs-gobinary-high.json"), "utf8"), "binary");
    expect(r.findings).toEqual([
      expect.objectContaining({ vulnerabilityID: "CVE-2021-38561", severity: "HIGH", pkgName: "golang.org/x/text", installedVersion: "v0.3.5", fixedVersion: "0.3.7", target: "provider-binary" }),
    ]);
  });
});

describe("hostile or broken output is an error, never 'no findings'", () => {
  const bad = ["", "not json", "[]", "null", '{"Results": []}', '{"SchemaVersion": 1}', '{"SchemaVersion": 2, "Results": {}}'];
  for (const text of bad) {
    test(JSON.stringify(text), () => {
      expect(() => parseTrivyReport(text, "module")).toThrow(ReportError);
    });
  }

  test("wrongly typed fields are skipped, not trusted; old 'Vulnerabilities: null' is fine", () => {
    const doc = {
      SchemaVersion: 2,
      Results: [
        { Target: "go.mod", Class: "lang-pkgs", Type: "gomod", Vulnerabilities: null },
        { Target: "go.mod", Class: "lang-pkgs", Type: "gomod", Vulnerabilities: [{ VulnerabilityID: 7 }, { VulnerabilityID: "CVE-1", Severity: "bogus", PkgName: ["x"] }, "str"] },
      ],
    };
    const r = parseTrivyReport(JSON.stringify(doc), "source");
    expect(r.findings).toEqual([{ vulnerabilityID: "CVE-1", pkgName: "", installedVersion: "", severity: "UNKNOWN", target: "go.mod" }]);
  });
});
