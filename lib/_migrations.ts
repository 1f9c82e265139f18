// Schema migrations at open: an ordered list, tracked by `PRAGMA user_version`, applied through
// the writer in one transaction, so `open()` applies every pending migration or none.

import type { Migration, Transaction, TransactionOptions } from "./types.ts";
import { MigrationError } from "./errors.ts";

/** What migrations run through: a database's `transaction()`. */
interface Migratable {
  transaction<T>(fn: (tx: Transaction) => Promise<T>, opts?: TransactionOptions): Promise<T>;
}

/** Throws a `TypeError` unless `migrations` is an array of strings and functions. */
export function checkMigrations(migrations: unknown): readonly Migration[] {
  if (migrations === undefined) return [];
  if (!Array.isArray(migrations)) {
    throw new TypeError("Option migrations must be an array of SQL strings or functions");
  }
  migrations.forEach((m, i) => {
    if (typeof m !== "string" && typeof m !== "function") {
      throw new TypeError(`Migration ${i} must be a SQL string or a function, got ${typeof m}`);
    }
  });
  return migrations;
}

/**
 * Applies the migrations past the database's `user_version`, in order, in one transaction,
 * setting `user_version` to the number applied. On failure nothing is applied and a
 * {@linkcode MigrationError} names the migration (index -1 when no one migration failed: the
 * transaction could not begin or commit, or the database is beyond the list).
 */
export async function migrate(db: Migratable, migrations: readonly Migration[]): Promise<void> {
  let current: number | undefined;
  let index = -1; // the migration running, or -1 outside of one
  let step = "The migrations could not begin"; // what is being done, for the error
  try {
    // A migration may be long: it is not held to transactionTimeout.
    await db.transaction(async (tx) => {
      // BEGIN goes with the first statement: until it is answered, the migrations had not begun.
      const row = await tx.get<{ user_version: number }>("PRAGMA user_version");
      current = row?.user_version ?? 0;
      if (current > migrations.length) {
        throw new MigrationError(
          `The database is at version ${current} (PRAGMA user_version), beyond the ` +
            `${migrations.length} migrations given: was it migrated by a newer version of the app?`,
          -1,
        );
      }
      for (index = current; index < migrations.length; index++) {
        step = `Migration ${index} failed`;
        const migration = migrations[index];
        if (typeof migration === "string") await tx.exec(migration);
        else await migration(tx);
        await tx.exec(`PRAGMA user_version = ${index + 1}`);
      }
      index = -1;
      step = current === migrations.length
        ? "Committing failed"
        : `Committing migrations ${current} to ${migrations.length - 1} failed`;
    }, { timeout: 2 ** 31 - 1 });
  } catch (error) {
    if (error instanceof MigrationError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    const state = current === undefined ? "" : ` (user_version is still ${current})`;
    throw new MigrationError(`${step}, so none was applied${state}: ${message}`, index, error);
  }
}
