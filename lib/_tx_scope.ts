// Which transaction callback the current async context runs in. A write through the database
// from inside its own open transaction callback would wait for that transaction forever, so it
// is refused. One store for every engine (the local writer, a remote engine), each the owner of
// the scopes it opens.

import { AsyncLocalStorage } from "node:async_hooks";
import { TransactionError } from "./errors.ts";

/** A transaction callback's scope: open until the transaction ends. */
export interface TransactionScope {
  open: boolean;
}

const current = new AsyncLocalStorage<{ owner: object; scope: TransactionScope }>();

/** Runs `fn` (a transaction callback of `owner`) in `scope`. */
export function runInScope<T>(owner: object, scope: TransactionScope, fn: () => T): T {
  return current.run({ owner, scope }, fn);
}

/** Whether the caller runs inside an open transaction callback of `owner`. */
export function inOwnScope(owner: object): boolean {
  const store = current.getStore();
  return store?.owner === owner && store.scope.open;
}

/** The error for a write through `owner`'s database from inside its own open transaction callback. */
export function refuseNested(owner: object): TransactionError | undefined {
  if (!inOwnScope(owner)) return undefined;
  return new TransactionError(
    "A write through the database was made inside its own transaction() callback; it " +
      "would wait for that transaction forever. Use the transaction's tx.run/get/all/exec",
    "write-through-db",
  );
}
