/**
 * Driver for `bun:sqlite` (Bun).
 *
 * @module
 */

import type { BindParams, Driver, DriverConnection, DriverStatement } from "../driver.ts";
import { narrowInteger, narrowRow, rowid } from "../_integers.ts";

type Row = Record<string, unknown>;

// The few parts of bun:sqlite this driver uses, declared here so that type-checking on other
// runtimes does not need Bun's types.
interface BunStatement {
  run(...params: unknown[]): { changes: number; lastInsertRowid: number | bigint };
  get(...params: unknown[]): Row | null;
  all(...params: unknown[]): Row[];
  finalize(): void;
}
interface BunDatabase {
  prepare(sql: string): BunStatement;
  exec(sql: string): void;
  close(): void;
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

function statement(stmt: BunStatement, safeIntegers: boolean): DriverStatement {
  // Integers are always read as bigint, since bun:sqlite would round them silently otherwise.
  const row = (r: Row | null) => r === null ? undefined : safeIntegers ? r : narrowRow(r);
  const args = (p: BindParams) => (Array.isArray(p) ? p : [p]) as unknown[];
  return {
    run(p) {
      const r = stmt.run(...args(p));
      return {
        changes: typeof r.changes === "bigint" ? narrowInteger(r.changes) : r.changes,
        lastInsertRowid: rowid(r.lastInsertRowid, safeIntegers),
      };
    },
    get: (p) => row(stmt.get(...args(p))),
    all: (p) => safeIntegers ? stmt.all(...args(p)) : stmt.all(...args(p)).map(narrowRow),
    finalize: () => stmt.finalize(),
  };
}

/** The `bun:sqlite` driver. */
export const driver: Driver = {
  name: "bun:sqlite",
  open(path, { readonly, safeIntegers }): DriverConnection {
    const db = new Database(path, {
      ...(readonly ? { readonly: true } : { create: true }),
      strict: true,
      safeIntegers: true,
    });
    return {
      prepare: (sql) => statement(db.prepare(sql), safeIntegers),
      exec: (sql) => db.exec(sql),
      inTransaction: () => db.inTransaction,
      close: () => db.close(),
    };
  },
  errorInfo(error) {
    const e = error as { name?: string; code?: string; errno?: number; message?: string };
    if (e?.name !== "SQLiteError" || typeof e.errno !== "number") return undefined;
    return { code: e.code ?? "SQLITE_ERROR", errcode: e.errno, message: e.message ?? "" };
  },
};
