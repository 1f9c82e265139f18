/**
 * walpool: SQLite for Deno, Bun and Node with the single writer pattern. Every write goes to one
 * writer worker that commits what is waiting together (group commit); reads go to read-only
 * connections in their own workers. No `SQLITE_BUSY` from your own connections, no event loop
 * blocked by a commit.
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
 *
 * @module
 */

export { open } from "./lib/open.ts";
export { Database } from "./lib/database.ts";
export type {
  BackupOptions,
  CallOptions,
  CommitEvent,
  IterateOptions,
  Migration,
  OpenOptions,
  Params,
  ProcedureTransaction,
  Row,
  RunResult,
  SqlTag,
  SqlValue,
  Stats,
  Transaction,
  TransactionOptions,
  Value,
} from "./lib/types.ts";
export {
  ClosedError,
  MigrationError,
  RemoteError,
  SqliteError,
  TransactionError,
  WorkerError,
} from "./lib/errors.ts";
export { ident, Identifier } from "./lib/ident.ts";
export type { DriverName } from "./lib/driver.ts";
export type { LatencySummary } from "./lib/_histogram.ts";
