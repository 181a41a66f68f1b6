// The scan stage of the Version controller: when to scan, what to scan (always the stored bytes, never a second
// upstream download), and the verdict the registry server obeys (status.scanVerdict.blocked).
// - Module: `trivy config` on the extracted archive → status.sourceScan.
// - Provider build: `trivy rootfs` on its executable → status.binaryScan; `trivy fs` on go.mod/go.sum of the
//   source repository at the tag → status.sourceScan, once per provider version (shared by its OS/arch builds).
// Rescans: forced (new bytes, forceSync), when the policy or the vulnerability DB changes (fingerprint), when an
// ignore entry expires, after --rescan-interval, and after a failed scan. Scanner trouble never passes silently:
// under a block policy, bytes not yet served and never scanned successfully are held; a rescan that fails keeps
// the last successful results of the same bytes, and bytes served before they could be scanned stay served (an
// outage never unserves).
import { recordScanResult } from "../metrics/controllers.ts";
import type { VersionObject } from "../api/kinds.ts";
import type { ScanResult, ScanVerdict, SecurityFinding } from "../api/types.ts";
import type { Logger } from "../log.ts";
import { vulnDbUpdatedAt } from "../scan/db.ts";
import { blockThreshold, describeFinding, effectivePolicy, evaluate, isGated, policyFingerprint, type PolicyDefaults, type ScanPolicy } from "../scan/policy.ts";
import { WorkerPool } from "../scan/pool.ts";
import type { ParsedReport, ScanKind } from "../scan/report.ts";
import { runTrivy, type TrivyOptions } from "../scan/runner.ts";
import { SEVERITIES, zeroCounts } from "../scan/severity.ts";
import type { OpenTofuDocsClient } from "../sources/opentofu-docs.ts";
import type { ObjectCache } from "../store/multi-namespace-cache.ts";
import type { ResourceStore } from "../store/types.ts";
import type { ArtifactLocation } from "../storage/locate.ts";
import { describeError, type ConditionInput } from "./conditions.ts";
import { fetchGoModules, GoModuleCache, resolveSourceRepository } from "./provider-source.ts";
import { moduleTree, providerRootfs, withTempDir } from "./scan-inputs.ts";
import type { Upstreams } from "./upstreams.ts";
import { moduleArchiveFormat } from "../api/naming.ts";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { LABELS } from "../api/meta.ts";

export interface ScanSettings {
  enabled: boolean;
  /** Module IaC scans (`--scan-modules`); provider scans run whenever scanning is enabled. */
  modules: boolean;
  trivy: TrivyOptions;
  defaults: PolicyDefaults;
  rescanIntervalMs: number;
  maxFindings: number;
  concurrency: number;
  tmpDir?: string;
}

export interface ScanDeps {
  store: ResourceStore;
  upstreams: Upstreams;
  docs: OpenTofuDocsClient;
  versions: ObjectCache<VersionObject>;
  locate: (v: VersionObject, fileName: string) => ArtifactLocation;
}

export interface ScanReview {
  /** Status fields to write: sourceScan, binaryScan, scanVerdict. */
  status: Record<string, unknown>;
  blocked: boolean;
  /** Ready when the verdict decides it (blocked, or served unscanned), and Scanned. */
  conditions: ConditionInput[];
  message: string;
  /** Rethrown after the status is written, so the scan is retried with backoff (no re-download). */
  error?: unknown;
  requeueAfterMs?: number;
}

interface Scanned {
  parsed: ParsedReport;
  source: string;
  dbUpdatedAt?: string;
}

const STALE_DB_DAYS = 7;
const iso = (ms = Date.now()) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
const countsText = (c: Record<string, number>) => SEVERITIES.filter((s) => c[s]).map((s) => `${c[s]} ${s}`).join(", ") || "no findings";

export class VersionScanner {
  private readonly pool: WorkerPool;
  /** Provider source scans in flight or recently done, shared by the builds of one version. */
  private readonly sourceScans = new Map<string, { at: number; result: Promise<Scanned> }>();
  private readonly goModules = new GoModuleCache();

  constructor(
    private readonly settings: ScanSettings,
    private readonly deps: ScanDeps,
  ) {
    this.pool = new WorkerPool(settings.concurrency);
  }

  applies(v: VersionObject): boolean {
    return this.settings.enabled && (v.spec.type === "Provider" || this.settings.modules);
  }

  policyOf(v: VersionObject): ScanPolicy {
    const config = v.spec.type === "Module" ? v.spec.moduleConfigRef?.scanConfig : v.spec.providerConfigRef?.scanConfig;
    return effectivePolicy(this.settings.defaults, config);
  }

  /** Decide (scanning when due) whether the artifact `{fileName, checksum}` of `v` may be served. */
  async review(v: VersionObject, artifact: { fileName: string; checksum: string }, ctx: { force: boolean; log: Logger; signal: AbortSignal }): Promise<ScanReview | undefined> {
    const prior = v.status?.scanVerdict;
    if (!this.applies(v)) {
      if (!prior || prior.reason === "ScanningDisabled") return undefined;
      const message = "scanning is off for this version: it is served unscanned";
      return { status: { scanVerdict: { blocked: false, reason: "ScanningDisabled", message, evaluatedAt: iso() } }, blocked: false, message, conditions: [{ type: "Scanned", status: "False", reason: "ScanningDisabled", message }] };
    }
    const now = Date.now();
    const policy = this.policyOf(v);
    const db = v.spec.type === "Provider" ? await vulnDbUpdatedAt(this.settings.trivy.cacheDir) : undefined;
    const fingerprint = policyFingerprint(policy, now, { db, kind: v.spec.type });
    const requeueAfterMs = this.nextCheck(v, policy, now);
    const last = Math.max(Date.parse(v.status?.sourceScan?.scannedAt ?? "") || 0, Date.parse(v.status?.binaryScan?.scannedAt ?? "") || 0);
    const due = ctx.force || !prior || prior.policy !== fingerprint || prior.reason === "ScanFailed" || prior.reason === "ScanningDisabled" || last <= now - this.settings.rescanIntervalMs;
    if (!due) return { status: {}, blocked: prior.blocked, message: prior.message ?? "", conditions: conditionsFor(prior, policy), requeueAfterMs };

    let results: { sourceScan?: Scanned; binaryScan?: Scanned };
    try {
      results = await this.scan(v, artifact, db, ctx.force, ctx.log, ctx.signal);
    } catch (error) {
      return { ...this.failed(v, artifact.checksum, policy, fingerprint, error, ctx.log), error, requeueAfterMs };
    }
    const status: Record<string, unknown> = {};
    const blocking: SecurityFinding[] = [];
    const invalid = new Set<string>();
    const scannedAt = iso();
    for (const field of ["binaryScan", "sourceScan"] as const) {
      const r = results[field];
      if (!r) continue;
      const ev = evaluate(r.parsed.findings, policy, now);
      blocking.push(...ev.blocking);
      for (const e of ev.invalid) invalid.add(e.id);
      const result: ScanResult = { scannedAt, findings: ev.findings.slice(0, this.settings.maxFindings), counts: r.parsed.counts, source: r.source };
      // Status is merge-patched: null removes what an earlier scan recorded and this one did not.
      status[field] = { ...result, scanner: r.parsed.scanner ?? null, dbUpdatedAt: r.dbUpdatedAt ?? null };
    }
    const verdict = this.verdictOf(blocking, policy, fingerprint, [...invalid], results);
    if (verdict.blocked && !prior?.blocked) ctx.log.warn("version blocked by the scan policy; it is not served", { message: verdict.message });
    else if (!verdict.blocked && prior?.blocked) ctx.log.info("version passes the scan policy; it is served", { message: verdict.message });
    status.scanVerdict = verdict;
    recordScanResult(verdict.blocked ? "blocked" : "passed");
    return { status, blocked: verdict.blocked, message: verdict.message ?? "", conditions: conditionsFor(verdict, policy), requeueAfterMs };
  }

  /** When to look again without an event: the rescan interval, or the next expiry of an ignore entry. */
  private nextCheck(v: VersionObject, policy: ScanPolicy, now: number): number {
    const expiries = policy.ignore.map((e) => e.expiresAt).filter((t): t is number => t !== undefined && Number.isFinite(t) && t > now);
    const last = Math.max(Date.parse(v.status?.sourceScan?.scannedAt ?? "") || now, Date.parse(v.status?.binaryScan?.scannedAt ?? "") || 0);
    return Math.max(1000, Math.min(last + this.settings.rescanIntervalMs - now, ...expiries.map((t) => t - now + 1000)));
  }

  private verdictOf(blocking: SecurityFinding[], policy: ScanPolicy, fingerprint: string, invalid: string[], results: { sourceScan?: Scanned; binaryScan?: Scanned }): ScanVerdict {
    const threshold = blockThreshold(policy);
    let note = invalid.length ? `; scanConfig.ignore entries with an unparseable expiry do not apply: ${invalid.join(", ")}` : "";
    // A DB that stopped being refreshed learns no new CVEs: say so instead of passing quietly on old knowledge.
    const db = results.binaryScan?.dbUpdatedAt;
    const ageDays = db ? (Date.now() - Date.parse(db)) / 86_400_000 : 0;
    if (ageDays > STALE_DB_DAYS) note += `; the vulnerability DB is ${Math.floor(ageDays)} days old (UpdatedAt ${db}): is the DB refresh job running?`;
    if (blocking.length) {
      const worst = [...blocking].sort((a, b) => SEVERITIES.indexOf(a.severity as never) - SEVERITIES.indexOf(b.severity as never))[0]!;
      const more = blocking.length > 1 ? ` and ${blocking.length - 1} more finding(s) at or above ${threshold}` : "";
      return { blocked: true, reason: "ScanPolicyViolation", message: `blocked by ${describeFinding(worst)}${more}${note}`, policy: fingerprint, evaluatedAt: iso() };
    }
    const counts = zeroCounts();
    for (const r of [results.binaryScan, results.sourceScan]) if (r) for (const s of SEVERITIES) counts[s] += r.parsed.counts[s];
    const gate = threshold ? `none unaccepted at or above ${threshold}` : "no block policy";
    return { blocked: false, reason: "Passed", message: `scanned: ${countsText(counts)}; ${gate}${note}`, policy: fingerprint, evaluatedAt: iso() };
  }

  private failed(v: VersionObject, checksum: string, policy: ScanPolicy, fingerprint: string, error: unknown, log: Logger): Omit<ScanReview, "error"> {
    const reason = describeError(error);
    recordScanResult("failed");
    log.warn("scan failed", { error: reason, stderr: (error as { stderr?: string }).stderr?.slice(-2000) });
    // The last successful results still say what is in the artifact (if they are about these bytes, not ones the
    // new fetch replaces); judge them under the current policy.
    const sameBytes = v.status?.checksum === checksum;
    const previous = sameBytes ? [v.status?.binaryScan, v.status?.sourceScan].filter((s): s is ScanResult => !!s) : [];
    let blocked: boolean;
    let message: string;
    if (previous.length) {
      const blocking = previous.flatMap((s) => evaluate(s.findings ?? [], policy).blocking);
      blocked = blocking.length > 0;
      message = `scan failed: ${reason}; the last successful scan (${previous[0]!.scannedAt}) ${blocked ? `blocks: ${describeFinding(blocking[0]!)}` : "passes"}`;
    } else {
      // Fail closed for bytes not yet served; bytes already served (before scanning or a gate was turned on) stay
      // served: an outage of the scanner must not take away what users already install. A successful scan decides.
      const served = sameBytes && v.status?.synced === true && v.status?.scanVerdict?.blocked !== true;
      blocked = isGated(policy) && !served;
      message = blocked
        ? `scan failed and a block policy is set, so the version is not served until a scan succeeds: ${reason}`
        : isGated(policy)
          ? `served unscanned (it was served before it could be scanned; a successful scan decides): ${reason}`
          : `served unscanned: ${reason}`;
    }
    const verdict: ScanVerdict = { blocked, reason: "ScanFailed", message, policy: fingerprint, evaluatedAt: iso() };
    const conditions: ConditionInput[] = [{ type: "Scanned", status: "False", reason: "ScanFailed", message }];
    if (blocked || !previous.length) conditions.push({ type: "Ready", status: blocked ? "False" : "True", reason: blocked ? "ScanFailed" : "Unscanned", message });
    return { status: { scanVerdict: verdict }, blocked, message, conditions };
  }

  private async scan(v: VersionObject, artifact: { fileName: string; checksum: string }, db: string | undefined, force: boolean, log: Logger, signal: AbortSignal): Promise<{ sourceScan?: Scanned; binaryScan?: Scanned }> {
    const location = this.deps.locate(v, artifact.fileName);
    const base = this.settings.tmpDir;
    if (v.spec.type === "Module") {
      const format = artifact.fileName.endsWith(".zip") ? "zip" : moduleArchiveFormat(v.spec.moduleConfigRef?.fileFormat);
      const parsed = await withTempDir("modscan", base, async (tmp) => this.trivy("module", await moduleTree(location, artifact.checksum, format, tmp), signal));
      return { sourceScan: { parsed, source: `module archive ${artifact.fileName}` } };
    }
    const binaryScan = await withTempDir("binscan", base, async (tmp) => {
      const rootfs = await providerRootfs(location, artifact.checksum, tmp);
      const parsed = await this.trivy("binary", rootfs.dir, signal);
      return { parsed, source: rootfs.entry ? `provider executable ${rootfs.entry}` : "provider package without an executable entry", dbUpdatedAt: db };
    });
    const sourceScan = await this.sharedSourceScan(v, db, force, log, signal);
    return { binaryScan, sourceScan };
  }

  private trivy(kind: ScanKind, dir: string, signal: AbortSignal): Promise<ParsedReport> {
    return this.pool.run(() => runTrivy(kind, dir, { ...this.settings.trivy, env: { ...process.env, ...this.settings.trivy.env } }, signal), signal);
  }

  /** One go.mod scan per provider version and DB, whichever build asks first; the others wait for it. */
  private sharedSourceScan(v: VersionObject, db: string | undefined, force: boolean, log: Logger, signal: AbortSignal): Promise<Scanned> {
    const ns = v.metadata.namespace ?? "default";
    const provider = v.metadata.labels?.[LABELS.provider] ?? v.spec.providerConfigRef?.name ?? "";
    const version = v.spec.version.replace(/^v/i, "");
    const key = `${ns}\0${provider}\0${version}\0${db ?? ""}\0${v.spec.providerConfigRef?.sourceRepository ?? ""}`;
    const now = Date.now();
    const cached = this.sourceScans.get(key);
    if (cached && cached.at > now - this.settings.rescanIntervalMs) return cached.result;
    const sibling = this.deps.versions
      .list(ns)
      .find((o) => o.metadata.name !== v.metadata.name && o.metadata.labels?.[LABELS.provider] === provider && o.spec.version.replace(/^v/i, "") === version &&
        o.status?.sourceScan?.dbUpdatedAt === db && Date.parse(o.status?.sourceScan?.scannedAt ?? "") > now - this.settings.rescanIntervalMs && o.status?.scanVerdict?.reason !== "ScanFailed");
    const result = sibling?.status?.sourceScan
      ? Promise.resolve(fromStored(sibling.status.sourceScan))
      : this.sourceScan(v, db, force, log, signal);
    this.sourceScans.set(key, { at: now, result });
    if (this.sourceScans.size > 512) this.sourceScans.delete(this.sourceScans.keys().next().value!);
    result.catch(() => this.sourceScans.get(key)?.result === result && this.sourceScans.delete(key));
    return result;
  }

  private async sourceScan(v: VersionObject, db: string | undefined, force: boolean, log: Logger, signal: AbortSignal): Promise<Scanned> {
    const repo = await resolveSourceRepository(v, this.deps.store, this.deps.docs, this.deps.upstreams.githubHosts);
    const ns = v.metadata.namespace ?? "default";
    const mods = await this.goModules.get(`${ns}\0${repo.url}\0${v.spec.version}`, async () => {
      const github = await this.deps.upstreams.github(ns, v.spec.providerConfigRef?.githubClientConfig?.useAuthenticatedClient === true);
      return fetchGoModules(github, repo, v.spec.version);
    }, force && v.spec.forceSync === true);
    if (!mods) {
      log.info("no go.mod in the provider's source repository at this version; source not scanned", { repository: repo.url });
      return { parsed: { findings: [], counts: zeroCounts() }, source: `no go.mod at v${v.spec.version.replace(/^v/i, "")} in ${repo.url} (${repo.how}): source not scanned`, dbUpdatedAt: db };
    }
    const parsed = await withTempDir("srcscan", this.settings.tmpDir, async (tmp) => {
      const dir = join(tmp, "src");
      await mkdir(dir, { mode: 0o700 });
      for (const [name, bytes] of Object.entries(mods.files)) await writeFile(join(dir, name), bytes, { mode: 0o600 });
      return this.trivy("source", dir, signal);
    });
    return { parsed, source: `${Object.keys(mods.files).join(" + ")} at ${mods.ref} of ${repo.url} (${repo.how})`, dbUpdatedAt: db };
  }
}

function fromStored(s: ScanResult): Scanned {
  const counts = zeroCounts();
  for (const sev of SEVERITIES) counts[sev] = s.counts?.[sev] ?? 0;
  return { parsed: { findings: (s.findings ?? []).map(({ ignored: _i, ...f }) => f), counts, ...(s.scanner ? { scanner: s.scanner } : {}) }, source: s.source ?? "shared with another build", dbUpdatedAt: s.dbUpdatedAt };
}

/** The conditions a verdict implies: Scanned, and Ready when the verdict holds the version back. */
function conditionsFor(verdict: ScanVerdict, policy: ScanPolicy): ConditionInput[] {
  const message = verdict.message ?? "";
  if (verdict.reason === "ScanFailed") {
    const out: ConditionInput[] = [{ type: "Scanned", status: "False", reason: "ScanFailed", message }];
    if (verdict.blocked) out.push({ type: "Ready", status: "False", reason: "ScanFailed", message });
    return out;
  }
  const out: ConditionInput[] = [{ type: "Scanned", status: "True", reason: verdict.blocked ? "ScanPolicyViolation" : isGated(policy) ? "Passed" : "NoBlockPolicy", message }];
  if (verdict.blocked) out.push({ type: "Ready", status: "False", reason: "ScanPolicyViolation", message });
  return out;
}
