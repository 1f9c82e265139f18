// One SQLite connection as walpool uses it: set up with the right pragmas, with a bounded cache
// of prepared statements. Used by the writer, by each reader and by the inline reader.

import type { BindParams, Driver, DriverConnection, DriverStatement } from "./driver.ts";
import type { Answer, ConnectionConfig, ReadRequest } from "./protocol.ts";
import { loadDriver } from "./_load_driver.ts";
import { isBusy } from "./_sqlite_codes.ts";
import { SqliteError, toErrorData } from "./errors.ts";

/** Prepared statements kept per connection; the least recently used is finalized beyond this. */
const CACHE_SIZE = 256;
/** A statement that reads the schema: stepping it makes SQLite reload a stale copy. */
const SCHEMA_PROBE = "SELECT 1 FROM sqlite_schema LIMIT 1";
/** Something to wait on with Atomics.wait, for a synchronous pause. */
const PAUSE = new Int32Array(new SharedArrayBuffer(4));

export class Connection {
  readonly driver: Driver;
  #db: DriverConnection;
  #cache = new Map<string, DriverStatement>();
  /**
   * Set by a transaction on the calling thread while it has changed nothing (see
   * `InlineTransaction`): reads may run in it meanwhile, as they see what is committed.
   */
  unchanged = false;

  private constructor(driver: Driver, db: DriverConnection) {
    this.driver = driver;
    this.#db = db;
  }

  /**
   * Opens and sets up a connection; errors name the path and keep SQLite's code. A driver that
   * cannot be loaded fails as it is (its error names the driver).
   */
  static async open(config: ConnectionConfig): Promise<Connection> {
    const driver = await loadDriver(config.driver);
    const functions = config.functions ? await loadFunctions(config.functions) : undefined;
    let db: DriverConnection | undefined;
    try {
      db = driver.open(config.path, {
        readonly: config.readonly,
        safeIntegers: config.safeIntegers,
        ...(config.extensions?.length ? { allowExtension: true } : {}),
      });
      const conn = new Connection(driver, db);
      conn.#extend(config.extensions ?? [], functions);
      conn.#setUp(config);
      return conn;
    } catch (error) {
      try {
        db?.close();
      } catch { /* already failing */ }
      const data = toErrorData(error, driver);
      const message = `Cannot open database ${config.path}: ${data.message}`;
      if (data.name === "SqliteError") {
        throw new SqliteError(message, data.code ?? "SQLITE_ERROR", data.errcode ?? 1);
      }
      throw new Error(message);
    }
  }

  /** Loads the extensions and makes the functions SQL functions (before the pragmas). */
  #extend(extensions: string[], functions: Record<string, unknown> | undefined): void {
    const db = this.#db;
    for (const file of extensions) {
      if (!db.loadExtension) {
        throw new TypeError(`The ${this.driver.name} driver cannot load SQLite extensions`);
      }
      try {
        db.loadExtension(file);
      } catch (error) {
        const data = toErrorData(error, this.driver);
        throw new Error(`Cannot load the SQLite extension ${file}: ${data.message}`);
      }
    }
    for (const [name, fn] of Object.entries(functions ?? {})) {
      if (typeof fn !== "function") continue;
      if (!db.function) {
        throw new TypeError(`The ${this.driver.name} driver cannot define SQL functions`);
      }
      db.function(name, fn as (...args: never[]) => unknown);
    }
  }

  #setUp(config: ConnectionConfig): void {
    this.exec(`PRAGMA busy_timeout = ${config.busyTimeout}`);
    this.exec("PRAGMA trusted_schema = OFF");
    if (config.readonly) {
      if (!config.copies) this.exec("PRAGMA query_only = ON");
    } else {
      // Connections of several processes turning a new file to WAL at once race for the same lock
      // upgrade, and SQLite answers SQLITE_BUSY at once instead of waiting: retry a while.
      const mode = this.#retryBusy(
        () => this.get("PRAGMA journal_mode = WAL", [])?.journal_mode,
        config.busyTimeout,
      );
      if (mode !== "wal") {
        throw new Error(`the database could not be put in WAL mode (journal_mode is ${mode})`);
      }
      this.exec(`PRAGMA synchronous = ${config.durability === "full" ? "FULL" : "NORMAL"}`);
    }
    for (const pragma of config.pragmas) this.exec(`PRAGMA ${pragma}`);
    // Fail at open, not at the first write, when the file cannot be written.
    if (!config.readonly && !config.second) this.exec("BEGIN IMMEDIATE; ROLLBACK");
  }

  /** Runs `fn`, again after short pauses while it fails with SQLITE_BUSY, for up to `ms`. */
  #retryBusy<T>(fn: () => T, ms: number): T {
    const deadline = performance.now() + ms;
    for (let pause = 1;; pause = Math.min(2 * pause, 50)) {
      try {
        return fn();
      } catch (error) {
        if (!isBusy(this.driver.errorInfo(error)?.code) || performance.now() >= deadline) {
          throw error;
        }
        Atomics.wait(PAUSE, 0, 0, pause); // a synchronous sleep: this is the writer's own thread
      }
    }
  }

  #statement(sql: string): DriverStatement {
    let stmt = this.#cache.get(sql);
    if (stmt) {
      // Least recently used order matters only once eviction is near; until then a hit is free.
      if (this.#cache.size > CACHE_SIZE / 2) {
        this.#cache.delete(sql);
        this.#cache.set(sql, stmt);
      }
      return stmt;
    }
    this.#checkSchema();
    stmt = this.#db.prepare(sql);
    if (this.#cache.size >= CACHE_SIZE) {
      const [oldest, evicted] = this.#cache.entries().next().value!;
      this.#cache.delete(oldest);
      finalize(evicted);
    }
    this.#cache.set(sql, stmt);
    return stmt;
  }

  run(sql: string, params: BindParams) {
    return this.#statement(sql).run(params);
  }

  get(sql: string, params: BindParams) {
    return this.#statement(sql).get(params);
  }

  all(sql: string, params: BindParams) {
    return this.#statement(sql).all(params);
  }

  values(sql: string, params: BindParams) {
    return this.#statement(sql).values(params);
  }

  /** Runs walpool's own SQL text (transaction control, pragmas). */
  exec(sql: string): void {
    this.#mayBeOpen = true;
    this.#db.exec(sql);
  }

  /** Runs a caller's SQL text, any number of statements: its schema copy checked first. */
  script(sql: string): void {
    this.#checkSchema();
    this.#mayBeOpen = true;
    this.#db.exec(sql);
  }

  /**
   * BEGIN IMMEDIATE. Another connection of this database (the writer's, or the calling thread's
   * write connection) may have changed the schema since this one last looked, and SQLite checks
   * what it prepares against its own copy (a CREATE would find an index another connection
   * dropped): the copy is brought up to date before the transaction's first new statement or
   * SQL text (see `#refreshSchema`), not at every BEGIN, as statements already prepared are
   * checked by SQLite itself when they run.
   */
  begin(): void {
    this.#mayBeOpen = true;
    this.#db.exec("BEGIN IMMEDIATE");
    this.#schemaUnchecked = true;
  }

  /**
   * False once the binding said no transaction is open, until walpool's own SQL may have opened
   * one (`begin`, `exec`, `script`): the caller's statements cannot (BEGIN and SAVEPOINT are
   * refused before they get here), and SQLite only ever ends a transaction by itself. Saves a
   * call into the binding on every read that looks for an idle connection.
   */
  #mayBeOpen = true;

  /** Whether the schema copy is to be checked before the next prepare (see `begin`). */
  #schemaUnchecked = false;

  #checkSchema(): void {
    if (!this.#schemaUnchecked) return;
    this.#schemaUnchecked = false;
    if (this.#db.inTransaction()) this.#refreshSchema();
  }

  /**
   * A statement of its own (not cached) whose rows are read a chunk at a time: on a connection
   * used for nothing else meanwhile, since its read transaction lasts until the cursor ends.
   */
  cursor(sql: string, params: BindParams): Cursor {
    const stmt = this.#db.prepare(sql);
    let rows: Iterator<Record<string, unknown>>;
    try {
      rows = stmt.iterate?.(params) ?? stmt.all(params)[Symbol.iterator]();
    } catch (error) {
      finalize(stmt);
      throw error;
    }
    let done = false;
    const end = () => {
      if (done) return;
      done = true;
      try {
        rows.return?.();
      } finally {
        finalize(stmt);
      }
    };
    return {
      read(n) {
        const chunk: Record<string, unknown>[] = [];
        try {
          while (!done && chunk.length < n) {
            const r = rows.next();
            if (r.done) end();
            else chunk.push(r.value);
          }
        } catch (error) {
          end();
          throw error;
        }
        return chunk;
      },
      get done() {
        return done;
      },
      close: end,
    };
  }

  inTransaction(): boolean {
    return this.#mayBeOpen && (this.#mayBeOpen = this.#db.inTransaction());
  }

  /**
   * Brings this connection's copy of the schema up to date, once its transaction has begun:
   * another connection of this database (the writer's, or the calling thread's write connection)
   * may have changed it, and SQLite checks some statements against the copy as it prepares them
   * (a CREATE would find an index another connection dropped). Stepping a statement that reads
   * the schema makes SQLite compare its schema cookie and reload the copy if it changed.
   */
  #refreshSchema(): void {
    this.get(SCHEMA_PROBE, []); // its own prepare finds the check already done
  }

  close(): void {
    for (const stmt of this.#cache.values()) finalize(stmt);
    this.#cache.clear();
    this.#db.close();
  }
}

/** The exports of a `functions` module (imported once per thread). */
const modules = new Map<string, Promise<Record<string, unknown>>>();
function loadFunctions(url: string): Promise<Record<string, unknown>> {
  let module = modules.get(url);
  if (!module) {
    module = import(url).catch((error) => {
      modules.delete(url);
      throw new Error(`Cannot import the functions module ${url}: ${error?.message ?? error}`, {
        cause: error,
      });
    });
    modules.set(url, module);
  }
  return module;
}

/** Rows of one statement, read a chunk at a time (see `Connection.cursor`). */
export interface Cursor {
  /** Up to `n` more rows; fewer once the statement is done. */
  read(n: number): Record<string, unknown>[];
  /** Whether every row has been read (or the cursor was closed). */
  readonly done: boolean;
  /** Ends the statement (idempotent). */
  close(): void;
}

/** Frees a statement; some bindings re-raise the statement's last error here, which is old news. */
function finalize(stmt: DriverStatement): void {
  try {
    stmt.finalize();
  } catch { /* reported when it happened */ }
}

/** Carries out one read (in a reader worker). */
export function answerRead(conn: Connection, r: ReadRequest): Answer {
  try {
    return { id: r.id, value: conn[r.kind](r.sql, r.params) };
  } catch (error) {
    return { id: r.id, error: toErrorData(error, conn.driver, true) };
  }
}
