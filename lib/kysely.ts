/**
 * A [Kysely](https://kysely.dev) dialect for walpool: Kysely builds the SQL, walpool runs it
 * (reads on the readers, writes through the single writer with group commit, Kysely
 * transactions as walpool transactions).
 *
 * walpool does not depend on Kysely: you hand the dialect Kysely's own SQLite classes
 * (`SqliteAdapter`, `SqliteIntrospector`, `SqliteQueryCompiler`), or the whole `kysely` module.
 *
 * @example
 * ```ts
 * import {
 *   type Generated,
 *   Kysely,
 *   SqliteAdapter,
 *   SqliteIntrospector,
 *   SqliteQueryCompiler,
 * } from "kysely";
 * import { open } from "@walpool/walpool";
 * import { WalpoolDialect } from "@walpool/walpool/kysely";
 *
 * interface DB {
 *   notes: { id: Generated<number>; body: string };
 * }
 *
 * await using db = await open("app.db");
 * await db.exec("CREATE TABLE IF NOT EXISTS notes(id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
 * const k = new Kysely<DB>({
 *   dialect: new WalpoolDialect(db, { SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler }),
 * });
 * const { insertId } = await k.insertInto("notes").values({ body: "hello" }).executeTakeFirstOrThrow();
 * const note = await k.selectFrom("notes").selectAll().where("id", "=", Number(insertId)).executeTakeFirst();
 * ```
 *
 * @module
 */

import type { Database } from "./database.ts";
import type { Params, Transaction } from "./types.ts";
import { statementInfo } from "./_classify.ts";

/**
 * Kysely's SQLite classes the dialect builds on (`import * as kysely from "kysely"` has them
 * too). Typed structurally, so walpool needs no dependency on Kysely.
 *
 * @typeParam A Kysely's `SqliteAdapter`.
 * @typeParam I Kysely's `SqliteIntrospector`.
 * @typeParam C Kysely's `SqliteQueryCompiler`.
 * @typeParam K What the introspector is built from: Kysely's `Kysely<any>`.
 *
 * @example
 * ```ts
 * import * as kysely from "kysely";
 * import { type KyselySqliteClasses, WalpoolDialect } from "@walpool/walpool/kysely";
 * import { open } from "@walpool/walpool";
 *
 * const classes = {
 *   SqliteAdapter: kysely.SqliteAdapter,
 *   SqliteIntrospector: kysely.SqliteIntrospector,
 *   SqliteQueryCompiler: kysely.SqliteQueryCompiler,
 * } satisfies KyselySqliteClasses<kysely.SqliteAdapter, unknown, unknown, never>;
 * await using db = await open("app.db");
 * const k = new kysely.Kysely<Record<string, never>>({ dialect: new WalpoolDialect(db, classes) });
 * ```
 */
export interface KyselySqliteClasses<A extends object, I, C, K> {
  /** Kysely's `SqliteAdapter` class. */
  SqliteAdapter: new () => A;
  /** Kysely's `SqliteIntrospector` class. */
  SqliteIntrospector: new (db: K) => I;
  /** Kysely's `SqliteQueryCompiler` class. */
  SqliteQueryCompiler: new () => C;
}

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

/**
 * A Kysely dialect that runs Kysely's queries on a walpool {@linkcode Database}.
 *
 * - Statements that return rows (`SELECT`, `INSERT … RETURNING`, `PRAGMA`) go through
 *   `db.all()`: reads to a reader, writes to the writer. Other statements go through `db.run()`
 *   and report `numAffectedRows` and `insertId` as `bigint`s.
 * - Kysely connections are independent, so concurrent Kysely calls run concurrently (and their
 *   writes share commits). The adapter therefore reports `supportsMultipleConnections: true`;
 *   it also reports `supportsTransactionalDdl: true`, so Kysely's `Migrator` runs pending
 *   migrations in one transaction (pass it `disableTransactions: true` to opt out).
 * - `db.transaction().execute(…)` and `db.startTransaction()` become one walpool
 *   `transaction()`: its statements run on the writer and see their own writes; other writes
 *   wait until it commits or rolls back (reads go on), and `transactionTimeout` applies.
 *   Inside it, write through `trx`: a write through the outer Kysely instance waits for the
 *   transaction to end. Savepoints are not supported (walpool refuses `SAVEPOINT`).
 * - `stream()` reads every row first (walpool has no cursors), then yields them in chunks.
 * - `kysely.destroy()` leaves the walpool database open: it is yours (and may also serve other
 *   code); close it with `db.close()`.
 *
 * @typeParam A Kysely's `SqliteAdapter`.
 * @typeParam I Kysely's `SqliteIntrospector`.
 * @typeParam C Kysely's `SqliteQueryCompiler`.
 * @typeParam K Kysely's `Kysely<any>`.
 *
 * @example With the classes
 * ```ts
 * import {
 *   type Generated,
 *   Kysely,
 *   SqliteAdapter,
 *   SqliteIntrospector,
 *   SqliteQueryCompiler,
 * } from "kysely";
 * import { open } from "@walpool/walpool";
 * import { WalpoolDialect } from "@walpool/walpool/kysely";
 *
 * interface DB {
 *   notes: { id: Generated<number>; body: string };
 * }
 * await using db = await open("app.db");
 * await db.exec("CREATE TABLE IF NOT EXISTS notes(id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
 * const k = new Kysely<DB>({
 *   dialect: new WalpoolDialect(db, { SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler }),
 * });
 * await k.transaction().execute(async (trx) => {
 *   await trx.insertInto("notes").values({ body: "a" }).execute();
 *   await trx.insertInto("notes").values({ body: "b" }).execute();
 * });
 * ```
 *
 * @example With the module
 * ```ts
 * import * as kysely from "kysely";
 * import { open } from "@walpool/walpool";
 * import { WalpoolDialect } from "@walpool/walpool/kysely";
 *
 * interface DB {
 *   notes: { id: kysely.Generated<number>; body: string };
 * }
 * await using db = await open("app.db");
 * const k = new kysely.Kysely<DB>({ dialect: new WalpoolDialect(db, kysely) });
 * await k.schema.createTable("notes").ifNotExists()
 *   .addColumn("id", "integer", (c) => c.primaryKey())
 *   .addColumn("body", "text", (c) => c.notNull())
 *   .execute();
 * ```
 */
export class WalpoolDialect<A extends object, I, C, K> {
  #db: Database;
  #classes: KyselySqliteClasses<A, I, C, K>;

  /**
   * Creates the dialect.
   *
   * @param db An open walpool database.
   * @param classes Kysely's `SqliteAdapter`, `SqliteIntrospector` and `SqliteQueryCompiler`.
   * @throws {TypeError} `db` is not a walpool database, or a class is missing.
   */
  constructor(db: Database, classes: KyselySqliteClasses<A, I, C, K>) {
    if (typeof db?.all !== "function" || typeof db.transaction !== "function") {
      throw new TypeError("WalpoolDialect needs an open walpool Database as its first argument");
    }
    for (const name of ["SqliteAdapter", "SqliteIntrospector", "SqliteQueryCompiler"] as const) {
      if (typeof classes?.[name] !== "function") {
        throw new TypeError(
          `WalpoolDialect needs Kysely's ${name}: new WalpoolDialect(db, { SqliteAdapter, ` +
            'SqliteIntrospector, SqliteQueryCompiler }) with them imported from "kysely"',
        );
      }
    }
    this.#db = db;
    this.#classes = classes;
  }

  /**
   * The driver Kysely runs queries through (Kysely calls this).
   *
   * @returns A {@linkcode WalpoolDriver} on the database.
   */
  createDriver(): WalpoolDriver {
    return new WalpoolDriver(this.#db);
  }

  /**
   * Kysely's SQLite query compiler (Kysely calls this).
   *
   * @returns A new `SqliteQueryCompiler`.
   */
  createQueryCompiler(): C {
    return new this.#classes.SqliteQueryCompiler();
  }

  /**
   * Kysely's SQLite adapter, reporting `supportsMultipleConnections` and
   * `supportsTransactionalDdl` as `true` (Kysely calls this).
   *
   * @returns A `SqliteAdapter`.
   */
  createAdapter(): A {
    const adapter = new this.#classes.SqliteAdapter();
    return Object.defineProperties(adapter, {
      // Connections are independent: Kysely need not run one query at a time.
      supportsMultipleConnections: { value: true },
      // DDL in a walpool transaction is atomic, and BEGIN IMMEDIATE serializes migrators.
      supportsTransactionalDdl: { value: true },
    });
  }

  /**
   * Kysely's SQLite introspector (Kysely calls this).
   *
   * @param db The Kysely instance.
   * @returns A new `SqliteIntrospector`.
   */
  createIntrospector(db: K): I {
    return new this.#classes.SqliteIntrospector(db);
  }
}

/**
 * The Kysely `Driver` behind {@linkcode WalpoolDialect}: every `acquireConnection()` gives a
 * new {@linkcode WalpoolConnection}; transactions are walpool transactions.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "@walpool/walpool";
 * import { WalpoolDriver } from "@walpool/walpool/kysely";
 *
 * await using db = await open("app.db");
 * const driver = new WalpoolDriver(db);
 * const connection = await driver.acquireConnection();
 * const { rows } = await connection.executeQuery({ sql: "SELECT 1 AS one", parameters: [] });
 * assert.deepEqual(rows, [{ one: 1 }]);
 * ```
 */
export class WalpoolDriver {
  #db: Database;

  /**
   * Creates the driver ({@linkcode WalpoolDialect} does).
   *
   * @param db An open walpool database.
   */
  constructor(db: Database) {
    this.#db = db;
  }

  /**
   * Nothing to do: the database is already open.
   *
   * @returns At once.
   */
  init(): Promise<void> {
    return Promise.resolve();
  }

  /**
   * A new connection (connections cost nothing: each is a view on the database).
   *
   * @returns The connection.
   */
  acquireConnection(): Promise<WalpoolConnection> {
    return Promise.resolve(new WalpoolConnection(this.#db));
  }

  /**
   * Begins a walpool transaction that the connection's queries then run in.
   *
   * @param connection A connection of this driver.
   * @returns Once the transaction holds the writer.
   * @throws {ClosedError} The database is closed.
   */
  beginTransaction(connection: WalpoolConnection): Promise<void> {
    return connection.begin();
  }

  /**
   * Commits the connection's transaction.
   *
   * @param connection A connection in a transaction.
   * @returns Once committed.
   * @throws {SqliteError} The commit failed.
   * @throws {DOMException} `TimeoutError`: the transaction was open longer than
   * `transactionTimeout` and was rolled back.
   */
  commitTransaction(connection: WalpoolConnection): Promise<void> {
    return connection.end(true);
  }

  /**
   * Rolls the connection's transaction back.
   *
   * @param connection A connection in a transaction.
   * @returns Once rolled back (also when it had already ended, e.g. by timing out).
   */
  rollbackTransaction(connection: WalpoolConnection): Promise<void> {
    return connection.end(false);
  }

  /**
   * Nothing to do: connections hold no resources.
   *
   * @returns At once.
   */
  releaseConnection(): Promise<void> {
    return Promise.resolve();
  }

  /**
   * Nothing to do: the database stays open (close it with `db.close()`).
   *
   * @returns At once.
   */
  destroy(): Promise<void> {
    return Promise.resolve();
  }
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
   * Runs a query that returns rows and yields them in chunks. walpool has no cursors: every
   * row is read first.
   *
   * @typeParam R The row type.
   * @param query Kysely's compiled query.
   * @param chunkSize Rows per chunk.
   * @param options `signal` to stop waiting for it.
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
    const { rows } = await this.executeQuery<R>(query, options);
    const size = chunkSize && chunkSize > 0 ? Math.floor(chunkSize) : 100;
    for (let i = 0; i < rows.length; i += size) yield { rows: rows.slice(i, i + size) };
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
