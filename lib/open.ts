/**
 * {@linkcode open}: checks the options, starts the writer and the readers, applies the
 * migrations, and hands over the {@linkcode Database}.
 *
 * @module
 */

import type { ConnectionConfig } from "./protocol.ts";
import type { Migration, OpenOptions } from "./types.ts";
import { Database, internals } from "./database.ts";
import { Writer } from "./writer.ts";
import { Readers } from "./readers.ts";
import { migrate } from "./_migrations.ts";
import { checkOptions, checkRemoteOptions, databasePath } from "./_options.ts";
import { localEngine } from "./_engine.ts";
import { isRemote } from "./_hrana.ts";
import { RemoteEngine } from "./remote.ts";

/**
 * Opens (creating if needed) a database file in WAL mode, starts the writer worker and the
 * readers, and resolves once all are ready. Given the URL of libSQL's server (`http:`, `https:`,
 * or `libsql:`), opens the same {@linkcode Database} over the network instead (README:
 * "Outgrowing one machine").
 *
 * @param path A file path or `file:` URL, or a server's `http:`, `https:` or `libsql:` URL.
 * @param options See {@linkcode OpenOptions}.
 * @returns The database.
 * @throws {SqliteError} The file cannot be opened or written.
 * @throws {TypeError} An option has the wrong type, or the `driver` module exports no `Driver`.
 * @throws {RangeError} A number option is out of range.
 * @throws {Error} The `driver` module cannot be imported.
 * @throws {MigrationError} A migration failed; none was applied.
 * @throws {RemoteError} The server cannot be reached or refused the request.
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
  if (isRemote(path)) return await openRemote(String(path), options);
  const o = checkOptions(options);
  const base: ConnectionConfig = {
    driver: o.driver,
    path: databasePath(path),
    readonly: false,
    safeIntegers: o.safeIntegers,
    busyTimeout: o.busyTimeout,
    durability: o.durability,
    pragmas: o.pragmas,
    extensions: o.extensions,
    functions: o.functions,
  };
  const writer = await Writer.start(
    { ...base, procedures: o.procedures },
    o.maxBatch,
    o.maxQueue,
    o.onCommit,
    o.routeTransactions,
  );
  let readers: Readers;
  const readerConfig = { ...base, readonly: true };
  try {
    readers = await Readers.start(readerConfig, o.readers, o.routeReads);
    readers.share(() => writer.idleConnection(), () => writer.uncommitted());
  } catch (error) {
    await writer.close();
    throw error;
  }
  const db = new Database(localEngine(writer, readers, readerConfig), o.transactionTimeout);
  internals.set(db, { writer, readers });
  return await migrated(db, o.migrations);
}

async function openRemote(url: string, options: OpenOptions): Promise<Database> {
  const o = checkRemoteOptions(url, options);
  const db = new Database(await RemoteEngine.open(o), o.transactionTimeout);
  return await migrated(db, o.migrations);
}

/** `db` once its pending migrations are applied; closed, and the error thrown, if one fails. */
async function migrated(db: Database, migrations: readonly Migration[]): Promise<Database> {
  try {
    if (migrations.length) await migrate(db, migrations);
  } catch (error) {
    await db.close();
    throw error;
  }
  return db;
}
