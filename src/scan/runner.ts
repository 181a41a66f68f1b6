// Running Trivy. Exit codes carry the meaning (Trivy v0.74 `operation.Exit`, `log.Fatal`): 0 = finished, 1 = fatal
// error, 2 = Go runtime panic. We pass `--exit-code 3` so "finished, found something" is 3 and can never be
// mistaken for a crash (v0.9 read exit 1 as "findings" and recorded a failed scan as clean). stdout is parsed only
// after a successful exit; stderr is kept (bounded) for the log and the condition message. Every run has Trivy's
// own `--timeout` and, behind it, a hard kill.
import { realpathSync } from "node:fs";
import { type ChildProcess, runtime } from "../runtime/index.ts";
import { parseTrivyReport, ReportError, type ParsedReport, type ScanKind } from "./report.ts";

export const EXIT_FINDINGS = 3;

export interface TrivyOptions {
  /** `trivy` (looked up on PATH) or a path to the binary. */
  path: string;
  cacheDir: string;
  /** Air-gapped: use the cached DB as is and make no API calls (--skip-db-update --offline-scan ...). */
  offline: boolean;
  /** Trivy's --timeout; the process is killed a little after it. */
  timeoutMs: number;
  /** Bound on the JSON report read from stdout. */
  maxReportBytes?: number;
  env?: Record<string, string | undefined>;
}

export type ScanErrorKind = "NotInstalled" | "Crashed" | "TimedOut" | "DbMissing" | "Failed" | "BadOutput";

export class ScanError extends Error {
  override readonly name = "ScanError";
  constructor(
    readonly kind: ScanErrorKind,
    message: string,
    readonly stderr = "",
  ) {
    super(message);
  }
}

const goDuration = (ms: number) => `${Math.max(1, Math.ceil(ms / 1000))}s`;

/** The exact command line for a scan of `dir` (documented in the README, checked by the stand-in). */
export function trivyArgs(kind: ScanKind, dir: string, o: Pick<TrivyOptions, "cacheDir" | "offline" | "timeoutMs">): string[] {
  const common = ["--format", "json", "--quiet", "--cache-dir", o.cacheDir, "--timeout", goDuration(o.timeoutMs), "--exit-code", String(EXIT_FINDINGS)];
  if (kind === "module") {
    // `trivy config` has no --scanners/--offline-scan/--skip-db-update: it never loads the vulnerability DB.
    return ["config", ...common, ...(o.offline ? ["--skip-check-update"] : []), dir];
  }
  const offline = o.offline ? ["--skip-db-update", "--offline-scan", "--skip-java-db-update"] : [];
  return [kind === "binary" ? "rootfs" : "fs", ...common, "--scanners", "vuln", "--list-all-pkgs=false", ...offline, dir];
}

function resolveBinary(path: string): string | undefined {
  if (path.includes("/")) {
    try {
      return realpathSync(path);
    } catch {
      return undefined;
    }
  }
  return runtime.which(path);
}

async function readBounded(stream: ReadableStream<Uint8Array>, limit: number, onOverflow: () => void): Promise<{ text: string; overflow: boolean }> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  let overflow = false;
  for await (const chunk of stream) {
    if (overflow) continue; // keep draining so the child never blocks on a full pipe
    size += chunk.byteLength;
    if (size > limit) {
      overflow = true;
      onOverflow();
      continue;
    }
    chunks.push(chunk);
  }
  return { text: Buffer.concat(chunks).toString("utf8"), overflow };
}

/** The last `max` characters, FATAL line first when there is one: what a user needs to see. */
export function shortStderr(stderr: string, max = 600): string {
  const lines = stderr.split("\n").map((l) => l.trimEnd()).filter(Boolean);
  const fatal = lines.find((l) => /\tFATAL\t/.test(l) || l.startsWith("panic:"));
  const text = (fatal ? fatal.replace(/^\S+\tFATAL\t(Fatal error\t)?/, "") : lines.slice(-3).join(" | ")) || "(no output on stderr)";
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

const DB_MISSING = /cannot be specified on the first run|cannot be specified with the old DB schema|first run cannot skip downloading DB/;

function classify(exitCode: number | null, signalCode: unknown, stderr: string, cacheDir: string): ScanError {
  const short = shortStderr(stderr);
  if (DB_MISSING.test(stderr)) {
    return new ScanError(
      "DbMissing",
      `Trivy's vulnerability DB is missing from ${cacheDir} (offline mode never downloads it): seed it with \`trivy image --download-db-only --cache-dir ${cacheDir}\` (the chart's DB-refresh CronJob does this), or turn off --scan-offline. Trivy said: ${short}`,
      stderr,
    );
  }
  if (/failed to download vulnerability DB/.test(stderr)) {
    return new ScanError("DbMissing", `Trivy could not download its vulnerability DB into ${cacheDir}: ${short}`, stderr);
  }
  if (/context deadline exceeded/.test(stderr)) return new ScanError("TimedOut", `Trivy ran out of its --timeout: ${short}`, stderr);
  if (exitCode === 1) return new ScanError("Failed", `Trivy failed (exit 1): ${short}`, stderr);
  return new ScanError("Crashed", `Trivy crashed (${signalCode ? `signal ${signalCode}` : `exit ${exitCode}`}): ${short}`, stderr);
}

/**
 * Trivy's environment. Offline, Trivy needs no network, yet `trivy config` downloads the remote modules a
 * configuration references (not switchable from its CLI), to hosts the module's author chose. So offline runs get
 * a proxy that refuses every connection: Go's HTTP client honours it, and nothing leaves the pod through Trivy.
 * (Defence in depth: a NetworkPolicy on the controller is still the real boundary.)
 */
export function trivyEnv(o: Pick<TrivyOptions, "offline" | "env">): Record<string, string | undefined> {
  const env = { ...(o.env ?? process.env) };
  if (!o.offline) return env;
  for (const k of ["NO_PROXY", "no_proxy"]) delete env[k];
  for (const k of ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"]) env[k] = REFUSING_PROXY;
  return env;
}
const REFUSING_PROXY = "http://127.0.0.1:9";

/** Run one scan; resolves with the parsed report, or rejects with a ScanError. Never resolves on a failed run. */
export async function runTrivy(kind: ScanKind, dir: string, o: TrivyOptions, signal?: AbortSignal): Promise<ParsedReport & { stderr: string }> {
  const binary = resolveBinary(o.path);
  if (!binary) throw new ScanError("NotInstalled", `trivy not found ${o.path.includes("/") ? `at ${o.path}` : "on PATH"}: use the scanning image or set --trivy-path`);
  const args = trivyArgs(kind, dir, o);
  let proc: ChildProcess;
  try {
    proc = runtime.spawn([binary, ...args], { env: trivyEnv(o) });
  } catch (e) {
    throw new ScanError("NotInstalled", `could not start ${binary}: ${(e as Error).message}`);
  }
  let killedFor: "timeout" | "abort" | "output" | undefined;
  const kill = (why: typeof killedFor) => {
    killedFor ??= why;
    proc.kill("SIGKILL");
  };
  // Trivy's own --timeout should fire first; the kill is for a process that is stuck past it.
  const grace = Math.max(1000, Math.min(30_000, o.timeoutMs / 2));
  const timer = setTimeout(() => kill("timeout"), o.timeoutMs + grace);
  const onAbort = () => kill("abort");
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    const [out, err] = await Promise.all([
      readBounded(proc.stdout, o.maxReportBytes ?? 64 * 1024 * 1024, () => kill("output")),
      readBounded(proc.stderr, 256 * 1024, () => {}),
      proc.exited,
    ]);
    const stderr = err.text;
    if (killedFor === "timeout") throw new ScanError("TimedOut", `Trivy did not finish within ${goDuration(o.timeoutMs + grace)} and was killed`, stderr);
    if (killedFor === "abort") throw new ScanError("Failed", "scan cancelled", stderr);
    if (killedFor === "output") throw new ScanError("BadOutput", `Trivy's report exceeded ${o.maxReportBytes ?? 64 * 1024 * 1024} bytes`, stderr);
    if (proc.exitCode !== 0 && proc.exitCode !== EXIT_FINDINGS) throw classify(proc.exitCode, proc.signalCode, stderr, o.cacheDir);
    try {
      return { ...parseTrivyReport(out.text, kind), stderr };
    } catch (e) {
      if (e instanceof ReportError) throw new ScanError("BadOutput", `Trivy exited ${proc.exitCode} but its output is unusable: ${e.message}`, stderr);
      throw e;
    }
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  }
}
