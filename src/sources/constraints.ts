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
// rejected. Build metadata is kept by normalizeVersion but ignored by comparisons.

export interface Version {
  major: number;
  minor: number;
  patch: number;
  prerelease: string[];
  build: string[];
}

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

export class ConstraintError extends Error {
  override readonly name = "ConstraintError";
}

const IDENT = "[0-9A-Za-z-]+";
const VERSION = `v?(\\d+)(?:\\.(\\d+))?(?:\\.(\\d+))?(?:-(${IDENT}(?:\\.${IDENT})*))?(?:\\+(${IDENT}(?:\\.${IDENT})*))?`;
const VERSION_RE = new RegExp(`^${VERSION}$`);
const CONSTRAINT_RE = new RegExp(`^(=|!=|>=|<=|>|<|~>)?\\s*(${VERSION})$`);

function parseParts(m: RegExpExecArray, offset: number): { version: Version; segments: number } | undefined {
  const [maj, min, pat, pre, build] = [m[offset], m[offset + 1], m[offset + 2], m[offset + 3], m[offset + 4]];
  const nums = [maj, min, pat].map((s) => (s === undefined ? 0 : Number(s)));
  if (nums.some((n) => !Number.isSafeInteger(n))) return undefined;
  const prerelease = pre ? pre.split(".") : [];
  // Semver forbids empty identifiers; the regex already forbids them, this guards numeric leading zeros only loosely
  // (go-version accepts "01"), so we accept them too and compare numerically.
  return {
    version: { major: nums[0]!, minor: nums[1]!, patch: nums[2]!, prerelease, build: build ? build.split(".") : [] },
    segments: pat !== undefined ? 3 : min !== undefined ? 2 : 1,
  };
}

/** Parses `v1.2`, `1.2.3-rc.1+build`; undefined for anything else (tags like `release-7` are simply not versions). */
export function parseVersion(s: string): Version | undefined {
  const m = VERSION_RE.exec(s.trim());
  return m ? parseParts(m, 1)?.version : undefined;
}

export function formatVersion(v: Version): string {
  const core = `${v.major}.${v.minor}.${v.patch}`;
  return core + (v.prerelease.length ? `-${v.prerelease.join(".")}` : "") + (v.build.length ? `+${v.build.join(".")}` : "");
}

/** "v1.2" → "1.2.0"; undefined when not a version. Build metadata is kept (it names a distinct tag). */
export function normalizeVersion(s: string): string | undefined {
  const v = parseVersion(s);
  return v ? formatVersion(v) : undefined;
}

function comparePrerelease(a: string[], b: string[]): number {
  if (a.length === 0 || b.length === 0) return a.length === b.length ? 0 : a.length === 0 ? 1 : -1;
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const xn = /^\d+$/.test(x);
    const yn = /^\d+$/.test(y);
    if (xn && yn) {
      const d = Number(x) - Number(y);
      if (d !== 0) return Math.sign(d);
    } else if (xn !== yn) {
      return xn ? -1 : 1;
    } else if (x !== y) {
      return x < y ? -1 : 1;
    }
  }
  return 0;
}

/** Semver precedence: -1, 0 or 1. Accepts parsed versions or strings (unparsable strings throw). */
export function compareVersions(a: Version | string, b: Version | string): number {
  const x = typeof a === "string" ? mustParse(a) : a;
  const y = typeof b === "string" ? mustParse(b) : b;
  return Math.sign(x.major - y.major) || Math.sign(x.minor - y.minor) || Math.sign(x.patch - y.patch) || comparePrerelease(x.prerelease, y.prerelease);
}

function mustParse(s: string): Version {
  const v = parseVersion(s);
  if (!v) throw new ConstraintError(`"${s}" is not a version`);
  return v;
}

/** Parses a constraint string; any bad part is named in the error. */
export function parseConstraints(s: string): Constraints {
  if (s.trim() === "") throw new ConstraintError("version constraint is empty");
  const constraints = s.split(",").map((raw) => {
    const part = raw.trim();
    if (part === "") throw new ConstraintError(`invalid version constraint "${s}": empty part between commas`);
    const m = CONSTRAINT_RE.exec(part);
    const parsed = m ? parseParts(m, 3) : undefined;
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
