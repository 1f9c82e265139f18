// The Kysely `DatabaseConnection` of walpool/kysely (re-exported there): queries on the database,
// or on the walpool transaction a Kysely transaction opened on the connection.

import type { Database } from "./database.ts";
import type { Params, Transaction } from "./types.ts";
import { savepointStatement } from "./transaction.ts";
import { statementInfo } from "./_classify.ts";

/**
 * The parts of Kysely's `CompiledQuery` the driver reads.
 *
 * @example
 * ```ts
 * import { open } from "@walpool/walpool";
 * import { type CompiledQueryLike, WalpoolDriver } from "@walpool/walpool/kysely";
 *
 * await using db = await open("app.db");
 * const query: CompiledQueryLike = { sql: "SELECT ? AS x", parameters: [1] };
 * const { rows } = await (await new WalpoolDriver(db).acquireConnection()).executeQuery(query);
 * ```
 */
export interface CompiledQueryLike {
  /** The SQL text, with `?` placeholders. */
  readonly sql: string;
  /** The values of the placeholders. */
  readonly parameters: readonly unknown[];
}

/**
 * A query result in the shape of Kysely's `QueryResult`.
 *
 * @example
 * ```ts
 * import { open } from "@walpool/walpool";
 * import { type QueryResultLike, WalpoolDriver } from "@walpool/walpool/kysely";
 *
 * await using db = await open("app.db");
 * const connection = await new WalpoolDriver(db).acquireConnection();
 * const result: QueryResultLike<{ x: number }> = await connection.executeQuery({
 *   sql: "SELECT 1 AS x",
 *   parameters: [],
 * });
 * ```
 */
export interface QueryResultLike<R> {
  /** The rows, as objects (empty for a statement that returns none). */
  readonly rows: R[];
  /** Rows inserted, updated or deleted (statements without `RETURNING`). */
  readonly numAffectedRows?: bigint;
  /** Rowid of the last inserted row (statements without `RETURNING`). */
  readonly insertId?: bigint;
}

/**
 * Options Kysely passes with a query.
 *
 * @example
 * ```ts
 * import { open } from "@walpool/walpool";
 * import { type QueryOptionsLike, WalpoolDriver } from "@walpool/walpool/kysely";
 *
 * await using db = await open("app.db");
 * const options: QueryOptionsLike = { signal: AbortSignal.timeout(1000) };
 * const connection = await new WalpoolDriver(db).acquireConnection();
 * await connection.executeQuery({ sql: "SELECT 1", parameters: [] }, options);
 * ```
 */
export interface QueryOptionsLike {
  /** Aborts waiting for the query (and a write the writer has not started yet). */
  readonly signal?: AbortSignal;
}

/** What a transaction that is open on a connection needs. */
interface OpenTransaction {
  tx: Transaction;
  finish: (commit: boolean) => void;
  ended: Promise<void>;
}

/** Thrown in the walpool transaction callback to roll back. */
const ROLLBACK = new Error("Rolled back by Kysely");

/**
 * A Kysely `DatabaseConnection` on a walpool database: queries run on `db`, or on the
 * transaction that {@linkcode WalpoolDriver.beginTransaction} opened on it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "@walpool/walpool";
 * import { WalpoolDriver } from "@walpool/walpool/kysely";
 *
 * await using db = await open("app.db");
 * await db.exec("CREATE TABLE IF NOT EXISTS notes(id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
 * const connection = await new WalpoolDriver(db).acquireConnection();
 * const { numAffectedRows } = await connection.executeQuery({
 *   sql: "DELETE FROM notes WHERE id = ?",
 *   parameters: [-1],
 * });
 * assert.equal(numAffectedRows, 0n);
 * ```
 */
export class WalpoolConnection {
  #db: Database;
  #open: OpenTransaction | undefined;
  #beginning = false;

  /**
   * Creates a connection ({@linkcode WalpoolDriver.acquireConnection} does).
   *
   * @param db An open walpool database.
   */
  constructor(db: Database) {
    this.#db = db;
  }

  /**
   * Runs one compiled query.
   *
   * @typeParam R The row type.
   * @param query Kysely's compiled query (`sql` and `parameters`).
   * @param options `signal` to stop waiting for it (not inside a transaction).
   * @returns Rows for a statement that returns them; otherwise no rows, `numAffectedRows` and
   * `insertId`.
   * @throws {SqliteError} SQLite refused the statement.
   * @throws {TypeError} A parameter cannot be bound, or the statement is one walpool refuses.
   */
  async executeQuery<R>(
    query: CompiledQueryLike,
    options?: QueryOptionsLike,
  ): Promise<QueryResultLike<R>> {
    const { sql } = query;
    const params = query.parameters as Params;
    const tx = this.#open?.tx;
    const opts = options?.signal ? { signal: options.signal } : undefined;
    if (statementInfo(sql).returnsRows) {
      return { rows: await (tx ? tx.all<R>(sql, params) : this.#db.all<R>(sql, params, opts)) };
    }
    const { changes, lastInsertRowid } =
      await (tx ? tx.run(sql, params) : this.#db.run(sql, params, opts));
    return { rows: [], numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid) };
  }

  /**
   * Runs a query that returns rows and yields them in chunks, streamed by `db.iterate()` (a
   * cursor on a reader: memory stays flat; `break` ends the statement), or inside a transaction
   * by `tx.iterate()`.
   *
   * @typeParam R The row type.
   * @param query Kysely's compiled query.
   * @param chunkSize Rows per chunk.
   * @param options `signal` to stop it.
   * @returns The chunks.
   * @throws {TypeError} The statement returns no rows.
   */
  async *streamQuery<R>(
    query: CompiledQueryLike,
    chunkSize?: number,
    options?: QueryOptionsLike,
  ): AsyncIterableIterator<QueryResultLike<R>> {
    if (!statementInfo(query.sql).returnsRows) {
      throw new TypeError("walpool can stream only statements that return rows");
    }
    const size = chunkSize && chunkSize > 0 ? Math.floor(chunkSize) : 100;
    const params = query.parameters as Params;
    const tx = this.#open?.tx;
    const rows = tx
      ? tx.iterate<R>(query.sql, params)
      : this.#db.iterate<R>(query.sql, params, { chunkSize: size, signal: options?.signal });
    let chunk: R[] = [];
    for await (const row of rows) {
      if (chunk.push(row) === size) {
        yield { rows: chunk };
        chunk = [];
      }
    }
    if (chunk.length) yield { rows: chunk };
  }

  /**
   * Begins a walpool transaction, kept open until {@linkcode WalpoolConnection.end}; queries
   * on this connection run in it meanwhile.
   *
   * @returns Once the transaction holds the writer.
   * @throws {Error} The connection is already in a transaction.
   */
  begin(): Promise<void> {
    if (this.#open || this.#beginning) {
      return Promise.reject(new Error("This Kysely connection is already in a transaction"));
    }
    this.#beginning = true;
    return new Promise<void>((began, failed) => {
      const open = {} as OpenTransaction;
      const decided = new Promise<boolean>((resolve) => open.finish = resolve);
      open.ended = this.#db.transaction(async (tx) => {
        open.tx = tx;
        this.#open = open;
        this.#beginning = false;
        began();
        if (!await decided) throw ROLLBACK;
      });
      open.ended.catch((error) => {
        this.#beginning = false;
        failed(error); // when it failed to begin; a no-op once it began
      });
    });
  }

  /**
   * Runs a savepoint statement in the open transaction (Kysely's `trx.savepoint(name)`,
   * `rollbackToSavepoint(name)`, `releaseSavepoint(name)`), as Kysely's SQLite dialect does.
   *
   * @param op Which statement.
   * @param name The savepoint's name (quoted as an identifier).
   * @returns Once it ran.
   * @throws {Error} No transaction is open on this connection.
   * @throws {SqliteError} SQLite refused it (`no such savepoint`).
   */
  savepoint(op: "savepoint" | "release" | "rollback", name: string): Promise<void> {
    if (!this.#open) {
      return Promise.reject(new Error("Savepoints need a transaction on this Kysely connection"));
    }
    return savepointStatement(this.#open.tx, op, name);
  }

  /**
   * Commits or rolls back the transaction {@linkcode WalpoolConnection.begin} opened.
   *
   * @param commit `true` to commit, `false` to roll back.
   * @returns Once it has ended. A rollback resolves even when the transaction had already
   * ended (a failed commit, a timeout): it was not committed either way.
   * @throws {Error} A commit when no transaction is open on this connection.
   * @throws {SqliteError} The commit failed.
   */
  async end(commit: boolean): Promise<void> {
    const open = this.#open;
    if (!open) {
      // Kysely rolls back after a failed commit: that transaction is over, and not committed.
      if (!commit) return;
      throw new Error("This Kysely connection is not in a transaction");
    }
    open.finish(commit);
    try {
      await open.ended;
    } catch (error) {
      if (commit) throw error;
    } finally {
      this.#open = undefined;
    }
  }
}
