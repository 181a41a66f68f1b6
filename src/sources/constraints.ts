// Terraform/OpenTofu version constraints (hashicorp/go-version semantics, which v0.9's Depot used), not npm's:
// comma-separated AND of `=`, `!=`, `>`, `>=`, `<`, `<=`, `~>`; no operator means `=`.
//
// Deliberate differences from go-version, both toward what Terraform users expect:
// - `~> 1` means `>= 1.0.0, < 2.0.0` (as Terraform's provider constraints and apparentlymart/go-versions do);
//   go-version leaves a one-segment `~>` unbounded above, so v0.9 matched 2.x too.
// - A prerelease version matches a constraint *set* only if some constraint in it names a prerelease with the same
//   major.minor.patch. go-version enforces that per operator except `=`/`!=`, so `!= 1.3.0` alone let every
//   prerelease through.
// Versions have one to three numeric segments (padded with zeros); four-segment versions are not semver and are
// rejected. Build metadata is kept by normalizeVersion but ignored by comparisons. What a version is, and its
// precedence, is src/api/version.ts.

import { compareVersions, DECLARED_VERSION, formatVersion, parseVersion, VersionError, versionFromMatch, type Version } from "../api/version.ts";


export type Operator = "=" | "!=" | ">" | ">=" | "<" | "<=" | "~>";

export interface Constraint {
  operator: Operator;
  version: Version;
  /** Segments the constraint spelled out (1–3): `~> 5.80` has 2. */
  segments: number;
  original: string;
}

export interface Constraints {
  readonly constraints: readonly Constraint[];
  readonly original: string;
}

export class ConstraintError extends VersionError {
  override readonly name = "ConstraintError";
}

const CONSTRAINT_RE = new RegExp(`^(=|!=|>=|<=|>|<|~>)?\\s*(${DECLARED_VERSION})$`);

/** Parses a constraint string; any bad part is named in the error. */
export function parseConstraints(s: string): Constraints {
  if (s.trim() === "") throw new ConstraintError("version constraint is empty");
  const constraints = s.split(",").map((raw) => {
    const part = raw.trim();
    if (part === "") throw new ConstraintError(`invalid version constraint "${s}": empty part between commas`);
    const m = CONSTRAINT_RE.exec(part);
    const parsed = m ? versionFromMatch(m, 3) : undefined;
    if (!m || !parsed) {
      throw new ConstraintError(`invalid version constraint "${s}": "${part}" is not an operator (=, !=, >, >=, <, <=, ~>) followed by a version`);
    }
    return { operator: (m[1] ?? "=") as Operator, version: parsed.version, segments: parsed.segments, original: part };
  });
  return { constraints, original: s };
}

function sameCore(a: Version, b: Version): boolean {
  return a.major === b.major && a.minor === b.minor && a.patch === b.patch;
}

/** go-version's prereleaseCheck: a prerelease only compares against a prerelease constraint of the same core. */
function prereleaseCheck(v: Version, c: Version): boolean {
  const vPre = v.prerelease.length > 0;
  const cPre = c.prerelease.length > 0;
  if (vPre && cPre) return sameCore(v, c);
  return !vPre;
}

function check(v: Version, c: Constraint): boolean {
  const cmp = compareVersions(v, c.version);
  switch (c.operator) {
    case "=":
      return cmp === 0;
    case "!=":
      return cmp !== 0;
    case ">":
      return prereleaseCheck(v, c.version) && cmp > 0;
    case ">=":
      return prereleaseCheck(v, c.version) && cmp >= 0;
    case "<":
      return prereleaseCheck(v, c.version) && cmp < 0;
    case "<=":
      return prereleaseCheck(v, c.version) && cmp <= 0;
    case "~>": {
      if (!prereleaseCheck(v, c.version)) return false;
      if (c.version.prerelease.length > 0 && v.prerelease.length === 0) return false;
      if (cmp < 0) return false;
      // The last spelled-out segment may grow; everything before it is fixed. One segment behaves like two.
      if (c.segments <= 2) return v.major === c.version.major;
      return v.major === c.version.major && v.minor === c.version.minor;
    }
  }
}

/** True when `version` (string or parsed) satisfies every constraint; unparsable versions never satisfy. */
export function satisfies(version: string | Version, constraints: Constraints | string): boolean {
  const v = typeof version === "string" ? parseVersion(version) : version;
  if (!v) return false;
  const cs = typeof constraints === "string" ? parseConstraints(constraints) : constraints;
  if (v.prerelease.length > 0 && !cs.constraints.some((c) => c.version.prerelease.length > 0 && sameCore(c.version, v))) return false;
  return cs.constraints.every((c) => check(v, c));
}

/**
 * The candidates that satisfy the constraints, normalised and deduplicated, in input order (e.g. GitHub's
 * newest-first release order). `original` keeps the first spelling seen, which is the tag to fetch.
 */
export function matchingVersions(candidates: Iterable<string>, constraints: Constraints | string): { version: string; original: string }[] {
  const cs = typeof constraints === "string" ? parseConstraints(constraints) : constraints;
  const seen = new Set<string>();
  const out: { version: string; original: string }[] = [];
  for (const original of candidates) {
    const v = parseVersion(original);
    if (!v || !satisfies(v, cs)) continue;
    const version = formatVersion(v);
    if (seen.has(version)) continue;
    seen.add(version);
    out.push({ version, original });
  }
  return out;
}
