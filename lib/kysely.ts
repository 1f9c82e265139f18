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
import {
  type CompiledQueryLike,
  type QueryOptionsLike,
  type QueryResultLike,
  WalpoolConnection,
} from "./kysely_connection.ts";

export { type CompiledQueryLike, type QueryOptionsLike, type QueryResultLike, WalpoolConnection };

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
 *   transaction to end. Savepoints work: `trx.savepoint(name)`, `rollbackToSavepoint(name)` and
 *   `releaseSavepoint(name)` (a raw `SAVEPOINT` statement is still refused).
 * - `stream()` streams through `db.iterate()`: a cursor on a reader, chunk by chunk, memory flat;
 *   leaving the loop ends the statement.
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
    const lock = migrationLock(this.#db);
    return Object.defineProperties(adapter, {
      // Connections are independent: Kysely need not run one query at a time.
      supportsMultipleConnections: { value: true },
      // DDL in a walpool transaction is atomic, and BEGIN IMMEDIATE serializes migrators.
      supportsTransactionalDdl: { value: true },
      // SqliteAdapter's lock does nothing (one connection serializes everything); ours must
      // serialize Migrators that run without a transaction (`disableTransactions: true`).
      acquireMigrationLock: { value: () => lock.acquire() },
      releaseMigrationLock: { value: () => lock.release() },
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

/** Per database, the lock Kysely's Migrators take (in this process), first come first served. */
const migrationLocks = new WeakMap<
  Database,
  { acquire(): Promise<void>; release(): Promise<void> }
>();

function migrationLock(db: Database) {
  let lock = migrationLocks.get(db);
  if (!lock) {
    let tail: Promise<void> = Promise.resolve();
    const holders: (() => void)[] = []; // each taker's release, in the order they took it
    lock = {
      acquire() {
        let release!: () => void;
        const held = new Promise<void>((resolve) => (release = resolve));
        const before = tail;
        tail = before.then(() => held);
        holders.push(release);
        return before;
      },
      release() {
        holders.shift()?.(); // the holder is the earliest taker not yet released
        return Promise.resolve();
      },
    };
    migrationLocks.set(db, lock);
  }
  return lock;
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
   * Creates a savepoint in the connection's transaction (Kysely's `trx.savepoint(name)`).
   *
   * @param connection A connection in a transaction.
   * @param name The savepoint's name.
   * @returns Once it exists.
   */
  savepoint(connection: WalpoolConnection, name: string): Promise<void> {
    return connection.savepoint("savepoint", name);
  }

  /**
   * Rolls the connection's transaction back to a savepoint (Kysely's
   * `trx.rollbackToSavepoint(name)`).
   *
   * @param connection A connection in a transaction.
   * @param name The savepoint's name.
   * @returns Once rolled back.
   */
  rollbackToSavepoint(connection: WalpoolConnection, name: string): Promise<void> {
    return connection.savepoint("rollback", name);
  }

  /**
   * Releases a savepoint, keeping what was done since (Kysely's `trx.releaseSavepoint(name)`).
   *
   * @param connection A connection in a transaction.
   * @param name The savepoint's name.
   * @returns Once released.
   */
  releaseSavepoint(connection: WalpoolConnection, name: string): Promise<void> {
    return connection.savepoint("release", name);
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
