// The Bun implementation of the runtime adapter (the default): the fast Bun APIs, each behind one small method.
// The only production file of src/ that may name `Bun.*` or `bun:*` (see test/structure/runtime-neutral.test.ts).
import { Database, type Statement } from "bun:sqlite";
import hclWasmGz from "@cdktf/hcl2json/main.wasm.gz" with { type: "file" };
import type { ChildProcess, FileWriter, Runtime, Served, ServeContext, ServeOptions, SpawnOptions, SqlDatabase, SqlStatement, SqlValue } from "./types.ts";

function statement<Row, Params extends SqlValue[]>(s: Statement<Row, SqlValue[]>): SqlStatement<Row, Params> {
  return {
    // bun:sqlite answers null for "no row"; the interface promises undefined (node:sqlite's answer).
    get: (...params) => s.get(...params) ?? undefined,
    all: s.all.bind(s),
    run: s.run.bind(s) as (...params: Params) => void,
  };
}

function database(db: Database): SqlDatabase {
  return {
    exec: (sql) => void db.exec(sql),
    // query(), not prepare(): the database owns (caches by SQL text) and finalizes these statements on close, so a
    // clean close checkpoints and removes -wal/-shm. With prepare()d statements still alive, close is deferred until
    // they are collected, the -shm file outlives the process, and a restart on a full disk no longer notices.
    prepare: <Row, Params extends SqlValue[]>(sql: string) => statement<Row, Params>(db.query<Row, SqlValue[]>(sql)),
    transaction: (fn) => db.transaction(fn)(),
    close: () => db.close(),
  };
}

function writer(path: string): FileWriter {
  const sink = Bun.file(path).writer();
  return {
    write: (chunk) => void sink.write(chunk),
    flush: async () => void (await sink.flush()),
    end: async () => void (await sink.end()),
  };
}

function spawn(argv: string[], options: SpawnOptions = {}): ChildProcess {
  const proc = Bun.spawn(argv, {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    ...(options.env ? { env: options.env } : {}),
    ...(options.cwd ? { cwd: options.cwd } : {}),
    ...(options.timeoutMs !== undefined ? { timeout: options.timeoutMs } : {}),
  });
  return {
    stdout: proc.stdout,
    stderr: proc.stderr,
    exited: proc.exited,
    get exitCode() {
      return proc.exitCode;
    },
    get signalCode() {
      return proc.signalCode === null ? null : String(proc.signalCode);
    },
    kill: (signal) => proc.kill(signal),
  };
}

function serve(options: ServeOptions): Served {
  const tls = options.tls && ("certFile" in options.tls ? { cert: Bun.file(options.tls.certFile), key: Bun.file(options.tls.keyFile) } : { cert: options.tls.cert, key: options.tls.key });
  const context: ServeContext = {
    remoteAddress: (request) => server.requestIP(request)?.address,
    keepOpen: (request) => server.timeout(request, 0),
  };
  const handler = options.fetch;
  const fetch = (request: Request) => handler(request, context);
  const server: Bun.Server<undefined> = Bun.serve({
    hostname: options.hostname,
    port: options.port,
    fetch,
    ...(options.maxRequestBodySize !== undefined ? { maxRequestBodySize: options.maxRequestBodySize } : {}),
    ...(options.idleTimeoutSeconds !== undefined ? { idleTimeout: options.idleTimeoutSeconds } : {}),
    ...(tls ? { tls } : {}),
    ...(options.error ? { error: options.error } : {}),
  });
  return {
    get hostname() {
      return server.hostname ?? options.hostname;
    },
    get port() {
      return server.port ?? options.port;
    },
    get url() {
      return server.url;
    },
    stop: (closeActiveConnections) => server.stop(closeActiveConnections),
    setStaticRoutes(routes) {
      // GET-only entries: Bun answers HEAD from them too, and leaves every other method to `fetch` (a bare Response
      // would answer any method). They also reload several times faster than { GET, HEAD } pairs.
      const table: Record<string, { GET: Response }> = {};
      for (const path in routes) table[path] = { GET: routes[path]! };
      server.reload({ fetch, routes: table, ...(options.error ? { error: options.error } : {}) });
    },
  };
}

export const runtime: Runtime = {
  name: "bun",
  version: Bun.version,

  readText: (path) => Bun.file(path).text(),
  readBytes: (path) => Bun.file(path).bytes(),
  readRange: (path, start, end) => Bun.file(path).slice(start, end).bytes(),
  exists: (path) => Bun.file(path).exists(),
  readStream: (path, start, end) => (start === undefined && end === undefined ? Bun.file(path) : Bun.file(path).slice(start, end)).stream(),
  fileBody: (path, start, end) => (start === undefined && end === undefined ? Bun.file(path) : Bun.file(path).slice(start, end)),
  writeFile: async (path, data) => void (await Bun.write(path, data)),
  fileWriter: writer,

  fetch: (input, init) => fetch(input, init),

  crc32: (data, seed = 0) => Bun.hash.crc32(data, seed),

  spawn,
  which: (command) => Bun.which(command) ?? undefined,

  parseYaml: (text) => Bun.YAML.parse(text),
  stringifyYaml: (value, indent = 2) => Bun.YAML.stringify(value, null, indent),

  openDatabase: (path) => database(new Database(path, { create: true })),

  serve,

  files: { hclWasmGz },

  gc: () => Bun.gc(true),
  gcSoon: () => void Bun.gc(false),
};
