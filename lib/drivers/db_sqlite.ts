/**
 * Driver for `jsr:@db/sqlite` (Deno, through FFI). Loaded only when chosen.
 *
 * The binding's quirks this adapter covers: integers are read as 64-bit (`int64: true`, never the
 * 32-bit default); `lastInsertRowId` is read with `last_insert_rowid()` since the binding cuts it
 * to 32 bits; bare named keys are matched to `:name`, `$name` and `@name`; rows are built from
 * `values()` and the column names; JSON text is not parsed. SQL errors carry no code in this
 * binding: when `DENO_SQLITE_PATH` names the library, the extended code is read from it with
 * `sqlite3_extended_errcode` (the same loaded library, so the same connection); otherwise it is
 * inferred from SQLite's message (`SQLITE_ERROR` when it cannot be).
 *
 * @module
 */

import type {
  BindParams,
  BindValue,
  Driver,
  DriverConnection,
  DriverStatement,
} from "../driver.ts";
import { narrowRow, rowid } from "../_integers.ts";
import { setColumn } from "../_rows.ts";
import { codeFromMessage, codeName } from "../_sqlite_codes.ts";

type Row = Record<string, unknown>;

interface DbStatement {
  run(...params: unknown[]): number;
  values(...params: unknown[]): unknown[][];
  columnNames(): string[];
  readonly readonly: boolean;
  readonly bindParameterCount: number;
  bindParameterName(i: number): string;
  finalize(): void;
}
interface DbDatabase {
  readonly unsafeHandle: Deno.PointerValue;
  prepare(sql: string): DbStatement;
  exec(sql: string): number;
  close(): void;
  readonly inTransaction: boolean;
  loadExtension(file: string): void;
  function(name: string, fn: (...args: never[]) => unknown, options: { varargs: boolean }): void;
}
interface DbSqlite {
  Database: new (path: string, options: Record<string, boolean>) => DbDatabase;
}

/** The JSR specifier, computed so that it is resolved at run time only when this driver is used. */
const SPECIFIER = "jsr:@db/sqlite@0.13";
const { Database } = await import(SPECIFIER) as DbSqlite;

/** `sqlite3_extended_errcode` of the library the binding loaded, when its path is known. */
const extendedErrcode = (() => {
  try {
    const path = Deno.env.get("DENO_SQLITE_PATH");
    if (!path) return undefined;
    const lib = Deno.dlopen(path, {
      sqlite3_extended_errcode: { parameters: ["pointer"], result: "i32" },
    });
    return (handle: Deno.PointerValue) => lib.symbols.sqlite3_extended_errcode(handle);
  } catch {
    return undefined;
  }
})();

/** Runs `fn`; an error it throws gets the connection's extended code attached when known. */
function withCode<T>(db: DbDatabase, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (extendedErrcode && error instanceof Error && error.constructor === Error) {
      (error as Error & { errcode?: number }).errcode = extendedErrcode(db.unsafeHandle);
    }
    throw error;
  }
}

function statement(
  db: DbDatabase,
  stmt: DbStatement,
  rowidOf: () => number | bigint,
  safe: boolean,
): DriverStatement {
  // Named parameters of this statement, in order ("" for positional ones).
  const names: string[] = [];
  for (let i = 1; i <= stmt.bindParameterCount; i++) names.push(parameterName(stmt, i));
  const args = (p: BindParams): BindValue[] => {
    if (Array.isArray(p)) return p;
    const named = p as Record<string, BindValue>;
    return names.map((n) => {
      if (!(n in named)) throw new RangeError(`Missing named parameter "${n}"`);
      return named[n];
    });
  };
  const rows = (p: BindParams): Row[] => {
    let values = withCode(db, () => stmt.values(args(p)));
    // Asked again each call: SQLite compiles the statement again after a schema change (a column
    // renamed or added by another connection), and its columns are then what it compiled last.
    const columns = stmt.columnNames();
    // The binding counts a statement's columns before its first step, where SQLite compiles it
    // again: the first rows after a change lack a column added. A read runs again (it changes
    // nothing); a write with RETURNING keeps the columns it has.
    if (values.length && values[0].length !== columns.length && stmt.readonly) {
      values = withCode(db, () => stmt.values(args(p)));
    }
    return values.map((v) => {
      const row: Row = {};
      for (let i = 0; i < columns.length; i++) setColumn(row, columns[i], v[i]);
      return safe ? row : narrowRow(row);
    });
  };
  return {
    run(p) {
      const changes = withCode(db, () => stmt.run(args(p)));
      return { changes, lastInsertRowid: rowidOf() };
    },
    get: (p) => rows(p)[0],
    all: rows,
    values(p) {
      const values = withCode(db, () => stmt.values(args(p)));
      return safe ? values : values.map(narrowRow);
    },
    finalize: () => stmt.finalize(),
  };
}

/** The bare name of parameter `i` (`""` for `?`, whose name the binding cannot read). */
function parameterName(stmt: DbStatement, i: number): string {
  try {
    return stmt.bindParameterName(i)?.slice(1) ?? "";
  } catch {
    return "";
  }
}

/** The `jsr:@db/sqlite` driver. */
export const driver: Driver = {
  name: "@db/sqlite",
  open(path, { readonly, safeIntegers, allowExtension }): DriverConnection {
    const db = new Database(path, {
      readonly,
      create: !readonly,
      int64: true,
      parseJson: false,
      enableLoadExtension: allowExtension ?? false,
    });
    const last = db.prepare("SELECT last_insert_rowid()");
    const rowidOf = () => rowid(last.values()[0][0] as number | bigint, safeIntegers);
    return {
      prepare: (sql) => statement(db, withCode(db, () => db.prepare(sql)), rowidOf, safeIntegers),
      exec: (sql) => void withCode(db, () => db.exec(sql)),
      inTransaction: () => db.inTransaction,
      close: () => db.close(),
      loadExtension: (file) => withCode(db, () => db.loadExtension(file)),
      function: (name, fn) => db.function(name, fn, { varargs: true }),
    };
  },
  errorInfo(error) {
    if (!(error instanceof Error)) return undefined;
    if (error.name === "SqliteError") {
      const code = (error as Error & { code?: number }).code ?? 1;
      return { code: codeName(code), errcode: code, message: error.message.replace(/^\d+: /, "") };
    }
    if (error.constructor !== Error) return undefined;
    if (
      error.message === "Value of unsupported type" || error.message.startsWith("No such parameter")
    ) {
      return undefined;
    }
    const errcode = (error as Error & { errcode?: number }).errcode ||
      codeFromMessage(error.message);
    return errcode === undefined
      ? undefined
      : { code: codeName(errcode), errcode, message: error.message };
  },
};
