// What differs between the runtimes OpenDepot runs on (Bun, the default, and Deno), and nothing else. Everything
// else in src/ uses Web APIs (fetch, Request/Response, Web Streams, URL, Web Crypto) or `node:` modules both
// runtimes implement natively (`node:fs`, `node:path`, `node:crypto` for hashing, `node:zlib`, `node:os`), and
// imports no `Bun.*` / `bun:*` (test/structure/runtime-neutral.test.ts fails on a new direct use).
//
// An implementation exports `runtime: Runtime` from `src/runtime/<name>.ts` (bun.ts, deno.ts); `index.ts` picks one
// at load. Keep this interface small: a method belongs here only when the runtimes differ in what is fast or in
// what exists at all (path-backed bodies, serving, processes, SQLite, YAML).

/** What `new Response(body)` accepts (BodyInit, without depending on the DOM typings). */
export type ResponseBody = NonNullable<ConstructorParameters<typeof Response>[0]>;

/** One chunk of bytes a database column or parameter may hold. */
export type SqlValue = string | number | bigint | null | Uint8Array;

/** A prepared statement (bun:sqlite `Statement`, node:sqlite `StatementSync`). Rows are plain objects by column name. */
export interface SqlStatement<Row = unknown, Params extends SqlValue[] = SqlValue[]> {
  /** The first row, or undefined when there is none (never null). */
  get(...params: Params): Row | undefined;
  all(...params: Params): Row[];
  run(...params: Params): void;
}

/** The embedded SQLite database: exactly what `store/embedded.ts`, `store/sqlite-file.ts` and `stats/embedded.ts` use. */
export interface SqlDatabase {
  /** Runs one or more `;`-separated statements without results (schema, PRAGMAs). */
  exec(sql: string): void;
  /** A statement of this database; the same SQL text may answer the same (cached) statement. */
  prepare<Row = unknown, Params extends SqlValue[] = SqlValue[]>(sql: string): SqlStatement<Row, Params>;
  /** Runs `fn` inside BEGIN … COMMIT (ROLLBACK and rethrow when it throws); returns what `fn` returns. Synchronous. */
  transaction<R>(fn: () => R): R;
  /** Finalizes every statement prepared on it and closes the file now (a clean close removes -wal and -shm). */
  close(): void;
}

/**
 * A file being written (Bun's `FileSink`): `write` buffers in memory and returns at once, `flush` pushes what is
 * buffered to the file, `end` flushes and closes. Errors (no such directory, full disk) surface from `flush`/`end`
 * at the latest.
 */
export interface FileWriter {
  write(chunk: Uint8Array | string): void;
  flush(): Promise<void>;
  end(): Promise<void>;
}

export interface SpawnOptions {
  /** The child's whole environment (undefined values are left out); the parent's when absent. */
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Killed (SIGTERM) after this many milliseconds. */
  timeoutMs?: number;
}

/** A running child: stdin is closed (ignored), stdout and stderr are piped. */
export interface ChildProcess {
  readonly stdout: ReadableStream<Uint8Array>;
  readonly stderr: ReadableStream<Uint8Array>;
  /** Resolves once the child has exited, with its exit code (as Bun's `exited`: a signal's number + 128 when killed). */
  readonly exited: Promise<number>;
  /** Null until exited, and when the child was killed by a signal. */
  readonly exitCode: number | null;
  /** "SIGKILL", … when a signal ended the child; null otherwise. */
  readonly signalCode: string | null;
  kill(signal?: "SIGTERM" | "SIGKILL"): void;
}

/** Per-listener facilities a handler may need beyond the Request itself (one object per listener, not per request). */
export interface ServeContext {
  /** The peer's IP address, when the listener knows it. */
  remoteAddress(request: Request): string | undefined;
  /** Lifts the listener's idle timeout for this request: a long-lived response (a watch) that is quiet for a while. */
  keepOpen(request: Request): void;
}

export type FetchHandler = (request: Request, context: ServeContext) => Response | Promise<Response>;

export interface ServeOptions {
  hostname: string;
  /** 0 picks a free port. */
  port: number;
  fetch: FetchHandler;
  /** Requests with a larger body are refused by the listener itself. Default: the runtime's (Bun: 128 MiB). */
  maxRequestBodySize?: number;
  /** Seconds a connection may stay idle. Default: the runtime's (Bun: 10). */
  idleTimeoutSeconds?: number;
  /** HTTPS: PEM texts, or paths of PEM files read when the listener starts. */
  tls?: { cert: string; key: string } | { certFile: string; keyFile: string };
  /** Answers when `fetch` throws (the handlers here catch their own errors; this is the listener's last resort). */
  error?: (error: Error) => Response | Promise<Response>;
}

/** TLS settings of one outbound HTTPS request (a Kubernetes API server's CA, a client certificate). */
export interface TlsClientOptions {
  /** PEM of the CA(s) to trust instead of the system's. */
  ca?: string;
  /** PEM client certificate and key. */
  cert?: string;
  key?: string;
  /** false skips server-certificate verification (kubeconfig `insecure-skip-tls-verify`). */
  rejectUnauthorized?: boolean;
}

export interface Served {
  readonly hostname: string;
  readonly port: number;
  /** `http(s)://host:port/`: what the listener reports (Bun's `server.url`). */
  readonly url: URL;
  /** Stops accepting; with `closeActiveConnections` also ends the connections in flight (watches). */
  stop(closeActiveConnections?: boolean): Promise<void>;
  /**
   * Replaces the listener's native route table: GET (and HEAD) of exactly these paths are answered by the runtime
   * from these Responses (If-None-Match → 304 by their ETag) without calling `fetch`; every other method and path
   * still goes to `fetch`. Absent where the runtime has no such table (Deno).
   */
  setStaticRoutes?(routes: Record<string, Response>): void;
}

export interface Runtime {
  /** "bun" or "deno": user agents, `kubectl version`. */
  readonly name: string;
  readonly version: string;

  // ---- files ----
  readText(path: string): Promise<string>;
  readBytes(path: string): Promise<Uint8Array>;
  /** Bytes [start, end) of the file; fewer when the file is shorter. */
  readRange(path: string, start: number, end: number): Promise<Uint8Array>;
  exists(path: string): Promise<boolean>;
  /** The file's bytes as a stream read in chunks, [start, end) when given (memory stays flat whatever the size). */
  readStream(path: string, start?: number, end?: number): ReadableStream<Uint8Array>;
  /**
   * A `Response`/`Request` body that is the file itself, [start, end) when given. On Bun a path-backed `Bun.file`,
   * which the server sends with kernel copies (sendfile) instead of through JavaScript; elsewhere a stream.
   */
  fileBody(path: string, start?: number, end?: number): ResponseBody;
  /** Creates or truncates the file. */
  writeFile(path: string, data: string | Uint8Array): Promise<void>;
  /** Creates or truncates the file; see FileWriter. */
  fileWriter(path: string): FileWriter;

  // ---- outbound HTTP ----
  /** The global `fetch`, plus `tls` per request (Bun: its own `tls` init option; Deno: an HttpClient). */
  fetch(input: string | URL | Request, init?: RequestInit & { tls?: TlsClientOptions }): Promise<Response>;

  // ---- checksums ----
  /** CRC-32 (zip's) of `data`, continuing from `seed` (0 to start). */
  crc32(data: Uint8Array, seed?: number): number;

  // ---- processes ----
  /** Starts `argv[0]` with `argv.slice(1)`; throws at once when it cannot be started (not found, not executable). */
  spawn(argv: string[], options?: SpawnOptions): ChildProcess;
  /** The absolute path of `command` on PATH, or undefined. */
  which(command: string): string | undefined;

  // ---- YAML (YAML 1.2, JSON-compatible values) ----
  /** One document's value (a stream of several documents: an array of their values, as Bun.YAML does). Throws on bad syntax. */
  parseYaml(text: string): unknown;
  /** Block-style YAML of a JSON-compatible value, `indent` spaces per level (default 2), no trailing newline guaranteed. */
  stringifyYaml(value: unknown, indent?: number): string;

  // ---- embedded SQLite ----
  /** Opens (creating when missing) the database file; ":memory:" for one in memory. */
  openDatabase(path: string): SqlDatabase;

  // ---- serving ----
  /** Listens and serves `fetch` until stopped. */
  serve(options: ServeOptions): Served;

  /**
   * Package files read at run time that a single-file build must carry: paths on disk (Bun: `with { type: "file" }`
   * imports, which `bun build --compile` embeds; elsewhere the file in node_modules).
   */
  readonly files: {
    /** HashiCorp's HCL parser as gzipped WebAssembly (`@cdktf/hcl2json/main.wasm.gz`), for artifacts/hcl-worker.ts. */
    readonly hclWasmGz: string;
  };

  /** A full garbage collection, when the runtime offers one (a no-op otherwise). */
  gc(): void;
  /** Ask for a collection without waiting for it (the collector runs it concurrently); a no-op where there is none. */
  gcSoon(): void;
}
