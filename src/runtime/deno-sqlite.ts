// The embedded SQLite database on Deno: `node:sqlite`'s DatabaseSync (SQLite compiled into Deno), behind the same
// SqlDatabase interface as bun:sqlite. The file format is SQLite's own, so a store written by one runtime opens
// in the other.
import { DatabaseSync, type StatementSync } from "node:sqlite";
import type { SqlDatabase, SqlStatement, SqlValue } from "./types.ts";

function statement<Row, Params extends SqlValue[]>(s: StatementSync): SqlStatement<Row, Params> {
  return {
    get: (...params) => s.get(...params) as Row | undefined,
    all: (...params) => s.all(...params) as Row[],
    run: (...params) => void s.run(...params),
  };
}

export function openDenoDatabase(path: string): SqlDatabase {
  const db = new DatabaseSync(path);
  // bun:sqlite's transaction() nests through savepoints; so does this one.
  let depth = 0;
  return {
    exec: (sql) => db.exec(sql),
    prepare: <Row, Params extends SqlValue[]>(sql: string) => statement<Row, Params>(db.prepare(sql)),
    transaction<R>(fn: () => R): R {
      const savepoint = `tx${depth}`;
      db.exec(depth === 0 ? "BEGIN" : `SAVEPOINT ${savepoint}`);
      depth++;
      try {
        const result = fn();
        depth--;
        db.exec(depth === 0 ? "COMMIT" : `RELEASE ${savepoint}`);
        return result;
      } catch (e) {
        depth--;
        db.exec(depth === 0 ? "ROLLBACK" : `ROLLBACK TO ${savepoint}; RELEASE ${savepoint}`);
        throw e;
      }
    },
    close: () => db.close(),
  };
}
