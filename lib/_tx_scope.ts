// Which transaction callback the current async context runs in. A write through the database
// from inside its own open transaction callback would wait for that transaction forever, so it
// is refused. One store for every engine (the local writer, a remote engine), each the owner of
// the scopes it opens.
//
// Two ways to know. Where AsyncLocalStorage is cheap (Deno, Bun, Node 24 and later, which carry
// it with each continuation), it is used. Node 22 implements it with promise hooks: once a store
// has been entered, every promise of the process runs a hook when it is made and settled, which
// cost an HTTP service on Node 22 17 % of its requests/s (33k against 38k req/s, 90 % point reads
// and 10 % transactions, bench/http.ts). There each callback runs under an async function of a
// name of its own instead, and the rare write that arrives while a transaction of its database is
// open looks for that name in V8's async stack trace, which names every async function awaiting
// the current one (through `await` and `Promise.all`). A write made from code the callback did not
// await (a timer it set, a promise it dropped) is then not refused but waits for the transaction,
// as it would from anywhere else.

import { AsyncLocalStorage } from "node:async_hooks";
import { TransactionError } from "./errors.ts";
import { runtime } from "./_runtime.ts";

/** A transaction callback's scope: open until the transaction ends. */
export interface TransactionScope {
  open: boolean;
}

interface Entry {
  owner: object;
  scope: TransactionScope;
}

/** Node before 24, unless told to carry async context with continuations. */
const byStack = runtime === "node" && hookedStorage();

function hookedStorage(): boolean {
  const process = (globalThis as {
    process?: { versions?: { node?: string }; execArgv?: string[] };
  }).process;
  const major = Number(process?.versions?.node?.split(".")[0]);
  return major < 24 && !process?.execArgv?.includes("--experimental-async-context-frame");
}

const current = byStack ? undefined : new AsyncLocalStorage<Entry>();

/** Where a transaction callback's outcome goes, once it has settled. Neither method throws. */
export interface Outcome<T> {
  done(value: T): void;
  failed(error: unknown): void;
}

/**
 * By stack: an async function named for each callback running now, which runs it. Named once
 * and used again once its callback is over (naming a fresh function for every transaction cost
 * more than a transaction on the calling thread): only callbacks running at the same time need
 * names of their own, and a name is looked for only on the stack of a callback it still runs.
 */
interface Runner {
  entry: Entry | undefined;
  run<A, T>(fn: (arg: A) => T | Promise<T>, arg: A, to: Outcome<T>): Promise<void>;
}
const runners = new Map<string, Runner>();
const idle: Runner[] = [];
let runningNow = 0;

function newRunner(): Runner {
  const name = `walpool_transaction_${runners.size + 1}`;
  const runner: Runner = {
    entry: undefined,
    run: async function (fn, arg, to) {
      let value;
      try {
        value = await fn(arg);
      } catch (error) {
        free(runner);
        return to.failed(error);
      }
      free(runner);
      to.done(value);
    },
  };
  Object.defineProperty(runner.run, "name", { value: name });
  runners.set(name, runner);
  return runner;
}

function free(runner: Runner): void {
  runner.entry = undefined;
  runningNow--;
  idle.push(runner);
}

/**
 * Runs `fn(arg)` (a transaction callback of `owner`) in `scope`, and reports its outcome to `to`
 * (at once when it returns a value that is not a promise, where the store carries the scope).
 * The callback and its argument are passed as they are: a closure per transaction to bind them
 * cost more than the rest of this.
 */
export function runInScope<A, T>(
  owner: object,
  scope: TransactionScope,
  fn: (arg: A) => T | Promise<T>,
  arg: A,
  to: Outcome<T>,
): void {
  if (current) {
    let value: T | Promise<T>;
    try {
      value = current.run({ owner, scope }, fn, arg);
    } catch (error) {
      return to.failed(error);
    }
    if (typeof (value as PromiseLike<T> | undefined)?.then === "function") {
      void settled(value as Promise<T>, to);
    } else to.done(value as T);
    return;
  }
  const runner = idle.pop() ?? newRunner();
  runner.entry = { owner, scope };
  runningNow++;
  void runner.run(fn, arg, to);
}

/** Reports what `value` settles to (an async function rather than two closures for `then`). */
async function settled<T>(value: PromiseLike<T>, to: Outcome<T>): Promise<void> {
  let result: T;
  try {
    result = await value;
  } catch (error) {
    return to.failed(error);
  }
  to.done(result);
}

/** Whether the caller runs inside an open transaction callback of `owner`. */
export function inOwnScope(owner: object): boolean {
  if (current) {
    const store = current.getStore();
    return store?.owner === owner && store.scope.open;
  }
  if (runningNow === 0) return false;
  let open = false;
  for (const { entry } of runners.values()) open ||= entry?.owner === owner && entry.scope.open;
  if (!open) return false;
  for (const name of functionNames()) {
    const entry = runners.get(name)?.entry;
    if (entry?.owner === owner && entry.scope.open) return true;
  }
  return false;
}

interface CallSite {
  getFunctionName(): string | null;
}

/** The names of the functions on the stack, the async functions awaiting them included. */
function functionNames(): string[] {
  const E = Error as unknown as {
    stackTraceLimit: number;
    prepareStackTrace?: (error: Error, sites: CallSite[]) => unknown;
    captureStackTrace(target: object): void;
  };
  const { stackTraceLimit, prepareStackTrace } = E;
  E.stackTraceLimit = 1000;
  E.prepareStackTrace = (_, sites) => sites;
  try {
    const holder = {} as { stack: CallSite[] };
    E.captureStackTrace(holder);
    return holder.stack.map((site) => site.getFunctionName() ?? "");
  } finally {
    E.stackTraceLimit = stackTraceLimit;
    E.prepareStackTrace = prepareStackTrace;
  }
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
