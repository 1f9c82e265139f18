/**
 * Driver for `node:sqlite` (Node ≥ 22.5, Deno ≥ 2.2).
 *
 * @module
 */

import { DatabaseSync, type StatementSync } from "node:sqlite";
import type { BindParams, Driver, DriverConnection, DriverStatement } from "../driver.ts";
import { rowid } from "../_integers.ts";
import { codeName } from "../_sqlite_codes.ts";

type Row = Record<string, unknown>;
type Args = Parameters<StatementSync["run"]>;

// node:sqlite rows have a null prototype; the contract promises plain objects.
const plain = (row: unknown): Row => Object.setPrototypeOf(row as Row, Object.prototype);

function statement(stmt: StatementSync, safeIntegers: boolean): DriverStatement {
  stmt.setReadBigInts(safeIntegers);
  const args = (p: BindParams) => (Array.isArray(p) ? p : [p]) as Args;
  return {
    run(p) {
      const r = stmt.run(...args(p));
      return {
        changes: Number(r.changes),
        lastInsertRowid: rowid(r.lastInsertRowid, safeIntegers),
      };
    },
    get(p) {
      const row = stmt.get(...args(p));
      return row === undefined ? undefined : plain(row);
    },
    all: (p) => stmt.all(...args(p)).map(plain),
    finalize() {}, // node:sqlite finalizes statements when they are garbage collected
  };
}

/** The `node:sqlite` driver. */
export const driver: Driver = {
  name: "node:sqlite",
  open(path, { readonly, safeIntegers }): DriverConnection {
    const db = new DatabaseSync(path, { readOnly: readonly, enableForeignKeyConstraints: false });
    const native = db as DatabaseSync & { isTransaction: boolean };
    return {
      prepare: (sql) => statement(db.prepare(sql), safeIntegers),
      exec: (sql) => db.exec(sql),
      inTransaction: () => native.isTransaction,
      close: () => db.close(),
    };
  },
  errorInfo(error) {
    const e = error as { code?: string; errcode?: number; message?: string };
    if (e?.code !== "ERR_SQLITE_ERROR") return undefined;
    // Deno reports failures to open without an errcode.
    const errcode = e.errcode ?? (e.message?.startsWith("unable to open") ? 14 : 1);
    return { code: codeName(errcode), errcode, message: e.message ?? "" };
  },
};
