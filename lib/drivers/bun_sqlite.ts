/**
 * Driver for `bun:sqlite` (Bun).
 *
 * @module
 */

import type { BindParams, Driver, DriverConnection, DriverStatement } from "../driver.ts";
import { narrowInteger, narrowRow, rowid } from "../_integers.ts";
import { isRead } from "../_classify.ts";

type Row = Record<string, unknown>;

// The few parts of bun:sqlite this driver uses, declared here so that type-checking on other
// runtimes does not need Bun's types.
interface BunStatement {
  run(...params: unknown[]): { changes: number; lastInsertRowid: number | bigint };
  safeIntegers(on: boolean): void;
  get(...params: unknown[]): Row | null;
  all(...params: unknown[]): Row[];
  values(...params: unknown[]): unknown[][];
  iterate(...params: unknown[]): Iterator<Row>;
  finalize(): void;
}
interface BunDatabase {
  prepare(sql: string): BunStatement;
  exec(sql: string): void;
  close(): void;
  loadExtension(path: string): void;
  function(name: string, options: { varargs: boolean }, fn: (...args: never[]) => unknown): void;
  readonly inTransaction: boolean;
}
interface BunSqlite {
  Database: new (
    path: string,
    options: { readonly?: boolean; create?: boolean; strict: boolean; safeIntegers: boolean },
  ) => BunDatabase;
}

// A computed specifier: only Bun can resolve it, and only this file asks for it.
const { Database } = await import("bun:" + "sqlite") as BunSqlite;

/** Whether a row read as numbers may hold a rounded integer (one beyond ±2^53). */
function mayBeRounded(row: Row | unknown[]): boolean {
  for (const key in row) {
    const v = (row as Row)[key];
    if (typeof v === "number" && !Number.isSafeInteger(v) && Number.isInteger(v)) return true;
  }
  return false;
}

/**
 * bun:sqlite rounds integers beyond ±2^53 silently unless it reads them as bigint. A statement
 * that may write reads every integer as bigint and narrows them. One that cannot (on a read-only
 * connection, or a read anywhere) reads numbers first (faster: `numbersFirst`, unless
 * `safeIntegers`) and, should a row hold an integer beyond ±2^53, runs again reading bigints: it
 * changes nothing, so it can.
 */
function statement(
  stmt: BunStatement,
  safeIntegers: boolean,
  numbersFirst: boolean,
): DriverStatement {
  const args = (p: BindParams) => (Array.isArray(p) ? p : [p]) as unknown[];
  /** `read` again with integers as bigint (narrowed after), its statement changing nothing. */
  const exactly = <T>(read: (...a: unknown[]) => T, a: unknown[]): T => {
    stmt.safeIntegers(true);
    try {
      return read.apply(stmt, a);
    } finally {
      stmt.safeIntegers(false);
    }
  };
  const narrow = safeIntegers ? (r: Row) => r : narrowRow;
  if (numbersFirst) stmt.safeIntegers(false); // on a connection that reads bigints by default
  // Rows read as numbers hold no bigint: returned as they are unless one may be rounded (the
  // common case of a point read on the calling thread costs one loop over its values, no more).
  return {
    run(p) {
      const r = stmt.run(...args(p));
      return {
        changes: typeof r.changes === "bigint" ? narrowInteger(r.changes) : r.changes,
        lastInsertRowid: rowid(r.lastInsertRowid, safeIntegers),
      };
    },
    get(p) {
      const a = args(p);
      const row = stmt.get(...a);
      if (row === null) return undefined;
      if (!numbersFirst) return narrow(row);
      if (!mayBeRounded(row)) return row;
      const again = exactly(stmt.get, a);
      return again === null ? undefined : narrow(again);
    },
    all(p) {
      const a = args(p);
      const rows = stmt.all(...a);
      if (!numbersFirst) return rows.map(narrow);
      return rows.some(mayBeRounded) ? exactly(stmt.all, a).map(narrow) : rows;
    },
    values(p) {
      const a = args(p);
      const rows = stmt.values(...a);
      if (!numbersFirst) return safeIntegers ? rows : rows.map(narrowRow);
      return rows.some(mayBeRounded) ? exactly(stmt.values, a).map(narrowRow) : rows;
    },
    iterate(p) {
      // Rows stepped one by one cannot be read again: integers are read as bigint and narrowed.
      if (numbersFirst) stmt.safeIntegers(true);
      const rows = stmt.iterate(...args(p));
      return {
        next: () => {
          const r = rows.next();
          return r.done ? r : { done: false, value: safeIntegers ? r.value : narrowRow(r.value) };
        },
        return: () => (rows.return?.(), { done: true, value: undefined }),
      };
    },
    finalize: () => stmt.finalize(),
  };
}

// bun:sqlite (1.4.5) leaves a prepared EXPLAIN statement in progress after reading it: the next
// COMMIT fails ("SQL statements in progress") and a reader keeps its old snapshot. Finalizing
// the statement ends it, so an EXPLAIN is prepared afresh for each use and finalized after.
const EXPLAIN = /^(?:\s|--[^\n]*\n|\/\*[\s\S]*?\*\/)*EXPLAIN\b/i;

function oneShot(prepare: () => DriverStatement): DriverStatement {
  const once = <T>(use: (stmt: DriverStatement) => T): T => {
    const stmt = prepare();
    try {
      return use(stmt);
    } finally {
      stmt.finalize();
    }
  };
  return {
    run: (p) => once((s) => s.run(p)),
    get: (p) => once((s) => s.get(p)),
    all: (p) => once((s) => s.all(p)),
    values: (p) => once((s) => s.values(p)),
    finalize() {},
  };
}

/** The `bun:sqlite` driver. */
export const driver: Driver = {
  name: "bun:sqlite",
  open(path, { readonly, safeIntegers }): DriverConnection {
    const numbersFirst = readonly && !safeIntegers;
    // A read that a read-only connection could carry out changes nothing either: it reads
    // numbers first on a connection that can write too (the calling thread's, between its
    // transactions), rather than bigints narrowed one by one.
    const firstNumbers = (sql: string) => numbersFirst || (!safeIntegers && isRead(sql));
    const db = new Database(path, {
      ...(readonly ? { readonly: true } : { create: true }),
      strict: true,
      safeIntegers: !numbersFirst,
    });
    return {
      prepare: (sql) =>
        EXPLAIN.test(sql)
          ? oneShot(() => statement(db.prepare(sql), safeIntegers, firstNumbers(sql)))
          : statement(db.prepare(sql), safeIntegers, firstNumbers(sql)),
      exec: (sql) => db.exec(sql),
      inTransaction: () => db.inTransaction,
      close: () => db.close(),
      loadExtension: (file) => db.loadExtension(file),
      // This connection may read integers as bigint (see above): the caller's function gets
      // numbers unless safeIntegers.
      function: (name, fn) =>
        db.function(
          name,
          { varargs: true },
          safeIntegers ? fn : (...args: never[]) =>
            (fn as (...a: unknown[]) => unknown)(
              ...args.map((a: unknown) => typeof a === "bigint" ? narrowInteger(a) : a),
            ),
        ),
    };
  },
  errorInfo(error) {
    const e = error as { name?: string; code?: string; errno?: number; message?: string };
    if (e?.name !== "SQLiteError" || typeof e.errno !== "number") return undefined;
    return { code: e.code ?? "SQLITE_ERROR", errcode: e.errno, message: e.message ?? "" };
  },
};
