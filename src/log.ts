// Structured JSON logging: one line per event on stdout, machine-readable, never containing secrets.
import { writeSync } from "node:fs";
export type Level = "debug" | "info" | "warn" | "error";
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
  /** Whether lines of `level` are written: lets a hot path skip building the fields of a line nobody sees. */
  enabled(level: Level): boolean;
  /**
   * The start of a line of `level` and `msg` (`{"time":…,"level":…,"msg":…` and the logger's own fields, no closing
   * brace), or undefined when that level is not written. With rawLine, a hot path such as the access log builds its
   * whole line in one string, with the same shape as the other methods' lines.
   */
  rawHead(level: Level, msg: string): string | undefined;
  /** Writes a whole line that starts with rawHead's text and ends with `}`. */
  rawLine(line: string): void;
}

export interface LoggerOptions {
  level?: Level;
  /** Where lines go; stdout by default. Tests pass a collector. */
  write?: (line: string) => void;
  fields?: Record<string, unknown>;
}

function errorFields(value: unknown): unknown {
  if (value instanceof Error) return { message: value.message, name: value.name };
  return value;
}

// The current time as ISO text, formatted at most once per millisecond: request logs ask for it thousands of times
// a second, and Date#toISOString is a measurable share of a request.
let lastMs = -1;
let lastIso = "";
export function isoNow(): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const min = ORDER[options.level ?? ((process.env.OPENDEPOT_LOG_LEVEL as Level | undefined) ?? "info")] ?? ORDER.info;
  const write = options.write ?? batchedStdout;
  const base = options.fields ?? {};
  let baseMembers: string | undefined;
  let rawHead = "";
  let rawTime = "";
  let rawLevel = "";
  let rawMsg = "";
  // Everything before the members is the same for every line of one millisecond, level and message: built once.
  const headOf = (level: Level, msg: string): string | undefined => {
    if (ORDER[level] < min) return undefined;
    const time = isoNow();
    if (time !== rawTime || level !== rawLevel || msg !== rawMsg) {
      baseMembers ??= Object.keys(base).length ? `,${JSON.stringify(base).slice(1, -1)}` : "";
      rawHead = `{"time":"${time}","level":"${level}","msg":${JSON.stringify(msg)}${baseMembers}`;
      rawTime = time;
      rawLevel = level;
      rawMsg = msg;
    }
    return rawHead;
  };
  const emit = (level: Level, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[level] < min) return;
    const record: Record<string, unknown> = { time: isoNow(), level, msg, ...base };
    if (fields) for (const [k, v] of Object.entries(fields)) record[k] = errorFields(v);
    write(JSON.stringify(record));
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    child: (fields) => createLogger({ ...options, fields: { ...base, ...fields } }),
    enabled: (level) => ORDER[level] >= min,
    rawHead: (level, msg) => headOf(level, msg),
    rawLine: write,
  };
}

// Lines are collected and written every few milliseconds, or sooner once many are waiting: one write for hundreds
// of request logs under load. Whatever is pending when the process exits is written then (synchronously). Each line
// is encoded straight into one reusable buffer as it is logged: no array of lines, no joined string, no new buffer
// per batch (in a server with stdout on /dev/null, an access-log line went from ~1.1 to ~0.8 µs CPU; noisy figures).
const FLUSH_AFTER_MS = 5;
const FLUSH_AT_LINES = 512;
const BATCH_BYTES = 64 * 1024;
const batch = Buffer.allocUnsafe(BATCH_BYTES);
/** Encodes `text` at `offset` of the batch, returning the bytes written: Node's and Bun's utf8Write (half the cost
 * of `write(text, offset, "utf8")`, which parses its arguments first), or write where a runtime lacks it. */
const encodeAt: (text: string, offset: number) => number =
  (batch as unknown as { utf8Write?: (text: string, offset: number) => number }).utf8Write?.bind(batch) ?? ((text, offset) => batch.write(text, offset, "utf8"));
let batchUsed = 0;
let batchLines = 0;
let batchesWritten = 0;
/** How many batches the stdout log has written (tests check that lines really are batched). */
export const stdoutBatchesWritten = () => batchesWritten;
let timer: ReturnType<typeof setTimeout> | undefined;
function flush() {
  if (timer !== undefined) clearTimeout(timer);
  timer = undefined;
  if (batchUsed === 0) return;
  const length = batchUsed;
  batchUsed = 0;
  batchLines = 0;
  writeOut(batch, length);
}

/**
 * Writes `length` bytes of `bytes` to stdout before returning. process.stdout.write queues what the pipe does not
 * take at once and that queue is dropped when the process exits (a 128 KiB batch was cut short at exit), so lines
 * are written synchronously, as Node writes to pipes on Linux. A stdout that is non-blocking is retried, then left to
 * the stream (with a copy: `bytes` is the reused batch buffer).
 */
function writeOut(bytes: Buffer, length = bytes.length): void {
  batchesWritten++;
  let offset = 0;
  for (let attempts = 0; offset < length; ) {
    try {
      offset += writeSync(1, bytes, offset, length - offset);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EAGAIN" || ++attempts > 10_000) {
        process.stdout.write(Buffer.from(bytes.subarray(offset, length)));
        return;
      }
    }
  }
}
function batchedStdout(line: string) {
  // UTF-8 takes at most 3 bytes per UTF-16 unit: a line is only encoded where it surely fits (never cut short).
  const room = line.length * 3 + 1;
  if (BATCH_BYTES - batchUsed < room) {
    flush();
    if (room > BATCH_BYTES) return writeOut(Buffer.from(`${line}\n`));
  }
  const first = batchUsed === 0;
  batchUsed += encodeAt(line, batchUsed);
  batch[batchUsed++] = 10; // \n
  if (++batchLines >= FLUSH_AT_LINES) flush();
  else if (first) {
    timer = setTimeout(flush, FLUSH_AFTER_MS);
    // A pending log line is no reason to keep the process alive: the exit hook writes it.
    (timer as { unref?: () => void }).unref?.();
  }
}
process.on("exit", flush);

/** A logger that drops everything (tests that don't look at logs). */
export const silentLogger: Logger = createLogger({ write: () => {} });
