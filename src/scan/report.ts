// Trivy `--format json` reports (SchemaVersion 2) → OpenDepot findings. Accepts every format Trivy has written since
// v0.26 (old `AVDID`/long IDs, `"Vulnerabilities": null`, missing `Results`), treats everything else as hostile:
// wrong types are skipped field by field, never trusted, and a document that is not a report is an error, never
// "no findings".
import type { SecurityFinding } from "../api/types.ts";
import { normalizeSeverity, severityRank, zeroCounts, type SeverityCounts } from "./severity.ts";

/** What was scanned, which decides the results that count (reference §3.3). */
export type ScanKind = "module" | "binary" | "source";

export interface ParsedReport {
  /** Deduplicated, most severe first. */
  findings: SecurityFinding[];
  counts: SeverityCounts;
  /** `trivy <version>` when the report says (v0.69+). */
  scanner?: string;
}

export class ReportError extends Error {
  override readonly name = "ReportError";
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown, max = 2048): string | undefined => (typeof v === "string" && v !== "" ? v.slice(0, max) : undefined);
const line = (v: unknown): number | undefined => (typeof v === "number" && Number.isInteger(v) && v > 0 ? v : undefined);
const list = (v: unknown): Json[] => (Array.isArray(v) ? v.filter(isObject) : []);

function resultCounts(kind: ScanKind, r: Json): boolean {
  const cls = r.Class;
  if (kind === "module") return cls === "config";
  if (kind === "binary") return cls === "lang-pkgs" || cls === "os-pkgs";
  const target = typeof r.Target === "string" ? r.Target : "";
  return cls === "lang-pkgs" && (r.Type === "gomod" || /(^|\/)go\.(mod|sum)$/.test(target));
}

function misconfiguration(target: string | undefined, m: Json): SecurityFinding | undefined {
  // Only failures block; PASS appears with --include-non-failures, EXCEPTION is an in-code waiver.
  if (m.Status !== undefined && m.Status !== "FAIL") return undefined;
  const id = str(m.ID, 256) ?? str(m.AVDID, 256);
  if (!id) return undefined;
  const cause = isObject(m.CauseMetadata) ? m.CauseMetadata : {};
  const resource = str(cause.Resource, 512);
  return {
    vulnerabilityID: id,
    pkgName: resource ?? "", // v0.9 put the resource here; kept for its readers
    installedVersion: "",
    severity: normalizeSeverity(m.Severity),
    ...(str(m.Title, 512) ? { title: str(m.Title, 512) } : {}),
    ...(target ? { target } : {}),
    ...(resource ? { resource } : {}),
    ...(line(cause.StartLine) ? { startLine: line(cause.StartLine) } : {}),
    ...(line(cause.EndLine) ? { endLine: line(cause.EndLine) } : {}),
    ...(str(m.PrimaryURL) ? { primaryURL: str(m.PrimaryURL) } : {}),
  };
}

function vulnerability(target: string | undefined, v: Json): SecurityFinding | undefined {
  const id = str(v.VulnerabilityID, 256);
  if (!id) return undefined;
  return {
    vulnerabilityID: id,
    pkgName: str(v.PkgName, 512) ?? "",
    installedVersion: str(v.InstalledVersion, 256) ?? "",
    ...(str(v.FixedVersion, 512) ? { fixedVersion: str(v.FixedVersion, 512) } : {}),
    severity: normalizeSeverity(v.Severity),
    ...(str(v.Title, 512) ? { title: str(v.Title, 512) } : {}),
    ...(target ? { target } : {}),
    ...(str(v.PrimaryURL) ? { primaryURL: str(v.PrimaryURL) } : {}),
  };
}

/** One finding per (rule, file, resource) for misconfigurations, per (ID, package, version) for vulnerabilities. */
const dedupKey = (f: SecurityFinding) => (f.installedVersion === "" && f.resource !== undefined ? `m\0${f.vulnerabilityID}\0${f.target ?? ""}\0${f.resource}` : `v\0${f.vulnerabilityID}\0${f.pkgName}\0${f.installedVersion}`);

export function compareFindings(a: SecurityFinding, b: SecurityFinding): number {
  return (
    severityRank(b.severity) - severityRank(a.severity) ||
    a.vulnerabilityID.localeCompare(b.vulnerabilityID) ||
    (a.target ?? "").localeCompare(b.target ?? "") ||
    (a.resource ?? a.pkgName).localeCompare(b.resource ?? b.pkgName) ||
    (a.startLine ?? 0) - (b.startLine ?? 0)
  );
}

/** Parse Trivy's stdout. Throws ReportError when it is not a Trivy JSON report. */
export function parseTrivyReport(text: string, kind: ScanKind): ParsedReport {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new ReportError(`Trivy output is not JSON (${(e as Error).message}); first bytes: ${JSON.stringify(text.slice(0, 80))}`);
  }
  if (!isObject(doc) || doc.SchemaVersion !== 2) throw new ReportError("Trivy output is not a SchemaVersion 2 JSON report");
  if (doc.Results !== undefined && doc.Results !== null && !Array.isArray(doc.Results)) throw new ReportError("Trivy report has a Results field that is not a list");
  const seen = new Map<string, SecurityFinding>();
  for (const r of list(doc.Results)) {
    if (!resultCounts(kind, r)) continue;
    const target = str(r.Target, 1024);
    const found = [
      ...list(r.Misconfigurations).map((m) => misconfiguration(target, m)),
      ...list(r.Vulnerabilities).map((v) => vulnerability(target, v)),
    ];
    for (const f of found) {
      if (!f) continue;
      const key = dedupKey(f);
      const prior = seen.get(key);
      if (!prior || severityRank(f.severity) > severityRank(prior.severity)) seen.set(key, f);
    }
  }
  const findings = [...seen.values()].sort(compareFindings);
  const counts = zeroCounts();
  for (const f of findings) counts[normalizeSeverity(f.severity)]++;
  const version = isObject(doc.Trivy) ? str(doc.Trivy.Version, 64) : undefined;
  return { findings, counts, ...(version ? { scanner: `trivy ${version}` } : {}) };
}
