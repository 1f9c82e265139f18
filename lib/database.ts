/**
 * The {@linkcode Database} that {@linkcode open} returns: where each call goes, and `stats()`.
 *
 * @module
 */

import type {
  BackupOptions,
  CallOptions,
  IterateOptions,
  Params,
  Row,
  RunResult,
  SqlTag,
  Stats,
  Transaction,
  TransactionOptions,
} from "./types.ts";
import type { ReadKind } from "./protocol.ts";
import type { Writer } from "./writer.ts";
import type { WriteBody } from "./_write_call.ts";
import type { Readers } from "./readers.ts";
import type { Engine } from "./_engine.ts";
import { bindParams, bindStatements } from "./_params.ts";
import { checkStatement, isRead, statementInfo } from "./_classify.ts";
import { callerStack, ClosedError, rejectThrown, untilAborted } from "./errors.ts";
import { sqlTag } from "./sql_tag.ts";
import { prometheusText } from "./_metrics.ts";
import { integerOption } from "./_options.ts";

/** The writer and readers behind each local database, for tests (not exported by `mod.ts`). */
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
  #engine: Engine;
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
  constructor(engine: Engine, transactionTimeout: number) {
    this.#engine = engine;
    this.#timeout = transactionTimeout;
    this.sql = sqlTag(this);
  }

  #write(body: WriteBody, opts?: CallOptions): Promise<unknown> {
    if (this.#closing) return Promise.reject(new ClosedError());
    if (body.kind === "batch") {
      for (const s of body.stmts) checkStatement(s.sql);
    } else {
      checkStatement(body.sql);
    }
    return callerStack(this.#engine.write(body, opts?.signal));
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
   * @throws {RangeError} Wrong number of parameters, a missing named one, or an integer beyond 64 bits.
   * @throws {TransactionError} Called through `db` inside its own `transaction()` callback.
   * @throws {WorkerError} The writer stopped while it held the call (`mayHaveApplied` says whether it may have committed).
   * @throws Its `signal`'s reason, when aborted before the writer started it.
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
   * @throws {TypeError} A parameter cannot be bound.
   * @throws {RangeError} Wrong number of parameters, a missing named one, or an integer beyond ±2^53 without `safeIntegers`.
   * @throws {ClosedError} The database is closed.
   * @throws {WorkerError} The reader stopped while it held the read.
   * @throws Its `signal`'s reason, when aborted before the answer came.
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
   * @throws {TypeError} A parameter cannot be bound.
   * @throws {RangeError} Wrong number of parameters, a missing named one, or an integer beyond ±2^53 without `safeIntegers`.
   * @throws {ClosedError} The database is closed.
   * @throws {WorkerError} The reader stopped while it held the read.
   * @throws Its `signal`'s reason, when aborted before the answer came.
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
   * @throws {TypeError} A parameter cannot be bound.
   * @throws {RangeError} Wrong number of parameters, a missing named one, or an integer beyond ±2^53 without `safeIntegers`.
   * @throws {ClosedError} The database is closed.
   * @throws {WorkerError} The reader stopped while it held the read.
   * @throws Its `signal`'s reason, when aborted before the answer came.
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

  /**
   * The rows of a query, one at a time, as they are read: they come from a reader in chunks
   * (`chunkSize`), one chunk asked for ahead, so a result of any size takes the memory of two
   * chunks, and a slow consumer holds the reader's cursor, not a copy of the result. `break`
   * (or the signal) ends the statement and frees its connection at once. The cursor reads on a
   * connection of its own, so its snapshot never holds back other reads; it stays open while
   * you iterate (the WAL cannot be reset past it: don't leave one half-read for long). With
   * `readers: 0` the cursor is on your thread, a chunk at a time. A statement that writes
   * (`INSERT … RETURNING`) goes to the writer and its rows are read at once; on a remote
   * database too.
   *
   * @param sql One SQL statement.
   * @param params Positional or named parameters.
   * @param opts `signal` to stop it, `chunkSize` (default 500).
   * @returns An async iterator of rows (plain objects).
   * @throws {SqliteError} SQLite refused the statement (from the first `next()`).
   * @throws {ClosedError} The database is closed.
   * @throws {WorkerError} The reader stopped while it streamed.
   * @throws {RangeError} An integer beyond ±2^53 without `safeIntegers`, or a bad `chunkSize`.
   * @throws Its `signal`'s reason, when aborted.
   * @example
   * ```ts
   * import { open } from "@walpool/walpool";
   *
   * await using db = await open("app.db");
   * await db.exec("CREATE TABLE IF NOT EXISTS events(id INTEGER PRIMARY KEY, kind TEXT)");
   * let n = 0;
   * for await (const event of db.iterate<{ id: number; kind: string }>("SELECT * FROM events")) {
   *   if (++n > 1_000) break; // ends the statement at once
   * }
   * ```
   */
  iterate<T = Row>(sql: string, params?: Params, opts?: IterateOptions): AsyncIterableIterator<T> {
    const engine = this.#engine;
    let rows: () => AsyncGenerator<T, void, undefined>;
    try {
      const chunk = opts?.chunkSize === undefined
        ? 500
        : integerOption("chunkSize", opts.chunkSize, 1);
      const bound = bindParams(sql, params);
      if (isRead(sql)) {
        if (this.#closing && !engine.inOwnTransaction()) throw new ClosedError();
        rows = () => engine.iterate<T>(sql, bound, chunk, opts?.signal);
      } else {
        // A write takes its place in the write order now, as any call does.
        const all = this.#write({ kind: "all", sql, params: bound }, opts) as Promise<T[]>;
        all.catch(() => {}); // reported by the first next()
        rows = async function* () {
          yield* await all;
        };
      }
    } catch (error) {
      // deno-lint-ignore require-yield
      rows = async function* () {
        throw error; // reported by the first next(), as any error of the stream
      };
    }
    return rows();
  }

  #query(kind: ReadKind, sql: string, params?: Params, opts?: CallOptions): Promise<unknown> {
    // A bad argument rejects this call alone (try/catch here rather than rejectThrown's closure:
    // this is every read's path).
    try {
      const info = statementInfo(sql);
      const bound = bindParams(sql, params, info);
      if (!info.read) return this.#write({ kind, sql, params: bound }, opts);
      // A transaction accepted before close() may still read while it finishes.
      if (this.#closing && !this.#engine.inOwnTransaction()) throw new ClosedError();
      if (opts == null) return this.#engine.read(kind, sql, bound);
      const { signal, route } = opts;
      if (route !== undefined && route !== "inline" && route !== "workers") {
        throw new TypeError(`Option route must be "inline" or "workers", got ${String(route)}`);
      }
      if (!signal) return this.#engine.read(kind, sql, bound, route);
      signal.throwIfAborted();
      return callerStack(untilAborted(this.#engine.read(kind, sql, bound, route), signal));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Runs one or more statements through the writer, atomically.
   *
   * @param sql Statements separated by `;` (no parameters).
   * @returns Once committed.
   * @throws {SqliteError} A statement failed; none of them applied.
   * @throws {ClosedError} The database is closed.
   * @throws {TransactionError} Called through `db` inside its own `transaction()` callback.
   * @throws {WorkerError} The writer stopped while it held the call.
   * @throws {TypeError} A statement walpool refuses (`BEGIN`, `ATTACH`…) or a bad parameter.
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
   * @throws {ClosedError} The database is closed.
   * @throws {TransactionError} Called through `db` inside its own `transaction()` callback.
   * @throws {WorkerError} The writer stopped while it held the call.
   * @throws {TypeError} A statement walpool refuses (`BEGIN`, `ATTACH`…) or a bad parameter.
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
    return rejectThrown(() =>
      this.#write({ kind: "batch", stmts: bindStatements(statements) })
    ) as Promise<RunResult[]>;
  }

  /**
   * Calls a write procedure: a function of the module given as {@linkcode OpenOptions.procedures},
   * run inside the writer with synchronous statements ({@linkcode ProcedureTransaction}). It is
   * one request of a group commit, like {@linkcode Database.run}: it commits with the writes
   * waiting beside it, in a savepoint of its own, so if it throws only its statements are undone.
   * Should SQLite roll the whole group back, it runs again: keep a procedure a function of the
   * database and `args`.
   *
   * @param name The exported function's name.
   * @param args Passed to it as its second argument (anything `structuredClone` can copy).
   * @param opts `signal` to abort it before the writer starts it.
   * @returns What the procedure returned, once committed.
   * @throws {TypeError} No procedures module, no such function, a procedure that returned a promise or a value that cannot be copied back.
   * @throws {SqliteError} A statement of the procedure failed (nothing of it was applied).
   * @throws {ClosedError} The database is closed.
   * @throws {WorkerError} The writer stopped while it held the call.
   * @throws Whatever the procedure threw, rebuilt (message and stack; nothing of it was applied).
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { mkdtempSync, writeFileSync } from "node:fs";
   * import { tmpdir } from "node:os";
   * import { join } from "node:path";
   * import { pathToFileURL } from "node:url";
   * import { open } from "@walpool/walpool";
   *
   * // Usually a module of your app: new URL("./procedures.ts", import.meta.url).
   * const file = join(mkdtempSync(join(tmpdir(), "procedures-")), "procedures.js");
   * writeFileSync(file, `export function add(tx, { id, n }) {
   *   tx.run("UPDATE counters SET n = n + ? WHERE id = ?", [n, id]);
   *   return tx.get("SELECT n FROM counters WHERE id = ?", [id]).n;
   * }`);
   * await using db = await open("app.db", { procedures: pathToFileURL(file) });
   * await db.exec("CREATE TABLE IF NOT EXISTS counters(id INTEGER PRIMARY KEY, n INTEGER NOT NULL)");
   * await db.run("INSERT OR IGNORE INTO counters VALUES (1, 0)");
   * const n = await db.call<number>("add", { id: 1, n: 5 });
   * assert.ok(n >= 5);
   * ```
   */
  call<T = unknown>(name: string, args?: unknown, opts?: CallOptions): Promise<T> {
    return rejectThrown(() => {
      if (typeof name !== "string" || name === "") {
        throw new TypeError("call() takes the name of a procedure");
      }
      if (this.#closing) throw new ClosedError();
      return callerStack(
        this.#engine.write({ kind: "call", sql: name, params: args }, opts?.signal),
      );
    }) as Promise<T>;
  }

  /**
   * Runs `fn` in an interactive transaction on the writer: it commits when `fn` resolves and
   * rolls back when it throws. Other writes wait until it ends; reads go on (seeing the state
   * before it). Inside `fn`, use `tx`, never `db`, for writes: a write through `db` would wait for
   * the transaction itself, so it is rejected at once. When its turn has come (the writer idle,
   * no write waiting before it), `fn` starts inside this call; otherwise once the writes before
   * it are done.
   *
   * When the writer is idle (nothing in flight) and `durability` is `"normal"`, the transaction
   * runs on a write connection of your thread, its statements synchronous as with the raw
   * binding (it never waits there for a lock: if another process holds it, the writer takes the
   * transaction instead). Otherwise its statements go to the writer and are answered
   * synchronously when it answers within 2 ms, so the callback holds the writer only for as long
   * as its statements take; transactions that follow each other closely then share one COMMIT,
   * each failing alone (README: how transactions run).
   *
   * @param fn Gets `tx.run/get/all/values/exec` and `tx.sql`.
   * @param opts `timeout` (default `transactionTimeout`), `signal` to abort before it begins.
   * @returns What `fn` returned, once committed.
   * @throws {SqliteError} A statement or the commit failed (`SQLITE_ABORT_ROLLBACK`: rolled
   * back with a neighbour and could not be replayed; it can be retried).
   * @throws {TransactionError} A write through `db` inside `fn`, or a statement on `tx` after it ended.
   * @throws {ClosedError} The database is closed.
   * @throws {WorkerError} The writer stopped before the transaction was reported committed.
   * @throws {DOMException} `TimeoutError`: still open after the timeout; rolled back.
   * @throws {TypeError} `fn` is not a function; {@linkcode RangeError} for a bad `timeout`.
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
    // The engine's transaction points its errors at the caller itself (see pointAtCaller).
    return rejectThrown(() => {
      if (this.#closing) throw new ClosedError();
      if (typeof fn !== "function") throw new TypeError("transaction() takes a function");
      const timeout = opts?.timeout === undefined
        ? this.#timeout
        : integerOption("timeout", opts.timeout, 1);
      return this.#engine.transaction(fn, timeout, opts?.signal);
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
    return this.#engine.stats();
  }

  /**
   * Writes a consistent copy of the database to a new file, while writes go on: a read-only
   * connection in a worker of its own runs `VACUUM INTO` from one snapshot, so the writer is
   * never held and the copy is compacted (no free pages). It holds that snapshot while it
   * copies (the WAL cannot be reset past it meanwhile).
   *
   * @param destination A path or `file:` URL that does not exist yet.
   * @param opts `onProgress({ bytes, totalBytes })`, about every 100 ms and once at the end.
   * @returns Once the copy is complete (it opens as a database of its own).
   * @throws {Error} The destination exists (nothing is written).
   * @throws {SqliteError} The copy could not be written, e.g. its directory does not exist (nothing is left behind).
   * @throws {TypeError} A bad destination or option, or a remote database.
   * @throws {ClosedError} The database is closed.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { mkdtempSync } from "node:fs";
   * import { tmpdir } from "node:os";
   * import { join } from "node:path";
   * import { open } from "@walpool/walpool";
   *
   * await using db = await open("app.db");
   * await db.exec("CREATE TABLE IF NOT EXISTS notes(id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
   * const copy = join(mkdtempSync(join(tmpdir(), "backup-")), "app.db");
   * await db.backup(copy, { onProgress: ({ bytes, totalBytes }) => console.log(bytes, totalBytes) });
   * await using restored = await open(copy);
   * assert.deepEqual(await restored.get("PRAGMA integrity_check"), { integrity_check: "ok" });
   * ```
   */
  backup(destination: string | URL, opts?: BackupOptions): Promise<void> {
    return rejectThrown(() => {
      if (this.#closing) throw new ClosedError();
      return callerStack(this.#engine.backup(destination, opts));
    });
  }

  /**
   * The counters and histograms of {@linkcode Database.stats} in Prometheus' text format, for a
   * `/metrics` endpoint: `walpool_*_total` counters, gauges, and the write latency, queue wait,
   * commit latency (seconds) and commit size histograms.
   *
   * @param opts `labels` added to every sample, e.g. `{ db: "orders" }` when one process has
   * several databases.
   * @returns The exposition text (serve it as `text/plain; version=0.0.4`).
   * @throws {TypeError} A label name Prometheus does not allow, or a value that is not a string.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { open } from "@walpool/walpool";
   *
   * await using db = await open("app.db");
   * await db.exec("CREATE TABLE IF NOT EXISTS notes(id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
   * await db.run("INSERT INTO notes(body) VALUES ('x')");
   * const text = db.metrics({ labels: { db: "app" } });
   * assert.match(text, /^walpool_commits_total\{db="app"\} [1-9]/m);
   * // e.g. in a server: new Response(db.metrics(), { headers: { "content-type": "text/plain; version=0.0.4" } })
   * ```
   */
  metrics(opts?: { labels?: Record<string, string> }): string {
    return prometheusText(this.#engine.stats(), this.#engine.histograms(), opts?.labels);
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
    this.#closing ??= this.#engine.close();
    return this.#closing;
  }

  /** Same as {@linkcode Database.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
