// Opening the embedded store's sqlite file safely: it holds Secrets, so it (and its -wal/-shm companions, which
// SQLite creates with the database file's permissions) is 0600 whatever the umask or an earlier version left; and a
// full disk must not prevent a restart: WAL's shared-memory index needs a new file, so when that cannot be created
// the store is opened in exclusive locking mode (the index then lives in memory; standalone is one process anyway).
// Reads work; writes fail with a StoreError that says "disk full at <path>" until space is freed.
import { chmodSync, closeSync, existsSync, openSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { runtime, type SqlDatabase } from "../runtime/index.ts";
import { StoreError } from "./errors.ts";
import type { StoreLogger } from "./types.ts";

const PRAGMAS = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;";

function tighten(path: string): void {
  for (const p of [path, `${path}-wal`, `${path}-shm`]) {
    try {
      if ((statSync(p).mode & 0o077) !== 0) chmodSync(p, 0o600);
    } catch {
      // absent: nothing to tighten
    }
  }
}

export function isDiskFull(e: unknown): boolean {
  const text = e instanceof Error ? `${(e as { code?: string }).code ?? ""} ${e.message}` : String(e);
  return /SQLITE_FULL|database or disk is full|ENOSPC|EDQUOT|no space left/i.test(text);
}

const isIoError = (e: unknown) => e instanceof Error && /disk I\/O error|SQLITE_IOERR/i.test(`${(e as { code?: string }).code ?? ""} ${e.message}`);

export function diskFull(path: string, e: unknown): StoreError {
  return new StoreError("Unavailable", `disk full at ${dirname(path)}: the store cannot record changes until space is freed (${e instanceof Error ? e.message : String(e)})`);
}

export function openSqliteFile(path: string, log?: StoreLogger): SqlDatabase {
  if (path === ":memory:") {
    const db = runtime.openDatabase(path);
    db.exec(PRAGMAS);
    return db;
  }
  if (!existsSync(path)) closeSync(openSync(path, "a", 0o600));
  tighten(path);
  let db = runtime.openDatabase(path);
  try {
    db.exec(PRAGMAS);
    return db;
  } catch (e) {
    db.close();
    if (!isIoError(e) && !isDiskFull(e)) throw e;
    db = runtime.openDatabase(path);
    db.exec(`PRAGMA locking_mode = EXCLUSIVE; ${PRAGMAS}`);
    log?.error("disk full: opened the store without its shared-memory file; changes fail until space is freed", { path: dirname(path), error: e instanceof Error ? e.message : String(e) });
    return db;
  }
}
