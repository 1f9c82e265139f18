/**
 * The public types of walpool: values and parameters, rows and results, the options of `open()`
 * and of each call, `stats()`, and what a transaction or a tagged template offers. A leaf module:
 * it imports nothing but types from other leaves.
 *
 * @module
 */

import type { DriverName } from "./driver.ts";
import type { LatencySummary } from "./_histogram.ts";
import type { Identifier } from "./ident.ts";

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
 * Options of {@linkcode Database.iterate}.
 *
 * @example
 * ```ts
 * import { type IterateOptions, open } from "@walpool/walpool";
 *
 * await using db = await open("app.db");
 * const opts: IterateOptions = { chunkSize: 1000, signal: AbortSignal.timeout(60_000) };
 * for await (const row of db.iterate("SELECT 1 AS one", [], opts)) console.log(row);
 * ```
 */
export interface IterateOptions {
  /** Stops the statement and frees its connection; the loop throws the signal's reason. */
  signal?: AbortSignal;
  /** Rows per chunk sent from the reader (at most two chunks are held at once). @default {500} */
  chunkSize?: number;
}

/**
 * Options of {@linkcode Database.backup}.
 *
 * @example
 * ```ts
 * import { type BackupOptions, open } from "@walpool/walpool";
 * import { mkdtempSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * await using db = await open("app.db");
 * const opts: BackupOptions = {
 *   onProgress: ({ bytes, totalBytes }) => console.log(`${bytes} of about ${totalBytes} bytes`),
 * };
 * await db.backup(join(mkdtempSync(join(tmpdir(), "backup-")), "app-copy.db"), opts);
 * ```
 */
export interface BackupOptions {
  /**
   * Called about every 100 ms while the copy is written, and once at the end (then `bytes` is
   * `totalBytes`): `bytes` written so far, `totalBytes` the database's size (the copy is
   * compacted, so it may end smaller). An error it throws is logged and ignored.
   */
  onProgress?: (progress: { bytes: number; totalBytes: number }) => void;
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
 *
 * @example A driver module of your own
 * ```ts
 * import type { OpenOptions } from "@walpool/walpool";
 *
 * // my_driver.ts (a custom build of a binding, or one wrapped to log each connection it opens)
 * // exports `driver`: { name, open(path, { readonly, safeIntegers }), errorInfo(error) }.
 * const options: OpenOptions = { driver: new URL("./my_driver.ts", import.meta.url) };
 * ```
 */
export interface OpenOptions {
  /**
   * The binding: one of walpool's drivers by name, or the URL of a driver module of your own (a
   * custom build, a wrapped binding), as a `URL` or a string: `file:`, or on Deno also `http:` and
   * `https:`. The module exports a `Driver` (the interface in `lib/driver.ts`) as `driver` or as
   * its default export; every thread that opens a connection imports it: the writer's, each
   * reader's, and yours for inline reads. Any other string is refused with a `TypeError`; a
   * module that cannot be imported, or exports no `Driver`, makes `open()` reject with an error
   * naming its URL.
   * @default {"bun:sqlite" on Bun, "node:sqlite" on Deno and Node}
   */
  driver?: DriverName | URL | string;
  /**
   * Reader connections, each in its own worker; `0` = one read connection on the calling thread.
   * A remote database: requests of reads in flight at once (each carries every read waiting).
   * @default {2}
   */
  readers?: number;
  /**
   * Where reads run. `"adaptive"`: per SQL text, by what a read of it costs (a moving average,
   * measured where it runs): one that costs less than a worker round trip (0.1 ms) runs on a
   * read connection on the calling thread; a dearer one, or one not seen yet, goes to a reader
   * worker. Once inline reads took 5 ms without the calling thread's event loop turning, the
   * next ones wait for it to turn.
   * `"inline"`: always on the calling thread. `"workers"`: always on the reader workers. With
   * `readers: 0` every read is inline. A call can force a side with `route`.
   * @default {"adaptive"}
   */
  routeReads?: "adaptive" | "inline" | "workers";
  /**
   * Where interactive transactions, and writes made alone, run. `"adaptive"`: a transaction
   * whose statements are known to be cheap (under 1 ms each on average, measured per kind of
   * transaction, known by its first statement) runs on a write connection of the calling thread
   * when the writer is idle, its statements synchronous as with the raw binding; so does a write
   * of a SQL text known to be cheap that is the only one made in its tick while the writer is
   * idle (a commit of its own). Any other, one not seen yet, or any with `durability: "full"`,
   * runs on the writer, where writes made together share a commit. `"writer"`: always on the
   * writer (where transactions that follow each other closely share one COMMIT).
   * @default {"adaptive"}
   */
  routeTransactions?: "adaptive" | "writer";
  /**
   * Write procedures: the URL (`file:`; on Deno also `http(s):`) of a module whose exported
   * functions `(tx: ProcedureTransaction, args) => result` run inside the writer, called by
   * {@linkcode Database.call}. Each call is one request of a group commit: synchronous, in a
   * savepoint, so one that throws undoes only its own statements. Read-then-write logic this way
   * costs one request instead of a round trip per statement.
   */
  procedures?: URL | string;
  /**
   * SQLite extensions (paths of shared libraries, e.g. sqlite-vec's `vec0.so`) that every
   * connection loads: the writer's, each reader's, yours. Off unless given: extension loading is
   * enabled only on connections opened with this option. A binding that cannot load extensions,
   * or a file that does not load, makes `open()` reject naming it.
   * @default {[]}
   */
  extensions?: readonly string[];
  /**
   * The URL (`file:`; on Deno also `http(s):`) of a module whose exported functions become scalar
   * SQL functions, under their export names, on every connection (each thread imports the
   * module). They take any number of arguments and return a SQLite value; one that throws fails
   * its statement with that message. Keep them deterministic: a read may run on any connection.
   */
  functions?: URL | string;
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
  /**
   * A remote database only (an `http:`, `https:` or `libsql:` URL): the token sent as
   * `Authorization: Bearer …` (sqld's `--auth-jwt-key-file`, a Turso token).
   */
  authToken?: string;
  /**
   * A remote database only: milliseconds to wait for the server's answer to one request before
   * the call rejects with a {@linkcode RemoteError} (`mayHaveApplied: true` for a write).
   * @default {10000}
   */
  requestTimeout?: number;
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
  /**
   * SQLite commits those transactions took: transactions run back to back share one (group
   * commit, see {@linkcode Database.transaction}).
   */
  transactionCommits: number;
  /**
   * Of the transactions, those run on the calling thread's own write connection, the writer
   * being idle (see {@linkcode Database.transaction}).
   */
  inlineTransactions: number;
  /**
   * Writes run alone on the calling thread's write connection, the writer being idle (each a
   * commit of one; see {@linkcode OpenOptions.routeTransactions}).
   */
  inlineWrites: number;
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
  /**
   * Bytes in the WAL (its pages) after the writer's last idle checkpoint: 0 once that checkpoint
   * could truncate it, more while a reader's snapshot keeps it from being reset.
   */
  walBytes: number;
  /** The most WAL bytes a checkpoint of the writer found. */
  largestWalBytes: number;
  /**
   * Checkpoint operations the writer ran, PASSIVE and TRUNCATE each counted (SQLite's own at
   * commits are not): when idle, and behind the commits on the calling thread (those are
   * reported with the next idle one).
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
  /**
   * The rows of a query, one at a time, seeing the transaction's own writes. Inside a transaction
   * the rows are read at once, then handed out (a transaction holds the writer: keep it short).
   *
   * @example
   * ```ts
   * import { open } from "@walpool/walpool";
   *
   * await using db = await open("app.db");
   * await db.exec("CREATE TABLE IF NOT EXISTS notes(id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
   * await db.transaction(async (tx) => {
   *   await tx.run("INSERT INTO notes(body) VALUES ('x')");
   *   for await (const note of tx.iterate<{ body: string }>("SELECT body FROM notes")) {
   *     console.log(note.body);
   *   }
   * });
   * ```
   */
  iterate<T = Row>(sql: string, params?: Params): AsyncIterableIterator<T>;
  /** Tagged templates in the transaction: see {@linkcode Database.sql}. */
  readonly sql: SqlTag;
  /**
   * A nested transaction: runs `fn` under a `SAVEPOINT`, released when `fn` resolves and rolled
   * back to when it throws (then the error is rethrown, and the outer transaction goes on). Nest
   * as deep as you like; await each before starting the next.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { open } from "@walpool/walpool";
   *
   * await using db = await open("app.db");
   * await db.exec("CREATE TABLE IF NOT EXISTS steps(name TEXT)");
   * await db.exec("DELETE FROM steps");
   * await db.transaction(async (tx) => {
   *   await tx.run("INSERT INTO steps VALUES ('kept')");
   *   await tx.transaction(async (inner) => {
   *     await inner.run("INSERT INTO steps VALUES ('undone')");
   *     throw new Error("changed my mind");
   *   }).catch(() => {}); // only the nested part is rolled back
   * });
   * assert.deepEqual(await db.values("SELECT name FROM steps"), [["kept"]]);
   * ```
   */
  transaction<T>(fn: (tx: Transaction) => T | Promise<T>): Promise<T>;
}

/**
 * The statements a write procedure gets (see {@linkcode OpenOptions.procedures}): they run
 * synchronously on the writer's connection, in the procedure's savepoint.
 *
 * @example
 * ```ts
 * // procedures.ts, given to open() as `procedures: new URL("./procedures.ts", import.meta.url)`
 * import type { ProcedureTransaction } from "@walpool/walpool";
 *
 * export function deposit(tx: ProcedureTransaction, { id, amount }: { id: number; amount: number }) {
 *   const row = tx.get<{ balance: number }>("SELECT balance FROM accounts WHERE id = ?", [id]);
 *   if (!row) throw new RangeError(`no account ${id}`);
 *   tx.run("UPDATE accounts SET balance = ? WHERE id = ?", [row.balance + amount, id]);
 *   return row.balance + amount;
 * }
 * ```
 */
export interface ProcedureTransaction {
  /** Runs a statement. */
  run(sql: string, params?: Params): RunResult;
  /** The first row, seeing the writes made so far. */
  get<T = Row>(sql: string, params?: Params): T | undefined;
  /** Every row. */
  all<T = Row>(sql: string, params?: Params): T[];
  /** Every row as an array of values in column order. */
  values<T extends unknown[] = unknown[]>(sql: string, params?: Params): T[];
  /** One or more statements without parameters. */
  exec(sql: string): void;
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

/**
 * One migration: SQL statements, or a function that runs statements on `tx`.
 *
 * @example
 * ```ts
 * import { type Migration, open } from "@walpool/walpool";
 *
 * const migrations: Migration[] = [
 *   "CREATE TABLE IF NOT EXISTS people(id INTEGER PRIMARY KEY, name TEXT)",
 *   async (tx) => void await tx.run("UPDATE people SET name = trim(name)"),
 * ];
 * await using db = await open("people.db", { migrations });
 * ```
 */
export type Migration = string | ((tx: Transaction) => void | Promise<void>);

/**
 * A value of a tagged template: bound as a parameter, or an {@linkcode Identifier}.
 *
 * @example
 * ```ts
 * import { ident, open, type SqlValue } from "@walpool/walpool";
 *
 * await using db = await open("app.db");
 * const parts: SqlValue[] = [ident("sqlite_master"), "table"];
 * const rows = await db.sql`SELECT name FROM ${parts[0]} WHERE type = ${parts[1]}`;
 * ```
 */
export type SqlValue = Value | Identifier;

/**
 * The tagged template of a database or transaction. Called as a tag it returns every row
 * (routed like `all`: a read goes to a reader, a statement that writes to the writer); `.get`,
 * `.values` and `.run` (the writer form, returning changes and last rowid) take a template too.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "@walpool/walpool";
 *
 * await using db = await open("app.db");
 * await db.exec("CREATE TABLE IF NOT EXISTS notes(id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
 * const { lastInsertRowid: id } = await db.sql.run`INSERT INTO notes(body) VALUES (${"x"})`;
 * const notes = await db.sql<{ id: number; body: string }>`SELECT * FROM notes WHERE id >= ${id}`;
 * const note = await db.sql.get<{ body: string }>`SELECT body FROM notes WHERE id = ${id}`;
 * const { changes } = await db.sql.run`UPDATE notes SET body = ${"y"} WHERE id = ${id}`;
 * assert.deepEqual([notes.length, note?.body, changes], [1, "x", 1]);
 * ```
 */
export interface SqlTag {
  /** Every row of the statement. */
  <T = Row>(strings: TemplateStringsArray, ...values: SqlValue[]): Promise<T[]>;
  /** The first row, or `undefined`. */
  get<T = Row>(strings: TemplateStringsArray, ...values: SqlValue[]): Promise<T | undefined>;
  /** Every row as an array of values in column order. */
  values<T extends unknown[] = unknown[]>(
    strings: TemplateStringsArray,
    ...values: SqlValue[]
  ): Promise<T[]>;
  /** Runs the statement through the writer. */
  run(strings: TemplateStringsArray, ...values: SqlValue[]): Promise<RunResult>;
}
