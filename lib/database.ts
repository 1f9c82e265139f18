/**
 * `open()` and the {@linkcode Database} it returns.
 *
 * @module
 */

import type { DriverName } from "./driver.ts";
import type { ConnectionConfig, ReadKind } from "./protocol.ts";
import type { FaultPlan } from "./_faults.ts";
import { type WriteBody, Writer } from "./writer.ts";
import { Readers } from "./readers.ts";
import { bindParams } from "./_params.ts";
import { checkStatement, isRead, RESERVED_PRAGMAS } from "./_classify.ts";
import { callerStack, ClosedError, rejectThrown } from "./errors.ts";
import { runTransaction } from "./transaction.ts";
import { checkMigrations, migrate, type Migration } from "./_migrations.ts";
import { type SqlTag, sqlTag } from "./sql_tag.ts";
import type { LatencySummary } from "./_histogram.ts";

/**
 * A value that can be bound: booleans bind as 1/0, any `Uint8Array` view as its exact bytes.
 *
 * @example
 * ```ts
 * import type { Value } from "@walpool/walpool";
 *
 * const values: Value[] = [null, 1, 2.5, 9007199254740993n, "text", true, new Uint8Array([1, 2])];
 * ```
 */
export type Value = null | number | bigint | string | boolean | Uint8Array;

/**
 * Statement parameters: positional, or named with bare keys (`{ id: 1 }` binds `:id`, `$id`, `@id`).
 *
 * @example
 * ```ts
 * import type { Params } from "@walpool/walpool";
 *
 * const positional: Params = [1, "hello"]; // binds ?1, ?2
 * const named: Params = { id: 1, body: "hello" }; // binds :id / $id / @id and :body …
 * ```
 */
export type Params = readonly Value[] | Readonly<Record<string, Value>>;

/**
 * A result row: column names to values (`Uint8Array` for BLOBs).
 *
 * @example
 * ```ts
 * import { open, type Row } from "@walpool/walpool";
 *
 * await using db = await open("app.db");
 * const row: Row | undefined = await db.get("SELECT 1 AS one");
 * ```
 */
export type Row = Record<string, unknown>;

/**
 * What a write reports.
 *
 * @example
 * ```ts
 * import { open, type RunResult } from "@walpool/walpool";
 *
 * await using db = await open("app.db");
 * await db.exec("CREATE TABLE IF NOT EXISTS notes(id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
 * const { changes, lastInsertRowid }: RunResult = await db.run("INSERT INTO notes(body) VALUES ('x')");
 * ```
 */
export interface RunResult {
  /** Rows inserted, updated or deleted by the statement. */
  changes: number;
  /** Rowid of the last inserted row (a `bigint` with `safeIntegers`, or beyond ±2^53). */
  lastInsertRowid: number | bigint;
}

/**
 * Options of one call.
 *
 * @example
 * ```ts
 * import { open } from "@walpool/walpool";
 *
 * await using db = await open("app.db");
 * await db.exec("CREATE TABLE IF NOT EXISTS notes(id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
 * // Give up on a write that has not started within 1 s (it is then never applied).
 * await db.run("INSERT INTO notes(body) VALUES ('x')", [], { signal: AbortSignal.timeout(1000) });
 * ```
 */
export interface CallOptions {
  /** Aborting before the writer starts the request means it is never applied; it rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * For a read: run it on the calling thread (`"inline"`) or on a reader worker (`"workers"`),
   * whatever {@linkcode OpenOptions.routeReads} would choose. Ignored by writes.
   */
  route?: "inline" | "workers";
}

/**
 * Options of {@linkcode open}.
 *
 * @example
 * ```ts
 * import { open, type OpenOptions } from "@walpool/walpool";
 *
 * const options: OpenOptions = {
 *   readers: 4,
 *   durability: "full",
 *   busyTimeout: 10_000,
 *   pragmas: { foreign_keys: true },
 *   migrations: ["CREATE TABLE IF NOT EXISTS notes(id INTEGER PRIMARY KEY, body TEXT NOT NULL)"],
 * };
 * await using db = await open("app.db", options);
 * ```
 */
export interface OpenOptions {
  /** The binding. @default {"bun:sqlite" on Bun, "node:sqlite" on Deno and Node} */
  driver?: DriverName;
  /** Reader connections, each in its own worker; `0` = one read connection on the calling thread. @default {2} */
  readers?: number;
  /**
   * Where reads run. `"adaptive"`: per SQL text, by what a read of it costs (a moving average,
   * measured where it runs): one that costs less than a worker round trip (0.1 ms) runs on a
   * read connection on the calling thread; a dearer one, one not seen yet, or any read once
   * inline reads took half of the calling thread's last 20 ms, goes to a reader worker.
   * `"inline"`: always on the calling thread. `"workers"`: always on the reader workers. With
   * `readers: 0` every read is inline. A call can force a side with `route`.
   * @default {"adaptive"}
   */
  routeReads?: "adaptive" | "inline" | "workers";
  /** `PRAGMA synchronous` of the writer: `"full"` also survives power loss. @default {"normal"} */
  durability?: "normal" | "full";
  /** Milliseconds any connection waits for a lock held by another process. @default {5000} */
  busyTimeout?: number;
  /** The most write requests one commit may carry. @default {1000} */
  maxBatch?: number;
  /** Write requests in flight beyond which new calls wait for room. @default {10000} */
  maxQueue?: number;
  /** INTEGER values come back as `bigint`. @default {false} */
  safeIntegers?: boolean;
  /** Milliseconds after which an interactive transaction still open is rolled back and fails. @default {30000} */
  transactionTimeout?: number;
  /** Extra pragmas run on every connection at open, e.g. `{ foreign_keys: true }`. */
  pragmas?: Record<string, string | number | boolean>;
  /**
   * Schema migrations, in order: SQL text, or a function running statements on a
   * {@linkcode Transaction}. `PRAGMA user_version` counts those applied; at open, the ones past
   * it run through the writer in one transaction, so `open()` applies them all or rejects with a
   * {@linkcode MigrationError} naming the one that failed and leaves the database as it was.
   * Never edit or remove a migration that has shipped; append new ones.
   * @default {[]}
   */
  migrations?: readonly Migration[];
  /**
   * Called on your thread after each commit of the writer, with what it carried and how long it
   * took: one call per group commit or interactive transaction, so it is cheap enough to leave
   * on (e.g. to feed metrics). An error it throws is logged and ignored.
   */
  onCommit?: (event: CommitEvent) => void;
}

/**
 * What {@linkcode OpenOptions.onCommit} is told about a commit.
 *
 * @example
 * ```ts
 * import { type CommitEvent, open } from "@walpool/walpool";
 *
 * const slow: CommitEvent[] = [];
 * await using db = await open("app.db", { onCommit: (e) => e.ms > 100 && slow.push(e) });
 * ```
 */
export interface CommitEvent {
  /** `"group"`: writes committed together; `"transaction"`: an interactive transaction. */
  kind: "group" | "transaction";
  /** Requests (statements, for a transaction) the commit applied. */
  requests: number;
  /** Requests of the group (statements of the transaction) that failed alone. */
  failed: number;
  /** SQLite transactions used: more than 1 when a group was replayed after a rollback. */
  commits: number;
  /** Milliseconds: the writer's time on the group, commit and sync included; for a transaction, from BEGIN to COMMIT. */
  ms: number;
}

/**
 * Counters of a database, as a plain object.
 *
 * @example
 * ```ts
 * import { open, type Stats } from "@walpool/walpool";
 *
 * await using db = await open("app.db");
 * const s: Stats = db.stats();
 * console.log(`${s.queued + s.inFlight} writes pending, p99 ${s.writeLatency.p99Ms} ms`);
 * ```
 */
export interface Stats {
  /** Write requests waiting on the calling thread (for room, or for a transaction). */
  queued: number;
  /** Write requests sent to the writer and not yet answered. */
  inFlight: number;
  /** Transactions the writer committed for grouped writes. */
  commits: number;
  /** Write requests those commits carried. */
  committedRequests: number;
  /** `committedRequests / commits`. */
  requestsPerCommit: number;
  /** The most requests one commit carried. */
  largestCommit: number;
  /** Grouped write requests that failed (statements inside `transaction()` are not counted). */
  failures: number;
  /** Interactive transactions begun. */
  transactions: number;
  /** Reads answered by the readers. */
  reads: number;
  /** Of those, reads run on the calling thread (see {@linkcode OpenOptions.routeReads}). */
  inlineReads: number;
  /** Reads waiting for an answer. */
  readsInFlight: number;
  /** Reader workers (0 with one inline reader). */
  readers: number;
  /** Workers started again after they stopped. */
  workerRestarts: number;
  /** Bytes of the WAL not yet checkpointed, as of the writer's last idle checkpoint. */
  walBytes: number;
  /** The most WAL bytes an idle checkpoint found. */
  largestWalBytes: number;
  /**
   * Checkpoint operations the writer ran when idle, PASSIVE and TRUNCATE each counted (SQLite's
   * own at commits are not).
   */
  checkpoints: number;
  /** Milliseconds from each write call to its answer: waiting for room, the trip, the commit. */
  writeLatency: LatencySummary;
  /** Milliseconds each write waited on your thread before it was sent: for room, or a transaction. */
  queueWait: LatencySummary;
  /** Milliseconds the writer spent on each group of writes, commit and sync included. */
  commitLatency: LatencySummary;
  /** Commits by the requests they carried: `{ "1": 12, "2-3": 40, …, "1024+": 1 }`. */
  commitSizes: Record<string, number>;
  /**
   * Times the writer's BEGIN took over 1 ms: it waits there for a lock held by another process
   * (a busy machine can also make one slow now and then).
   */
  lockWaits: number;
  /** Milliseconds those waits took in all. */
  lockWaitMs: number;
  /** Calls that failed with SQLITE_BUSY: another process held a lock past `busyTimeout`. */
  busyFailures: number;
  /** Per reader worker, the share of its time since it started spent running reads (0–1). */
  readerUtilisation: number[];
}

/**
 * The statements available inside {@linkcode Database.transaction}: they run in its transaction.
 *
 * @example
 * ```ts
 * import { open, type Transaction } from "@walpool/walpool";
 *
 * async function move(tx: Transaction, from: number, to: number, amount: number) {
 *   await tx.run("UPDATE accounts SET balance = balance - ? WHERE id = ?", [amount, from]);
 *   await tx.run("UPDATE accounts SET balance = balance + ? WHERE id = ?", [amount, to]);
 * }
 * await using db = await open("app.db");
 * await db.exec("CREATE TABLE IF NOT EXISTS accounts(id INTEGER PRIMARY KEY, balance INTEGER)");
 * await db.transaction((tx) => move(tx, 1, 2, 10));
 * ```
 */
export interface Transaction {
  /** Runs a statement in the transaction. */
  run(sql: string, params?: Params): Promise<RunResult>;
  /** The first row, seeing the transaction's own writes. */
  get<T = Row>(sql: string, params?: Params): Promise<T | undefined>;
  /** Every row, seeing the transaction's own writes. */
  all<T = Row>(sql: string, params?: Params): Promise<T[]>;
  /** Every row as an array of values in column order, seeing the transaction's own writes. */
  values<T extends unknown[] = unknown[]>(sql: string, params?: Params): Promise<T[]>;
  /** One or more statements, atomically. */
  exec(sql: string): Promise<void>;
  /** Tagged templates in the transaction: see {@linkcode Database.sql}. */
  readonly sql: SqlTag;
}

/**
 * Options of {@linkcode Database.transaction}.
 *
 * @example
 * ```ts
 * import { open } from "@walpool/walpool";
 *
 * await using db = await open("app.db");
 * const n = await db.transaction(async (tx) => (await tx.all("SELECT 1")).length, { timeout: 500 });
 * ```
 */
export interface TransactionOptions extends CallOptions {
  /** Overrides `transactionTimeout` for this transaction (ms). */
  timeout?: number;
}

const isBun = "Bun" in globalThis;

/** The writer and readers behind each database, for tests (not exported by `mod.ts`). */
export const internals: WeakMap<Database, { writer: Writer; readers: Readers }> = new WeakMap();

/**
 * A SQLite database with one writer worker and a set of readers. Create one with
 * {@linkcode open}.
 *
 * @example
 * ```ts
 * import { open } from "@walpool/walpool";
 *
 * await using db = await open("app.db", { readers: 2 });
 * await db.exec("CREATE TABLE IF NOT EXISTS notes(id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
 * const { lastInsertRowid } = await db.run("INSERT INTO notes(body) VALUES (?)", ["hello"]);
 * const note = await db.get<{ id: number; body: string }>("SELECT * FROM notes WHERE id = ?", [
 *   lastInsertRowid,
 * ]);
 * console.log(note?.body); // "hello"
 * ```
 */
export class Database implements AsyncDisposable {
  #writer: Writer;
  #readers: Readers;
  #timeout: number;
  #closing: Promise<void> | undefined;

  /**
   * Tagged templates: every `${value}` is bound as a parameter, never spliced into the SQL;
   * table and column names go in only through {@linkcode ident}. Used as a tag it returns every
   * row (routed like {@linkcode Database.all}); `.get`, `.values` and `.run` (the writer form)
   * take a template too. The SQL text of a template without `ident()` is built once per call site.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { open } from "@walpool/walpool";
   *
   * await using db = await open("app.db");
   * await db.exec("CREATE TABLE IF NOT EXISTS notes(id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
   * const id = (await db.sql.run`INSERT INTO notes(body) VALUES (${"first"})`).lastInsertRowid;
   * const notes = await db.sql<{ body: string }>`SELECT body FROM notes WHERE id = ${id}`;
   * assert.deepEqual(notes, [{ body: "first" }]);
   * const { changes } = await db.sql.run`UPDATE notes SET body = ${"hi"} WHERE id = ${id}`;
   * assert.equal(changes, 1);
   * ```
   */
  readonly sql: SqlTag;

  /** Use {@linkcode open}. @internal */
  constructor(writer: Writer, readers: Readers, transactionTimeout: number) {
    this.#writer = writer;
    this.#readers = readers;
    this.#timeout = transactionTimeout;
    this.sql = sqlTag(this);
    internals.set(this, { writer, readers });
  }

  #write(body: WriteBody, opts?: CallOptions): Promise<unknown> {
    if (this.#closing) return Promise.reject(new ClosedError());
    if (body.kind === "batch") {
      for (const s of body.stmts) checkStatement(s.sql);
    } else {
      checkStatement(body.sql);
    }
    return callerStack(this.#writer.request(body, opts?.signal));
  }

  /**
   * Runs one statement through the writer.
   *
   * @param sql One SQL statement.
   * @param params Positional or named parameters.
   * @param opts `signal` to abort it before the writer starts it.
   * @returns Changes and last rowid, once the commit that holds the write succeeded.
   * @throws {SqliteError} SQLite refused the statement.
   * @throws {TypeError} A parameter cannot be bound.
   * @throws {ClosedError} The database is closed.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { open } from "@walpool/walpool";
   *
   * await using db = await open("app.db");
   * await db.exec("CREATE TABLE IF NOT EXISTS notes(id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
   * const { lastInsertRowid } = await db.run("INSERT INTO notes(body) VALUES (?)", ["draft"]);
   * const { changes } = await db.run("UPDATE notes SET body = ? WHERE id = ?", ["final", lastInsertRowid]);
   * assert.equal(changes, 1);
   * ```
   */
  run(sql: string, params?: Params, opts?: CallOptions): Promise<RunResult> {
    return rejectThrown(() =>
      this.#write({ kind: "run", sql, params: bindParams(sql, params) }, opts)
    ) as Promise<
      RunResult
    >;
  }

  /**
   * The first row of a query, read by a reader (a statement that writes, such as
   * `INSERT … RETURNING`, goes to the writer instead).
   *
   * @param sql One SQL statement.
   * @param params Positional or named parameters.
   * @param opts `signal` to stop waiting for it.
   * @returns The row, or `undefined`.
   * @throws {SqliteError} SQLite refused the statement.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { open } from "@walpool/walpool";
   *
   * await using db = await open("app.db");
   * await db.exec("CREATE TABLE IF NOT EXISTS notes(id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
   * const { lastInsertRowid: id } = await db.run("INSERT INTO notes(body) VALUES ('x')");
   * const note = await db.get<{ body: string }>("SELECT body FROM notes WHERE id = :id", { id });
   * assert.deepEqual(note, { body: "x" });
   * ```
   */
  get<T = Row>(sql: string, params?: Params, opts?: CallOptions): Promise<T | undefined> {
    return this.#query("get", sql, params, opts) as Promise<T | undefined>;
  }

  /**
   * Every row of a query (routed as {@linkcode Database.get}).
   *
   * @param sql One SQL statement.
   * @param params Positional or named parameters.
   * @param opts `signal` to stop waiting for it.
   * @returns The rows.
   * @throws {SqliteError} SQLite refused the statement.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { open } from "@walpool/walpool";
   *
   * await using db = await open("app.db");
   * await db.exec("CREATE TABLE IF NOT EXISTS notes(id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
   * await db.run("INSERT INTO notes(body) VALUES ('x')");
   * const notes = await db.all<{ id: number }>("SELECT id FROM notes ORDER BY id");
   * assert.ok(notes.length >= 1);
   * ```
   */
  all<T = Row>(sql: string, params?: Params, opts?: CallOptions): Promise<T[]> {
    return this.#query("all", sql, params, opts) as Promise<T[]>;
  }

  /**
   * Every row of a query as an array of values in column order (routed as
   * {@linkcode Database.get}). Columns with the same name, as in a join, are all kept.
   *
   * @param sql One SQL statement.
   * @param params Positional or named parameters.
   * @param opts `signal` to stop waiting for it.
   * @returns The rows, each an array.
   * @throws {SqliteError} SQLite refused the statement.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { open } from "@walpool/walpool";
   *
   * await using db = await open("app.db");
   * await db.exec("CREATE TABLE IF NOT EXISTS notes(id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
   * await db.run("INSERT INTO notes(body) VALUES ('x')");
   * const pairs = await db.values<[number, string]>("SELECT id, body FROM notes ORDER BY id");
   * assert.ok(Array.isArray(pairs[0]));
   * ```
   */
  values<T extends unknown[] = unknown[]>(
    sql: string,
    params?: Params,
    opts?: CallOptions,
  ): Promise<T[]> {
    return this.#query("values", sql, params, opts) as Promise<T[]>;
  }

  #query(kind: ReadKind, sql: string, params?: Params, opts?: CallOptions): Promise<unknown> {
    return rejectThrown(() => {
      const bound = bindParams(sql, params);
      if (!isRead(sql)) return this.#write({ kind, sql, params: bound }, opts);
      // A transaction accepted before close() may still read while it finishes.
      if (this.#closing && !this.#writer.inOwnTransaction()) throw new ClosedError();
      const signal = opts?.signal;
      const route = opts?.route;
      if (route !== undefined && route !== "inline" && route !== "workers") {
        throw new TypeError(`Option route must be "inline" or "workers", got ${String(route)}`);
      }
      if (!signal) return this.#readers.read(kind, sql, bound, route);
      signal.throwIfAborted();
      return callerStack(
        new Promise((resolve, reject) => {
          const onAbort = () => reject(signal.reason);
          signal.addEventListener("abort", onAbort, { once: true });
          this.#readers.read(kind, sql, bound, route).then(resolve, reject).finally(() =>
            signal.removeEventListener("abort", onAbort)
          );
        }),
      );
    });
  }

  /**
   * Runs one or more statements through the writer, atomically.
   *
   * @param sql Statements separated by `;` (no parameters).
   * @returns Once committed.
   * @throws {SqliteError} A statement failed; none of them applied.
   * @example
   * ```ts
   * import { open } from "@walpool/walpool";
   *
   * await using db = await open("app.db");
   * await db.exec("CREATE TABLE IF NOT EXISTS a(x); CREATE TABLE IF NOT EXISTS b(y)");
   * ```
   */
  exec(sql: string): Promise<void> {
    return rejectThrown(() => this.#write({ kind: "exec", sql })) as Promise<void>;
  }

  /**
   * Runs statements as one all-or-nothing request of the writer.
   *
   * @param statements `{ sql, params? }` each.
   * @returns One result per statement, once committed.
   * @throws {SqliteError} A statement failed; none of them applied.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { open } from "@walpool/walpool";
   *
   * await using db = await open("app.db");
   * await db.exec("CREATE TABLE IF NOT EXISTS notes(id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
   * const results = await db.batch([
   *   { sql: "INSERT INTO notes(body) VALUES (?)", params: ["a"] },
   *   { sql: "INSERT INTO notes(body) VALUES (?)", params: ["b"] },
   * ]);
   * assert.equal(results.length, 2);
   * ```
   */
  batch(statements: readonly { sql: string; params?: Params }[]): Promise<RunResult[]> {
    return rejectThrown(() => {
      if (!Array.isArray(statements)) {
        throw new TypeError("batch() takes an array of { sql, params }");
      }
      const stmts = statements.map((s) => {
        if (typeof s?.sql !== "string") {
          throw new TypeError("Each batch statement needs sql: string");
        }
        return { sql: s.sql, params: bindParams(s.sql, s.params) };
      });
      return this.#write({ kind: "batch", stmts });
    }) as Promise<RunResult[]>;
  }

  /**
   * Runs `fn` in an interactive transaction on the writer: it commits when `fn` resolves and
   * rolls back when it throws. Other writes wait until it ends; reads go on (seeing the state
   * before it). Inside `fn`, use `tx`, never `db`, for writes: a write through `db` would wait for
   * the transaction itself, so it is rejected at once.
   *
   * @param fn Gets `tx.run/get/all/exec`.
   * @param opts `timeout` (default `transactionTimeout`), `signal` to abort before it begins.
   * @returns What `fn` returned, once committed.
   * @throws {SqliteError} A statement or the commit failed.
   * @throws {DOMException} `TimeoutError`: still open after the timeout; rolled back.
   * @example
   * ```ts
   * import { open } from "@walpool/walpool";
   *
   * await using db = await open("app.db");
   * await db.exec(`
   *   CREATE TABLE IF NOT EXISTS notes(id INTEGER PRIMARY KEY, body TEXT NOT NULL);
   *   CREATE TABLE IF NOT EXISTS tags(note INTEGER, tag TEXT);
   * `);
   * const id = await db.transaction(async (tx) => {
   *   const { lastInsertRowid } = await tx.run("INSERT INTO notes(body) VALUES (?)", ["x"]);
   *   await tx.run("INSERT INTO tags(note, tag) VALUES (?, ?)", [lastInsertRowid, "new"]);
   *   return lastInsertRowid;
   * });
   * console.log(`note ${id} and its tag were committed together`);
   * ```
   */
  transaction<T>(fn: (tx: Transaction) => T | Promise<T>, opts?: TransactionOptions): Promise<T> {
    return rejectThrown(() => {
      if (this.#closing) throw new ClosedError();
      if (typeof fn !== "function") throw new TypeError("transaction() takes a function");
      const timeout = opts?.timeout === undefined
        ? this.#timeout
        : integerOption("timeout", opts.timeout, 1);
      return callerStack(runTransaction(this.#writer, fn, timeout, opts?.signal));
    });
  }

  /**
   * Counters of the writer and readers.
   *
   * @returns A plain object.
   * @example
   * ```ts
   * import { open } from "@walpool/walpool";
   *
   * await using db = await open("app.db");
   * const { commits, requestsPerCommit, writeLatency } = db.stats();
   * console.log(commits, requestsPerCommit, writeLatency.p99Ms);
   * ```
   */
  stats(): Stats {
    const c = this.#writer.counters;
    return {
      queued: this.#writer.queued,
      inFlight: this.#writer.inFlight,
      commits: c.commits,
      committedRequests: c.committed,
      requestsPerCommit: c.commits ? c.committed / c.commits : 0,
      largestCommit: c.largestCommit,
      failures: c.failures,
      transactions: c.transactions,
      reads: this.#readers.reads,
      inlineReads: this.#readers.inlineReads,
      readsInFlight: this.#readers.outstanding,
      readers: this.#readers.workers.length,
      workerRestarts: c.restarts + this.#readers.restarts,
      walBytes: c.walBytes,
      largestWalBytes: c.largestWalBytes,
      checkpoints: c.checkpoints,
      writeLatency: this.#writer.writeLatency.summary(),
      queueWait: this.#writer.queueWait.summary(),
      commitLatency: this.#writer.commitLatency.summary(),
      commitSizes: this.#writer.commitSizes.histogram(),
      lockWaits: c.lockWaits,
      lockWaitMs: Math.round(c.lockWaitMs),
      busyFailures: c.busyFailures + this.#readers.busyFailures,
      readerUtilisation: this.#readers.utilisation(),
    };
  }

  /**
   * Stops intake, commits every write already accepted, checkpoints the WAL, then closes the
   * readers and the writer. Idempotent; later calls reject with {@linkcode ClosedError}.
   *
   * @returns Once everything is closed.
   * @example
   * ```ts
   * import { open } from "@walpool/walpool";
   *
   * const db = await open("app.db");
   * await db.close();
   * await db.close(); // harmless
   * ```
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#writer.drained();
      await this.#readers.close();
      await this.#writer.close();
    })();
    return this.#closing;
  }

  /** Same as {@linkcode Database.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Opens (creating if needed) a database file in WAL mode, starts the writer worker and the
 * readers, and resolves once all are ready.
 *
 * @param path A file path or `file:` URL.
 * @param options See {@linkcode OpenOptions}.
 * @returns The database.
 * @throws {SqliteError} The file cannot be opened or written.
 * @throws {TypeError} An option has the wrong type.
 * @throws {RangeError} A number option is out of range.
 * @throws {MigrationError} A migration failed; none was applied.
 * @example
 * ```ts
 * import { open } from "@walpool/walpool";
 *
 * await using db = await open("app.db", {
 *   readers: 2,
 *   durability: "full",
 *   migrations: ["CREATE TABLE IF NOT EXISTS notes(id INTEGER PRIMARY KEY, body TEXT NOT NULL)"],
 * });
 * ```
 */
export async function open(path: string | URL, options: OpenOptions = {}): Promise<Database> {
  const o = checkOptions(options);
  const base: ConnectionConfig = {
    driver: o.driver,
    path: filePath(path),
    readonly: false,
    safeIntegers: o.safeIntegers,
    busyTimeout: o.busyTimeout,
    durability: o.durability,
    pragmas: o.pragmas,
  };
  // Internal, for walpool's fault-injection tests: faults for the writer's connection only.
  const faults = (options as { faults?: FaultPlan }).faults;
  const writer = await Writer.start({ ...base, faults }, o.maxBatch, o.maxQueue, o.onCommit);
  let readers: Readers;
  try {
    readers = await Readers.start({ ...base, readonly: true }, o.readers, o.routeReads);
  } catch (error) {
    await writer.close();
    throw error;
  }
  const db = new Database(writer, readers, o.transactionTimeout);
  try {
    if (o.migrations.length) await migrate(db, o.migrations);
  } catch (error) {
    await db.close();
    throw error;
  }
  return db;
}

function filePath(path: string | URL): string {
  let p: string;
  if (path instanceof URL) {
    if (path.protocol !== "file:") {
      throw new TypeError(`Only file: URLs can be opened, not ${path.protocol}`);
    }
    p = decodeURIComponent(path.pathname);
  } else if (typeof path === "string") {
    p = path;
  } else {
    throw new TypeError("The path must be a string or a file: URL");
  }
  if (p === "" || p === ":memory:" || p.startsWith("file:")) {
    throw new TypeError(
      `Cannot open "${p}": walpool needs a database file that its workers can share (not ":memory:", "" or a file: URI string)`,
    );
  }
  if (p.startsWith("/")) return p;
  const cwd = (globalThis as { process?: { cwd(): string } }).process?.cwd() ?? ".";
  return `${cwd}/${p}`;
}

/** Timers and SQLite take a 32-bit signed number of milliseconds. */
const MAX_MS = 2 ** 31 - 1;

/** Checks an integer option: `TypeError` if it is not one, `RangeError` out of [min, 2^31 - 1]. */
function integerOption(name: string, value: unknown, min: number): number {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new TypeError(`Option ${name} must be an integer, got ${String(value)}`);
  }
  if (value < min || value > MAX_MS) {
    throw new RangeError(`Option ${name} must be from ${min} to ${MAX_MS}, got ${value}`);
  }
  return value;
}

function checkOptions(
  options: OpenOptions,
): Required<Omit<OpenOptions, "pragmas" | "onCommit">> & {
  pragmas: string[];
  onCommit?: OpenOptions["onCommit"];
} {
  if (typeof options !== "object" || options === null) {
    throw new TypeError("Options must be an object");
  }
  const int = (name: keyof OpenOptions, value: unknown, fallback: number, min: number): number =>
    value === undefined ? fallback : integerOption(name, value, min);
  const driver = options.driver ?? (isBun ? "bun:sqlite" : "node:sqlite");
  if (!["bun:sqlite", "node:sqlite", "@db/sqlite"].includes(driver)) {
    throw new TypeError(
      `Unknown driver "${driver}": use "bun:sqlite", "node:sqlite" or "@db/sqlite"`,
    );
  }
  if (options.onCommit !== undefined && typeof options.onCommit !== "function") {
    throw new TypeError("Option onCommit must be a function");
  }
  const routeReads = options.routeReads ?? "adaptive";
  if (!["adaptive", "inline", "workers"].includes(routeReads)) {
    throw new TypeError(
      `Option routeReads must be "adaptive", "inline" or "workers", got ${String(routeReads)}`,
    );
  }
  const durability = options.durability ?? "normal";
  if (durability !== "normal" && durability !== "full") {
    throw new TypeError(`Option durability must be "normal" or "full", got ${String(durability)}`);
  }
  const pragmas = Object.entries(options.pragmas ?? {}).map(([name, value]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new TypeError(`Invalid pragma name "${name}"`);
    }
    const reserved = RESERVED_PRAGMAS[name.toLowerCase()];
    if (reserved) throw new TypeError(`Pragma ${name} is set by walpool: ${reserved}`);
    if (typeof value === "boolean") return `${name} = ${value ? "ON" : "OFF"}`;
    if (typeof value === "number" && Number.isFinite(value)) return `${name} = ${value}`;
    if (typeof value === "string") return `${name} = '${value.replaceAll("'", "''")}'`;
    throw new TypeError(`Pragma ${name} must be a string, finite number or boolean`);
  });
  return {
    driver,
    readers: int("readers", options.readers, 2, 0),
    routeReads,
    durability,
    busyTimeout: int("busyTimeout", options.busyTimeout, 5000, 0),
    maxBatch: int("maxBatch", options.maxBatch, 1000, 1),
    maxQueue: int("maxQueue", options.maxQueue, 10000, 1),
    safeIntegers: options.safeIntegers ?? false,
    transactionTimeout: int("transactionTimeout", options.transactionTimeout, 30000, 1),
    pragmas,
    migrations: checkMigrations(options.migrations),
    onCommit: options.onCommit,
  };
}
