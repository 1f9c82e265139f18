/**
 * The driver interface: the small structural contract every SQLite binding adapter implements.
 * The core in `lib/` talks only to these types; each file in `lib/drivers/` supplies a value of
 * {@linkcode Driver} for one binding, and so may a module of your own, named by URL in the
 * `driver` option of `open()`. Types only.
 *
 * @module
 */

/**
 * The bindings walpool has a driver for (the `driver` option also takes the URL of a module
 * exporting a `Driver` of your own).
 *
 * @example
 * ```ts
 * import { type DriverName, open } from "@walpool/walpool";
 *
 * const driver: DriverName = "Bun" in globalThis ? "bun:sqlite" : "node:sqlite";
 * await using db = await open("app.db", { driver });
 * ```
 */
export type DriverName = "bun:sqlite" | "node:sqlite" | "@db/sqlite";

/** A value as it reaches a driver, after walpool has checked and normalised it. */
export type BindValue = null | number | bigint | string | Uint8Array;

/** Parameters as they reach a driver: positional, or named with bare keys (`{ id: 1 }`). */
export type BindParams = readonly BindValue[] | Readonly<Record<string, BindValue>>;

/** What a driver returns for a statement that was run. */
export interface DriverRunResult {
  /** Rows changed by the statement. */
  changes: number;
  /** Rowid of the last inserted row: a `bigint` when `safeIntegers` or beyond ±2^53. */
  lastInsertRowid: number | bigint;
}

/** A prepared statement of one connection. */
export interface DriverStatement {
  /** Runs the statement to completion. */
  run(params: BindParams): DriverRunResult;
  /** The first row as a plain object, or `undefined`. */
  get(params: BindParams): Record<string, unknown> | undefined;
  /** Every row as plain objects. */
  all(params: BindParams): Record<string, unknown>[];
  /** Every row as an array of values in column order (duplicate column names kept). */
  values(params: BindParams): unknown[][];
  /**
   * The rows as plain objects, stepped one at a time (for `Database.iterate`); `return()` ends
   * the statement. Optional: without it, a stream reads every row first.
   */
  iterate?(params: BindParams): Iterator<Record<string, unknown>>;
  /** Frees the statement. */
  finalize(): void;
}

/** One open SQLite connection. */
export interface DriverConnection {
  /** Prepares one statement (walpool caches the result). */
  prepare(sql: string): DriverStatement;
  /** Runs one or more statements without parameters. */
  exec(sql: string): void;
  /** Whether a transaction is open (false after SQLite rolled one back by itself). */
  inTransaction(): boolean;
  /** Closes the connection. */
  close(): void;
  /** Loads a SQLite extension (a shared library). Optional: a binding without it refuses the option. */
  loadExtension?(path: string): void;
  /**
   * Makes `fn` a scalar SQL function `name`, taking any number of arguments. Optional: a binding
   * without it refuses the `functions` option.
   */
  function?(name: string, fn: (...args: never[]) => unknown): void;
}

/** How a driver opens a connection. */
export interface DriverOpenOptions {
  /** Open read-only. */
  readonly: boolean;
  /**
   * `true`: every INTEGER comes back as `bigint`. `false`: as `number`, and a value beyond
   * ±2^53 throws a `RangeError` (never rounded).
   */
  safeIntegers: boolean;
  /** Allow `loadExtension` (only asked for when the `extensions` option names some). */
  allowExtension?: boolean;
}

/** SQLite's own description of an error raised by a binding. */
export interface SqliteErrorInfo {
  /** Extended result code name, such as `"SQLITE_CONSTRAINT_UNIQUE"`. */
  code: string;
  /** Extended result code number, such as `2067`. */
  errcode: number;
  /** SQLite's message. */
  message: string;
}

/**
 * A binding adapter: what `lib/drivers/*.ts` export as `driver`, and what a driver module named
 * by URL in the `driver` option of `open()` exports as `driver` or as its default export.
 */
export interface Driver {
  /** Which binding this adapts, for people reading: a {@linkcode DriverName} for walpool's own. */
  readonly name: string;
  /** Opens (creating unless read-only) a database file. */
  open(path: string, options: DriverOpenOptions): DriverConnection;
  /** SQLite's code and message of an error the binding raised, or `undefined` if it is not one. */
  errorInfo(error: unknown): SqliteErrorInfo | undefined;
}
