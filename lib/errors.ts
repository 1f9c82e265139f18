/**
 * The errors walpool raises, and how they cross a worker boundary as plain data.
 *
 * @module
 */

import type { Driver } from "./driver.ts";
import type { ErrorData } from "./protocol.ts";

/**
 * An error reported by SQLite, with its extended result code.
 *
 * @example Catching a constraint violation
 * ```ts
 * import { open, SqliteError } from "@walpool/walpool";
 *
 * await using db = await open("app.db");
 * await db.exec("CREATE TABLE IF NOT EXISTS members(email TEXT UNIQUE)");
 * try {
 *   await db.run("INSERT OR IGNORE INTO members(email) VALUES (?)", ["a@example.com"]);
 *   await db.run("INSERT INTO members(email) VALUES (?)", ["a@example.com"]);
 * } catch (error) {
 *   if (error instanceof SqliteError && error.code === "SQLITE_CONSTRAINT_UNIQUE") {
 *     console.log("already registered");
 *   }
 * }
 * ```
 */
export class SqliteError extends Error {
  /** Extended result code name, such as `"SQLITE_CONSTRAINT_UNIQUE"` or `"SQLITE_BUSY"`. */
  readonly code: string;
  /** Extended result code number, such as `2067`. */
  readonly errcode: number;

  /**
   * Creates the error (walpool does; you catch it).
   *
   * @param message SQLite's message.
   * @param code Extended result code name.
   * @param errcode Extended result code number.
   */
  constructor(message: string, code: string, errcode: number) {
    super(message);
    this.name = "SqliteError";
    this.code = code;
    this.errcode = errcode;
  }
}

/**
 * A call made after `close()` began.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ClosedError, open } from "@walpool/walpool";
 *
 * const db = await open("app.db");
 * await db.close();
 * await assert.rejects(db.get("SELECT 1"), ClosedError);
 * ```
 */
export class ClosedError extends Error {
  /**
   * Creates the error (walpool does; you catch it).
   *
   * @param message What was refused.
   */
  constructor(message = "Database is closed") {
    super(message);
    this.name = "ClosedError";
  }
}

/**
 * A worker stopped (crashed or was terminated) while it held this request.
 *
 * @example
 * ```ts
 * import { open, WorkerError } from "@walpool/walpool";
 *
 * await using db = await open("app.db");
 * await db.exec("CREATE TABLE IF NOT EXISTS notes(id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
 * try {
 *   await db.run("INSERT INTO notes(body) VALUES ('x')");
 * } catch (error) {
 *   if (error instanceof WorkerError && !error.mayHaveApplied) {
 *     // safe to retry
 *   }
 * }
 * ```
 */
export class WorkerError extends Error {
  /** `true` when the request had reached the writer, so it may or may not have been committed. */
  readonly mayHaveApplied: boolean;

  /**
   * Creates the error (walpool does; you catch it).
   *
   * @param message What happened.
   * @param mayHaveApplied Whether the request may have been committed.
   */
  constructor(message: string, mayHaveApplied = false) {
    super(message);
    this.name = "WorkerError";
    this.mayHaveApplied = mayHaveApplied;
  }
}

/**
 * A transaction was misused: a write through the database inside its own `transaction()`
 * callback (it would wait for that transaction forever), or a statement on a transaction that
 * has ended. Nothing was applied.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { open, TransactionError } from "@walpool/walpool";
 *
 * await using db = await open("app.db");
 * await db.exec("CREATE TABLE IF NOT EXISTS notes(id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
 * await db.transaction(async () => {
 *   await assert.rejects(db.run("INSERT INTO notes(body) VALUES ('x')"), TransactionError);
 * });
 * ```
 */
export class TransactionError extends Error {
  /** `"write-through-db"`: a write through `db` inside its own transaction; `"ended"`: the transaction had ended. */
  readonly reason: "write-through-db" | "ended";

  /**
   * Creates the error (walpool does; you catch it).
   *
   * @param message What was refused.
   * @param reason Which misuse.
   */
  constructor(message: string, reason: "write-through-db" | "ended") {
    super(message);
    this.name = "TransactionError";
    this.reason = reason;
  }
}

/**
 * A migration given to `open()` failed, or the database is at a version beyond the migrations
 * given. The migrations of that `open()` were rolled back: the database is as it was.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MigrationError, open } from "@walpool/walpool";
 *
 * await assert.rejects(
 *   open("migrated.db", {
 *     migrations: ["CREATE TABLE IF NOT EXISTS notes(id INTEGER PRIMARY KEY)", "NOT SQL"],
 *   }),
 *   (error) => error instanceof MigrationError && error.index === 1, // "NOT SQL"
 * );
 * ```
 */
export class MigrationError extends Error {
  /**
   * Index in the `migrations` array of the one that failed; -1 when no one migration failed (the
   * transaction could not begin or commit, or the database is at a version beyond the list).
   */
  readonly index: number;

  /**
   * Creates the error (walpool does; you catch it).
   *
   * @param message What happened.
   * @param index Index in the `migrations` array, or -1.
   * @param cause The error the migration raised, if any.
   */
  constructor(message: string, index: number, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = "MigrationError";
    this.index = index;
  }
}

/**
 * A remote database (libSQL's server, opened with an `http:`, `https:` or `libsql:` URL) could
 * not be asked or did not answer: the server was unreachable, refused the request (`status`), or
 * the connection failed or timed out after the request was sent. In the last case the outcome is
 * unknown and `mayHaveApplied` is `true`: walpool never retries such a write by itself.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { open, RemoteError } from "@walpool/walpool";
 *
 * // Nothing listens on port 1: the server cannot be reached, so nothing was applied.
 * await assert.rejects(
 *   open("http://127.0.0.1:1", { requestTimeout: 2000 }),
 *   (error) => error instanceof RemoteError && !error.mayHaveApplied,
 * );
 * ```
 */
export class RemoteError extends Error {
  /** `true` when the request may have reached the server and been applied (outcome unknown). */
  readonly mayHaveApplied: boolean;
  /** The HTTP status of a refused request, if the server answered with one. */
  readonly status?: number;

  /**
   * Creates the error (walpool does; you catch it).
   *
   * @param message What happened.
   * @param mayHaveApplied Whether the request may have been applied.
   * @param options `status`: the HTTP status; `cause`: the underlying error.
   */
  constructor(
    message: string,
    mayHaveApplied: boolean,
    options: { status?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "RemoteError";
    this.mayHaveApplied = mayHaveApplied;
    if (options.status !== undefined) this.status = options.status;
  }
}

/** Calls `fn`; a synchronous throw (a bad argument) becomes a rejection of this call alone. */
export function rejectThrown<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return fn();
  } catch (error) {
    return Promise.reject(error);
  }
}

/** `promise`, or a rejection with `signal`'s reason as soon as it aborts. */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/**
 * `promise`, awaited so that an error made when a worker's answer arrived gets the stack of the
 * code that awaits the call (through the runtime's async stack traces), followed by its
 * worker-side stack, instead of ending in a `MessagePort` handler. One `await` per call on a
 * worker's answer (a round trip costs a hundred times more); a read answered on the calling
 * thread does not need it: its error is made inside the call. The stack is captured only when a
 * call fails.
 */
export async function callerStack<T>(promise: Promise<T>): Promise<T> {
  try {
    return await promise;
  } catch (error) {
    pointAtCaller(error);
    throw error;
  }
}

/**
 * Errors walpool made when an answer arrived (not where the call was made), with their
 * worker-side stack or "": only these get the caller's stack. Errors thrown by the caller's own
 * code (in a transaction callback) keep theirs.
 */
const arrived = new WeakMap<Error, string>();

/** Marks an error made on arrival of an answer (see {@linkcode callerStack}). */
export function madeOnArrival<E extends Error>(error: E, workerStack = ""): E {
  arrived.set(error, workerStack);
  return error;
}

/**
 * Gives `error` the stack of the code awaiting `from` (an async function whose catch block calls
 * this), followed by its worker-side stack, if any: what {@linkcode callerStack} does, for an
 * async function of walpool's that can do it itself, one async frame fewer per call.
 */
// deno-lint-ignore ban-types
export function pointAtCaller(error: unknown, from: Function = callerStack): void {
  if (!(error instanceof Error) || typeof Error.captureStackTrace !== "function") return;
  const worker = arrived.get(error);
  if (worker === undefined) return;
  Error.captureStackTrace(error, from); // the outermost await, the last to run, wins
  if (worker) error.stack += `\n    -- thrown in a walpool worker --\n${worker}`;
}

/** Turns anything thrown inside a worker into plain data that survives `postMessage`. */
export function toErrorData(error: unknown, driver?: Driver, inWorker = false): ErrorData {
  const data = describe(error, driver);
  if (inWorker && error instanceof Error) {
    if (error.stack) {
      data.stack = error.stack.split("\n").filter((l) => /^\s+at /.test(l)).join("\n");
    }
    if (error.cause !== undefined) data.cause = toErrorData(error.cause, driver, true);
  }
  return data;
}

function describe(error: unknown, driver?: Driver): ErrorData {
  if (error instanceof SqliteError) {
    return {
      name: "SqliteError",
      message: error.message,
      code: error.code,
      errcode: error.errcode,
    };
  }
  const info = driver?.errorInfo(error);
  if (info) return { name: "SqliteError", ...info };
  if (error instanceof RangeError) return { name: "RangeError", message: error.message };
  if (error instanceof TypeError) return { name: "TypeError", message: error.message };
  if (error instanceof Error) return { name: "Error", message: error.message };
  return { name: "Error", message: String(error) };
}

/** Rebuilds an error from its data on the calling side, with its worker-side stack and cause. */
export function fromErrorData(data: ErrorData): Error {
  let error: Error;
  switch (data.name) {
    case "SqliteError":
      error = new SqliteError(data.message, data.code ?? "SQLITE_ERROR", data.errcode ?? 1);
      break;
    case "RangeError":
      error = new RangeError(data.message);
      break;
    case "TypeError":
      error = new TypeError(data.message);
      break;
    default:
      error = new Error(data.message);
  }
  madeOnArrival(error, data.stack);
  if (data.stack) error.stack += `\n    -- thrown in a walpool worker --\n${data.stack}`;
  if (data.cause) {
    Object.defineProperty(error, "cause", {
      value: fromErrorData(data.cause),
      configurable: true,
      writable: true,
    });
  }
  return error;
}
