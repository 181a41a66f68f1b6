// Trivy's five severities, ordered. Anything else a report says (empty, a typo, a future value) counts as UNKNOWN,
// as Trivy itself does for an empty severity.
export const SEVERITIES = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"] as const;
export type Severity = (typeof SEVERITIES)[number];

const RANK: Record<Severity, number> = { CRITICAL: 4, HIGH: 3, MEDIUM: 2, LOW: 1, UNKNOWN: 0 };

export function normalizeSeverity(value: unknown): Severity {
  const s = typeof value === "string" ? value.trim().toUpperCase() : "";
  return (SEVERITIES as readonly string[]).includes(s) ? (s as Severity) : "UNKNOWN";
}

export const severityRank = (s: string): number => RANK[normalizeSeverity(s)];

/** Whether `s` is at or above `threshold`. */
export const atLeast = (s: string, threshold: Severity): boolean => severityRank(s) >= RANK[threshold];

export type SeverityCounts = Record<Severity, number>;
export const zeroCounts = (): SeverityCounts => ({ CRITICAL: 0, HIGH: 0, MEDIUM: 0, LOW: 0, UNKNOWN: 0 });
