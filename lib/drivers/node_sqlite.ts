/**
 * Driver for `node:sqlite` (Node ≥ 22.5, Deno ≥ 2.2).
 *
 * @module
 */

import { DatabaseSync, type StatementSync } from "node:sqlite";
import type { BindParams, Driver, DriverConnection, DriverStatement } from "../driver.ts";
import { rowid } from "../_integers.ts";
import { setColumn } from "../_rows.ts";
import { codeFromMessage, codeName } from "../_sqlite_codes.ts";

type Row = Record<string, unknown>;
type Args = Parameters<StatementSync["run"]>;

// node:sqlite rows have a null prototype (and their properties in a dictionary); the contract
// promises plain objects. They are copied into one: giving the row itself Object.prototype made a
// hidden class per row that lived until a full collection (measured on Node 22 and Deno, 4 000 000
// point reads: 38 / 29 full collections against 21 / 19 for the rows alone and 22 / 17 copied, at
// the same time per read).
const plain = (row: unknown): Row => {
  const out: Row = {};
  const keys = Object.keys(row as Row);
  for (let i = 0; i < keys.length; i++) setColumn(out, keys[i], (row as Row)[keys[i]]);
  return out;
};

/**
 * How many statements this connection has compiled, counted by an authorizer, where the binding
 * has one (Deno; Node 25, not Node 22). SQLite compiles a prepared statement again when the schema
 * changed (a column renamed by any connection), and its result columns may then change: names
 * kept from before are good as long as the count has not moved.
 */
interface Compiles {
  count: number;
}

/**
 * SQLite's authorizer actions of transaction control and savepoints, which walpool's own BEGIN,
 * COMMIT and SAVEPOINT compile: they change no statement's columns, so they are not counted.
 */
const SQLITE_TRANSACTION = 22;
const SQLITE_SAVEPOINT = 32;

// node:sqlite binds every number as REAL; other bindings bind an integer-valued number as
// INTEGER, so it goes as a bigint here (`? / 2` with 5 is then 2 on every driver). An empty
// Uint8Array that arrived by postMessage has no backing memory, and Node binds it as NULL; a
// zero-length view of a real buffer binds as the empty BLOB it is.
const EMPTY_BLOB = new Uint8Array(new ArrayBuffer(1), 0, 0);
const value = (v: unknown) =>
  typeof v === "number"
    ? (Number.isInteger(v) ? BigInt(v) : v)
    : v instanceof Uint8Array && v.byteLength === 0
    ? EMPTY_BLOB
    : v;

function args(p: BindParams): Args {
  if (Array.isArray(p)) return p.map(value) as Args;
  const named: Record<string, unknown> = {};
  for (const key in p) named[key] = value((p as Record<string, unknown>)[key]);
  return [named] as Args;
}

// Rows as arrays (Node ≥ 22.16, Deno, Bun); not in every version's type declarations.
const arrays = (stmt: StatementSync, on: boolean) =>
  (stmt as StatementSync & { setReturnArrays(on: boolean): void }).setReturnArrays(on);

/**
 * With `compiles`, rows are read as arrays and made into objects here with the column names kept
 * from the last compile: no dictionary per row (measured: a point read 1.45 against 2.05 µs on
 * Node, 1.69 against 2.07 µs on Deno, and no full collection in 4 000 000 reads).
 */
function statement(
  stmt: StatementSync,
  safeIntegers: boolean,
  exactRowid: () => bigint,
  compiles: Compiles | undefined,
): DriverStatement {
  stmt.setReadBigInts(safeIntegers);
  let names: string[] = [];
  let namesAt = -1;
  const fromArray = (values: unknown[]): Row => {
    if (namesAt !== compiles!.count) {
      namesAt = compiles!.count;
      names = (stmt as StatementSync & { columns(): { name: string }[] }).columns()
        .map((c) => c.name);
    }
    const out: Row = {};
    for (let i = 0; i < names.length; i++) setColumn(out, names[i], values[i]);
    return out;
  };
  const toRow = (compiles ? fromArray : plain) as (row: unknown) => Row;
  if (compiles) arrays(stmt, true);
  return {
    run(p) {
      const r = stmt.run(...args(p));
      // Read as a number, a rowid beyond 2^53 would be rounded: read it again, exactly.
      const id = typeof r.lastInsertRowid === "number" && !Number.isSafeInteger(r.lastInsertRowid)
        ? exactRowid()
        : r.lastInsertRowid;
      return { changes: Number(r.changes), lastInsertRowid: rowid(id, safeIntegers) };
    },
    get(p) {
      const row = stmt.get(...args(p));
      return row === undefined ? undefined : toRow(row);
    },
    all: (p) => stmt.all(...args(p)).map(toRow),
    values(p) {
      if (compiles) return stmt.all(...args(p)) as unknown as unknown[][];
      arrays(stmt, true);
      try {
        return stmt.all(...args(p)) as unknown as unknown[][];
      } finally {
        arrays(stmt, false);
      }
    },
    iterate(p) {
      const rows = stmt.iterate(...args(p));
      return {
        next: () => {
          const r = rows.next();
          return r.done ? r : { done: false, value: toRow(r.value) };
        },
        return: () => (rows.return?.(), { done: true, value: undefined }),
      };
    },
    finalize() {}, // node:sqlite finalizes statements when they are garbage collected
  };
}

/** The `node:sqlite` driver. */
export const driver: Driver = {
  name: "node:sqlite",
  open(path, { readonly, safeIntegers, allowExtension }): DriverConnection {
    const db = new DatabaseSync(path, {
      readOnly: readonly,
      enableForeignKeyConstraints: false,
      ...(allowExtension ? { allowExtension: true } : {}),
    });
    const native = db as DatabaseSync & {
      isTransaction: boolean;
      enableDefensive?(on: boolean): void;
      setAuthorizer?(fn: (action: number) => number): void;
    };
    native.enableDefensive?.(true); // Deno and Bun have it; Node 22 cannot set defensive mode
    const compiles: Compiles | undefined = native.setAuthorizer ? { count: 0 } : undefined;
    native.setAuthorizer?.((action) => {
      if (action !== SQLITE_TRANSACTION && action !== SQLITE_SAVEPOINT) compiles!.count++;
      return 0; // SQLITE_OK: allowed
    });
    let last: StatementSync | undefined;
    const exactRowid = () => {
      if (!last) {
        last = db.prepare("SELECT last_insert_rowid() AS id");
        last.setReadBigInts(true);
      }
      return (last.get() as { id: bigint }).id;
    };
    return {
      prepare: (sql) => statement(db.prepare(sql), safeIntegers, exactRowid, compiles),
      exec: (sql) => db.exec(sql),
      inTransaction: () => native.isTransaction,
      close: () => db.close(),
      loadExtension: (file) => db.loadExtension(file),
      function: (name, fn) =>
        db.function(
          name,
          { varargs: true, useBigIntArguments: safeIntegers },
          fn as (...args: unknown[]) => null,
        ),
    };
  },
  errorInfo(error) {
    const e = error as { code?: string; errcode?: number; message?: string };
    if (e?.code !== "ERR_SQLITE_ERROR") return undefined;
    // Deno reports some errors (failure to open, errors in exec) without their code.
    const errcode = e.errcode && e.errcode !== 1 ? e.errcode : codeFromMessage(e.message ?? "");
    return { code: codeName(errcode), errcode, message: e.message ?? "" };
  },
};
