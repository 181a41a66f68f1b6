// What a version is, in one place: parse, normalise, compare (semver precedence: prereleases below their release,
// build metadata ignored), and the two spellings the project accepts.
//
// - The *declared* form (fields of the kinds, Depot candidates, constraint operands): one to three numeric segments,
//   optional leading `v`, prerelease and build (`v1.2` is 1.2.0). Four-segment versions are not semver.
// - The *served* form (URL path segments, what the registry protocols hand out): a full semantic version
//   MAJOR.MINOR.PATCH without leading zeros, each number at most nine digits, 128 characters at most — the only
//   shape a client may send and the only shape `terraform init` can resolve.

export interface Version {
  major: number;
  minor: number;
  patch: number;
  prerelease: string[];
  build: string[];
}

export class VersionError extends Error {
  override readonly name: string = "VersionError";
}

const IDENT = "[0-9A-Za-z-]+";
/** The declared form as a regex source; group 1–5: major, minor, patch, prerelease, build. */
export const DECLARED_VERSION = `v?(\\d+)(?:\\.(\\d+))?(?:\\.(\\d+))?(?:-(${IDENT}(?:\\.${IDENT})*))?(?:\\+(${IDENT}(?:\\.${IDENT})*))?`;
const DECLARED_RE = new RegExp(`^${DECLARED_VERSION}$`);
const SERVED_RE = /^v?(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$/;
const MAX_VERSION_LENGTH = 128;

/** Version parts from a match of DECLARED_VERSION starting at group `offset`; undefined when a number overflows. */
export function versionFromMatch(m: RegExpExecArray, offset: number): { version: Version; segments: number } | undefined {
  const [maj, min, pat, pre, build] = [m[offset], m[offset + 1], m[offset + 2], m[offset + 3], m[offset + 4]];
  const nums = [maj, min, pat].map((s) => (s === undefined ? 0 : Number(s)));
  if (nums.some((n) => !Number.isSafeInteger(n))) return undefined;
  // Leading zeros ("01") are accepted, as go-version does, and compare numerically.
  return {
    version: { major: nums[0]!, minor: nums[1]!, patch: nums[2]!, prerelease: pre ? pre.split(".") : [], build: build ? build.split(".") : [] },
    segments: pat !== undefined ? 3 : min !== undefined ? 2 : 1,
  };
}

/** Parses the declared form (`v1.2`, `1.2.3-rc.1+build`); undefined for anything else (a tag like `release-7`). */
export function parseVersion(s: string): Version | undefined {
  const m = DECLARED_RE.exec(s.trim());
  return m ? versionFromMatch(m, 1)?.version : undefined;
}

/** True for the served form: a full semantic version, optionally with a leading `v`. */
export function isSemver(s: string): boolean {
  return s.length <= MAX_VERSION_LENGTH && SERVED_RE.test(s);
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
  // A release ranks above every prerelease of the same core.
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

function mustParse(s: string): Version {
  const v = parseVersion(s);
  if (!v) throw new VersionError(`"${s}" is not a version`);
  return v;
}

/** Semver precedence: -1, 0 or 1. Accepts parsed versions or strings (unparsable strings throw a VersionError). */
export function compareVersions(a: Version | string, b: Version | string): number {
  const x = typeof a === "string" ? mustParse(a) : a;
  const y = typeof b === "string" ? mustParse(b) : b;
  return Math.sign(x.major - y.major) || Math.sign(x.minor - y.minor) || Math.sign(x.patch - y.patch) || comparePrerelease(x.prerelease, y.prerelease);
}

/**
 * Newest first, for version lists: served-form versions by precedence, then anything else (which never reaches a
 * client, but a list must still sort totally) in reverse string order.
 */
export function compareNewestFirst(a: string, b: string): number {
  const va = isSemver(a.trim()) ? parseVersion(a) : undefined;
  const vb = isSemver(b.trim()) ? parseVersion(b) : undefined;
  if (va && vb) return compareVersions(vb, va);
  if (va) return -1;
  if (vb) return 1;
  return a < b ? 1 : a > b ? -1 : 0;
}
