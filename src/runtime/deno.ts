// The Deno implementation of the runtime adapter. deno.json's import map puts this file in the place of bun.ts
// (see src/runtime/README.md), so it exports the same `runtime`. Files go through `node:fs` (the same error codes
// as on Bun: ENOENT, EACCES, ENOSPC), YAML through the `yaml` package, SQLite through `node:sqlite`, processes
// through Deno.Command, serving through Deno.serve and HTTPS with per-request TLS settings through node:https.
import { accessSync, constants, statSync } from "node:fs";
import { mkdir, open, readFile, stat, writeFile, type FileHandle } from "node:fs/promises";
import { createRequire } from "node:module";
import { constants as osConstants } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { crc32 } from "node:zlib";
import { parseAllDocuments, stringify } from "yaml";
import { serveOnDeno } from "./deno-serve.ts";
import { fetchWithTls } from "./deno-tls-fetch.ts";
import { openDenoDatabase } from "./deno-sqlite.ts";
import { deno } from "./deno-globals.ts";
import type { ChildProcess, FileWriter, Runtime, SpawnOptions, TlsClientOptions } from "./types.ts";

const CHUNK = 64 * 1024;

/** The file's bytes [start, end) as a pull stream: one chunk in memory at a time. */
function fileStream(path: string, start = 0, end = Infinity): ReadableStream<Uint8Array> {
  let handle: FileHandle | undefined;
  let position = start;
  const close = async () => {
    const h = handle;
    handle = undefined;
    await h?.close();
  };
  return new ReadableStream<Uint8Array>({
    async start() {
      handle = await open(path, "r");
    },
    async pull(controller) {
      const want = Math.min(CHUNK, end - position);
      if (want <= 0 || !handle) {
        await close();
        return controller.close();
      }
      const buffer = new Uint8Array(want);
      const { bytesRead } = await handle.read(buffer, 0, want, position);
      if (bytesRead === 0) {
        await close();
        return controller.close();
      }
      position += bytesRead;
      controller.enqueue(bytesRead === want ? buffer : buffer.subarray(0, bytesRead));
    },
    cancel: close,
  });
}

async function readRange(path: string, start: number, end: number): Promise<Uint8Array> {
  const handle = await open(path, "r");
  try {
    const size = (await handle.stat()).size;
    const length = Math.max(0, Math.min(end, size) - start);
    const buffer = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await handle.read(buffer, done, length - done, start + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return done === length ? buffer : buffer.subarray(0, done);
  } finally {
    await handle.close();
  }
}

/** Bun.write creates missing parent directories; so does this. */
async function writeWhole(path: string, data: string | Uint8Array): Promise<void> {
  try {
    await writeFile(path, data);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, data);
  }
}

/** Past this many buffered bytes a write starts pushing them to the file (Bun's FileSink flushes on its own too). */
const WRITER_HIGH_WATER = 1024 * 1024;

function fileWriter(path: string): FileWriter {
  const opened = open(path, "w");
  opened.catch(() => {}); // surfaces from flush/end
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  // Writes to the file happen one after another, in order; the first failure is kept for flush/end.
  let chain: Promise<void> = Promise.resolve();
  let failure: unknown;
  const encoder = new TextEncoder();
  const drain = () => {
    const chunks = pending;
    pending = [];
    pendingBytes = 0;
    chain = chain.then(async () => {
      if (failure !== undefined) return;
      try {
        const handle = await opened;
        for (const chunk of chunks) {
          let done = 0;
          while (done < chunk.byteLength) done += (await handle.write(chunk, done, chunk.byteLength - done)).bytesWritten;
        }
      } catch (e) {
        failure = e;
      }
    });
    return chain;
  };
  const flush = async () => {
    await drain();
    if (failure !== undefined) throw failure;
  };
  return {
    write(chunk) {
      // A copy, as Bun's FileSink takes one: the caller may reuse its buffer before the flush.
      const bytes = typeof chunk === "string" ? encoder.encode(chunk) : chunk.slice();
      pending.push(bytes);
      pendingBytes += bytes.byteLength;
      if (pendingBytes >= WRITER_HIGH_WATER) void drain();
    },
    flush,
    async end() {
      try {
        await flush();
      } finally {
        await (await opened.catch(() => undefined))?.close();
      }
    },
  };
}

function which(command: string): string | undefined {
  const candidates = command.includes("/") ? [command] : (process.env.PATH ?? "").split(delimiter).filter(Boolean).map((dir) => join(dir, command));
  for (const candidate of candidates) {
    try {
      if (!statSync(candidate).isFile()) continue;
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

const signalNumber = (signal: string) => (osConstants.signals as Record<string, number>)[signal] ?? 0;

function spawn(argv: string[], options: SpawnOptions = {}): ChildProcess {
  const [command, ...args] = argv;
  if (!command) throw new Error("spawn: empty argv");
  const env = options.env && Object.fromEntries(Object.entries(options.env).filter((e): e is [string, string] => e[1] !== undefined));
  // Deno.Command throws at once when the program cannot be started, as Bun.spawn does.
  const child = new (deno().Command)(command, { args, stdin: "null", stdout: "piped", stderr: "piped", ...(options.cwd ? { cwd: options.cwd } : {}), ...(env ? { env, clearEnv: true } : {}) }).spawn();
  let exitCode: number | null = null;
  let signalCode: string | null = null;
  let running = true;
  const kill = (signal: "SIGTERM" | "SIGKILL" = "SIGTERM") => {
    if (!running) return;
    try {
      child.kill(signal);
    } catch {
      // exited meanwhile
    }
  };
  const timer = options.timeoutMs !== undefined ? setTimeout(() => kill("SIGTERM"), options.timeoutMs) : undefined;
  const exited = child.status.then((status) => {
    running = false;
    clearTimeout(timer);
    signalCode = status.signal;
    exitCode = status.signal ? null : status.code;
    return status.signal ? 128 + signalNumber(status.signal) : status.code;
  });
  return {
    stdout: child.stdout,
    stderr: child.stderr,
    exited,
    get exitCode() {
      return exitCode;
    },
    get signalCode() {
      return signalCode;
    },
    kill,
  };
}

/** One document's value, or an array of the values of a stream of several (what Bun.YAML.parse answers). */
function parseYaml(text: string): unknown {
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) return null; // an empty stream
  for (const doc of docs) if (doc.errors.length > 0) throw doc.errors[0];
  const values = docs.map((doc) => doc.toJS({ maxAliasCount: 100 }) as unknown);
  if (values.length === 0) return null;
  return values.length === 1 ? values[0] : values;
}

/** The global fetch; with TLS settings, node:https (see deno-tls-fetch.ts for why). */
function fetchWith(input: string | URL | Request, init?: RequestInit & { tls?: TlsClientOptions }): Promise<Response> {
  if (!init?.tls) return fetch(input, init);
  const { tls, ...rest } = init;
  return fetchWithTls(input, rest, tls);
}

// Package files read at run time, where they are installed (node_modules).
const requireHere = createRequire(import.meta.url);

export const runtime: Runtime = {
  name: "deno",
  version: deno().version.deno,

  readText: (path) => readFile(path, "utf8"),
  readBytes: async (path) => new Uint8Array(await readFile(path)),
  readRange,
  exists: async (path) => (await stat(path).catch(() => undefined))?.isFile() ?? false,
  readStream: (path, start, end) => fileStream(path, start, end),
  fileBody: (path, start, end) => fileStream(path, start, end),
  writeFile: writeWhole,
  fileWriter,

  fetch: fetchWith,

  crc32: (data, seed = 0) => crc32(data, seed),

  spawn,
  which,

  parseYaml,
  stringifyYaml: (value, indent = 2) => stringify(value, { indent, lineWidth: 0 }),

  openDatabase: openDenoDatabase,

  serve: serveOnDeno,

  files: {
    hclWasmGz: requireHere.resolve("@cdktf/hcl2json/main.wasm.gz"),
  },

  gc: () => (globalThis as { gc?: () => void }).gc?.(),
  // V8 has no asynchronous request from JavaScript: V8's own heuristics stand (its --max-old-space-size bounds it).
  gcSoon: () => {},
};
