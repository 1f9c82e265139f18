// Write procedures for tests/procedures_test.ts (given to open() as `procedures`).

import type { ProcedureTransaction } from "../mod.ts";

/** Read-then-write: adds `delta` to an account and records it; returns the new balance. */
export function deposit(tx: ProcedureTransaction, { id, delta }: { id: number; delta: number }) {
  const row = tx.get<{ balance: number }>("SELECT balance FROM account WHERE id = ?", [id]);
  if (!row) throw new RangeError(`No account ${id}`);
  tx.run("UPDATE account SET balance = ? WHERE id = ?", [row.balance + delta, id]);
  tx.run("INSERT INTO history(account, delta) VALUES (?, ?)", [id, delta]);
  return row.balance + delta;
}

/** Writes, then throws: nothing of it may remain. */
export function writesThenThrows(tx: ProcedureTransaction, id: number) {
  tx.run("INSERT INTO history(account, delta) VALUES (?, 1000)", [id]);
  throw new Error(`refused after writing for ${id}`);
}

/** Returns a function, which cannot be sent back. */
export function returnsAFunction() {
  return () => 1;
}

/** Procedures cannot await. */
export async function awaits(tx: ProcedureTransaction) {
  await Promise.resolve();
  return tx.get("SELECT 1 AS one");
}

/** Tries to end the transaction it runs in. */
export function commits(tx: ProcedureTransaction) {
  tx.exec("COMMIT");
}

/** Not a function. */
export const notAProcedure = 42;

/** Catches the error of a statement after which SQLite rolled everything back, and goes on. */
export function swallowsRollback(tx: ProcedureTransaction) {
  try {
    tx.run("INSERT INTO guarded VALUES (1)");
  } catch { /* ignored, wrongly */ }
  tx.run("INSERT INTO history(account, delta) VALUES (1, 777)");
  return "went on";
}

/** Writes after an await: refused, since the procedure has returned by then. */
export async function writesLater(tx: ProcedureTransaction) {
  await null;
  tx.run("INSERT INTO history(account, delta) VALUES (1, 888)");
}
