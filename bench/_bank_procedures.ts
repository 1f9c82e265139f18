// The write procedure of bench/_http_server.ts's `walpool-procedure` mode: the same
// read-then-write as its transaction, run inside walpool's writer (open's `procedures` option).

import type { ProcedureTransaction } from "../mod.ts";

/** Reads the balance, UPDATEs it, INSERTs a history row; the new balance, or null. */
export function deposit(
  tx: ProcedureTransaction,
  [id, delta, at]: [number, number, number],
): number | null {
  const row = tx.get<{ balance: number }>("SELECT balance FROM accounts WHERE id = ?", [id]);
  if (!row) return null;
  const balance = row.balance + delta;
  tx.run("UPDATE accounts SET balance = ? WHERE id = ?", [balance, id]);
  tx.run("INSERT INTO history(account, delta, at) VALUES (?, ?, ?)", [id, delta, at]);
  return balance;
}
