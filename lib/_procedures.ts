// Write procedures, in the writer: the functions of a module the writer imports at start-up
// (`open(path, { procedures: url })`), called by `db.call(name, args)`. Each call is one request
// of a group commit: it runs synchronously on the writer's connection, inside a savepoint, so a
// procedure that throws undoes only its own statements; one that SQLite rolls back with its
// neighbours is run again (so a procedure should be a function of the database and its arguments).

import type { Connection } from "./_connection.ts";
import type { ProcedureTransaction } from "./types.ts";
import { bindParams } from "./_params.ts";
import { checkStatement } from "./_classify.ts";

type Procedure = (tx: ProcedureTransaction, args: unknown) => unknown;

let procedures: Record<string, unknown> | undefined;

/** Imports the procedures' module (once, at the writer's start). */
export async function loadProcedures(url: string): Promise<void> {
  let module: Record<string, unknown>;
  try {
    module = await import(url);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`Cannot import the procedures module ${url}: ${reason}`, { cause: error });
  }
  procedures = module;
}

/** Calls the procedure `name` with `args` on the writer's connection; returns what it returned. */
export function callProcedure(conn: Connection, name: string, args: unknown): unknown {
  if (!procedures) {
    throw new TypeError(`No procedures module was given to open(), so "${name}" cannot be called`);
  }
  const fn = Object.hasOwn(procedures, name) ? procedures[name] : undefined;
  if (typeof fn !== "function") {
    throw new TypeError(`The procedures module exports no function named "${name}"`);
  }
  const scope = { live: true };
  let result: unknown;
  try {
    result = (fn as Procedure)(transactionOf(conn, name, scope), args);
  } finally {
    scope.live = false; // a `tx` kept or used after an await applies nothing
  }
  if (result instanceof Promise) {
    result.catch(() => {}); // its statements already ran or failed; what it awaits cannot run
    throw new TypeError(
      `Procedure "${name}" returned a promise: procedures run synchronously in the writer's ` +
        "commit, so they cannot await",
    );
  }
  try {
    structuredClone(result);
  } catch {
    throw new TypeError(`Procedure "${name}" returned a value that cannot be sent back`);
  }
  return result;
}

/**
 * The synchronous statements a procedure gets, on the writer's connection. They refuse to run
 * once the procedure has returned (a `tx` kept, or used after an await), and once SQLite has
 * rolled back the transaction the call runs in (they would run outside it).
 */
function transactionOf(
  conn: Connection,
  name: string,
  scope: { live: boolean },
): ProcedureTransaction {
  const bound = (sql: string, params?: unknown) => {
    if (!scope.live) {
      throw new TypeError(`Procedure "${name}" used its tx after it returned; nothing was run`);
    }
    if (!conn.inTransaction()) {
      throw new TypeError(
        `Procedure "${name}" ran a statement after SQLite rolled back its transaction`,
      );
    }
    checkStatement(sql);
    return bindParams(sql, params);
  };
  return {
    run: (sql: string, params?: unknown) => conn.run(sql, bound(sql, params)),
    get: (sql: string, params?: unknown) => conn.get(sql, bound(sql, params)) as never,
    all: (sql: string, params?: unknown) => conn.all(sql, bound(sql, params)) as never,
    values: (sql: string, params?: unknown) => conn.values(sql, bound(sql, params)) as never,
    exec: (sql: string) => {
      bound(sql);
      conn.exec(sql);
    },
  };
}
