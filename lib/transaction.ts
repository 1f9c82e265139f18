// The interactive transaction, on the calling thread: its turn in the write order, BEGIN, the
// statements over the writer's transaction channel, the timeout, COMMIT or ROLLBACK, and what the
// `tx` object offers. Every statement is answered synchronously when the writer answers within a
// short budget, so a callback that only awaits its own statements runs in one task and holds the
// writer for microseconds, not for as long as other work delays its answers.

import type { Params, Row, RunResult, SqlTag, Transaction } from "./types.ts";
import type { TxBody, TxRequest } from "./protocol.ts";
import type { Writer } from "./writer.ts";
import type { Lease } from "./_write_call.ts";
import { type Outcome, runInScope, type TransactionScope } from "./_tx_scope.ts";
import { bindParams } from "./_params.ts";
import { checkStatement, isRead } from "./_classify.ts";
import {
  callerStack,
  fromErrorData,
  madeOnArrival,
  pointAtCaller,
  rejectThrown,
  SqliteError,
  toErrorData,
  TransactionError,
} from "./errors.ts";
import type { InlineGroup } from "./_inline_group.ts";
import { isBusy } from "./_sqlite_codes.ts";
import { sqlTag } from "./sql_tag.ts";
import { type Deadline, type Expiring, unwatch, watch } from "./_deadlines.ts";

/**
 * How long (ms) the calling thread may wait synchronously for the writer to answer one
 * statement; past it, it waits asynchronously. Bounds the event-loop pause a statement causes.
 */
const SYNC_MS = 2;

/** Runs `fn` in an interactive transaction; see `Database.transaction`. */
export async function runTransaction<T>(
  writer: Writer,
  fn: (tx: Transaction) => T | Promise<T>,
  timeout: number,
  signal?: AbortSignal,
): Promise<T> {
  // Errors made on arrival of an answer get the stack of the caller awaiting this (one async
  // function for both: a transaction on the calling thread costs a few microseconds).
  try {
    const turn = writer.acquire(signal);
    const run = new TxRun(writer, turn instanceof Promise ? await turn : turn);
    const settlement = new Settlement<T>(run, timeout, "");
    // Writes through the database from the callback are refused while it is open.
    runInScope(writer, run, fn, run.tx, settlement);
    return await settlement.promise;
  } catch (error) {
    pointAtCaller(error, runTransaction);
    throw error;
  }
}

/** How a `Settlement` ends a transaction. */
export interface Ending {
  /**
   * COMMIT or ROLLBACK, once (a later call gets the first one's outcome): `undefined` when it
   * ended at once, else a promise of the end.
   */
  end(kind: "commit" | "rollback", why: string): Promise<unknown> | undefined;
  /** Called once the transaction has committed. */
  committed?(): void;
}

/**
 * Transactions of a kind known to be cheap on this thread whose statements are timed: one in
 * SAMPLE (a clock read costs as much as a point read's statement).
 */
const SAMPLE = 8;
let sampled = 0;

/**
 * One interactive transaction, in the writer's lease: its statements, run here on this thread's
 * write connection while the writer is idle (see Writer #openInline) or else, or if its BEGIN
 * finds the lock taken, by the writer over its channel; its end; what it cost. It is also the
 * scope of its callback (open until it ends). One object with its state in fields, not a closure
 * per step: a transaction on the calling thread costs microseconds, and each allocation counts.
 */
class TxRun implements TransactionScope, Ending, Sink {
  /** Open until the transaction ends (the scope of its callback). */
  open = true;
  readonly tx: Transaction;
  readonly #writer: Writer;
  readonly #lease: Lease;
  #here: InlineTransaction | undefined;
  /** The first statement's SQL (what transactions are known by), and the dearest statement. */
  #first: string | undefined;
  #dearest = 0;
  /** Whether its statements are timed (see SAMPLE). */
  #timed = true;
  #statements = 0;
  #failed = 0;
  #nextId = 1;
  /** Why it ended, once it has. */
  #ended: string | undefined;
  /** What `end` gave (`undefined`: ended at once). */
  #ending: Promise<unknown> | undefined;
  readonly #began: number;

  constructor(writer: Writer, lease: Lease) {
    this.#writer = writer;
    this.#lease = lease;
    this.#here = lease.inline ? new InlineTransaction(lease.inline) : undefined;
    this.#began = writer.stats.hooked ? performance.now() : 0;
    this.tx = transactionObject(this);
  }

  /**
   * Runs a statement. The transaction begins at its first statement; a callback that runs no
   * statement begins nothing. On this thread, a statement is answered at once, with no promise
   * of its own to await in between: as cheap as the raw binding's call, but for the promise it
   * resolves.
   */
  send(body: TxBody): Promise<unknown> {
    if (this.#ended !== undefined) {
      return Promise.reject(
        new TransactionError(`The transaction has ended (${this.#ended})`, "ended"),
      );
    }
    this.#statements++;
    if (this.#first === undefined) this.#begin("sql" in body ? body.sql : "");
    const here = this.#here;
    if (here) {
      const started = this.#timed ? performance.now() : 0;
      try {
        if (here.begin()) return Promise.resolve(here.run(body));
        this.#here = undefined; // another connection holds the lock: the writer waits for it
        this.#writer.stats.counters.inlineTransactions--;
      } catch (error) {
        this.#failed++;
        return Promise.reject(error);
      } finally {
        if (this.#timed) this.#dearest = Math.max(this.#dearest, performance.now() - started);
      }
      this.#timed = true;
    }
    this.#writer.flushInline(); // the writer's BEGIN would wait for this thread's group
    return callerStack(
      this.#viaWriter(body).catch((error) => {
        this.#failed++;
        throw error;
      }),
    );
  }

  /** At the first statement: where the transaction runs, and whether it is timed. */
  #begin(first: string): void {
    this.#first = first;
    // Only a transaction known to be cheap runs here (a dear statement would hold this thread).
    if (this.#here && !this.#writer.cheapTransaction(first)) this.#here = undefined;
    if (this.#here) {
      this.#writer.stats.counters.inlineTransactions++;
      this.#timed = (sampled = (sampled + 1) % SAMPLE) === 0;
    }
  }

  /** Runs a statement on the writer, over its channel: every request names its transaction. */
  async #viaWriter(body: TxBody, syncMs = SYNC_MS): Promise<unknown> {
    const started = performance.now();
    try {
      const req = { ...body, id: this.#nextId++, tx: this.#lease.token } as TxRequest;
      const answer = await this.#lease.channel.call(req, syncMs);
      if (answer.error) throw fromErrorData(answer.error);
      return answer.value;
    } finally {
      this.#dearest = Math.max(this.#dearest, performance.now() - started);
    }
  }

  /**
   * Ends the transaction, once. The writer answers COMMIT at once with the number it gave the
   * transaction in its group, and the group commits soon after: the writer is released to the
   * next transaction without waiting for that COMMIT (or its fsync), and this one resolves once
   * the writer reports the group committed. On this thread, it ends at once.
   */
  end(kind: "commit" | "rollback", why: string): Promise<unknown> | undefined {
    if (this.#ended !== undefined) return this.#ending;
    this.#ended = why;
    this.open = false;
    if (this.#statements === 0) {
      this.#lease.release();
      return undefined;
    }
    if (this.#here) {
      try {
        this.#ending = this.#here.end(kind);
      } catch (error) {
        this.#ending = Promise.reject(error);
      }
      // Released at once, also when it waits for its group's COMMIT: the next transaction of
      // the turn joins that group.
      this.#lease.release();
      return this.#ending;
    }
    const { generation } = this.#lease;
    this.#ending = this.#viaWriter({ kind }).then((seq) =>
      kind === "commit" ? this.#writer.committedAs(generation, seq as number) : undefined
    );
    this.#lease.release(this.#ending);
    return this.#ending;
  }

  /** Once committed: what its kind costs, and the onCommit hook. */
  committed(): void {
    const writer = this.#writer;
    if (this.#first !== undefined && this.#timed) {
      writer.learnTransaction(this.#first, this.#dearest);
    }
    if (!writer.stats.hooked) return;
    writer.committed({
      kind: "transaction",
      requests: this.#statements - this.#failed,
      failed: this.#failed,
      commits: 1,
      ms: performance.now() - this.#began,
    });
  }
}

/**
 * The end of a transaction whose callback runs: it ends the transaction with `ending`, COMMIT
 * when the callback resolves (`done`), ROLLBACK when it throws (`failed`) or is still open after
 * `timeout` ms (then `promise` rejects with a `TimeoutError` whose message ends with `limit`, also
 * when the callback resolves later), and settles `promise` once the transaction has ended. Settled
 * by hand rather than by a race with a timer of its own, and with its steps as methods rather than
 * closures: a transaction on the calling thread is over in microseconds, and the race, the timer
 * and the closures cost as much as its statements.
 */
export class Settlement<T> implements Outcome<T>, Expiring {
  readonly promise: Promise<T>;
  readonly #resolve: (value: T) => void;
  readonly #reject: (error: unknown) => void;
  readonly #ending: Ending;
  readonly #timeout: number;
  readonly #limit: string;
  readonly #deadline: Deadline;
  #timedOut = false;

  constructor(ending: Ending, timeout: number, limit: string) {
    const { promise, resolve, reject } = Promise.withResolvers<T>();
    this.promise = promise;
    this.#resolve = resolve;
    this.#reject = reject;
    this.#ending = ending;
    this.#timeout = timeout;
    this.#limit = limit;
    this.#deadline = watch(timeout, this);
  }

  /** The callback resolved: COMMIT, then resolve with its value. */
  done(value: T): void {
    if (this.#timedOut) return;
    unwatch(this.#deadline);
    let ended: Promise<unknown> | undefined;
    try {
      ended = this.#ending.end("commit", "it was committed");
    } catch (error) {
      return this.#reject(error);
    }
    if (ended === undefined) return this.#committed(value);
    ended.then(() => this.#committed(value), this.#reject);
  }

  #committed(value: T): void {
    this.#ending.committed?.();
    this.#resolve(value);
  }

  /** The callback threw: ROLLBACK, then reject with its error. */
  failed(error: unknown): void {
    if (this.#timedOut) return;
    unwatch(this.#deadline);
    this.#rollBack("it was rolled back", error);
  }

  /** Still open after the timeout: ROLLBACK; a callback that ends later changes nothing. */
  expire(): void {
    this.#timedOut = true;
    const error = madeOnArrival(
      new DOMException(
        `Transaction rolled back: still open after ${this.#timeout} ms (transactionTimeout${this.#limit})`,
        "TimeoutError",
      ),
    );
    this.#rollBack("it timed out", error);
  }

  /** Rolls back, then rejects with `error` (whatever the ROLLBACK gave). */
  #rollBack(why: string, error: unknown): void {
    let ended: Promise<unknown> | undefined;
    try {
      ended = this.#ending.end("rollback", why);
    } catch {
      return this.#reject(error);
    }
    if (ended === undefined) return this.#reject(error);
    const reject = () => this.#reject(error);
    ended.then(reject, reject);
  }
}

/**
 * A transaction run on the calling thread's write connection: BEGIN IMMEDIATE without waiting
 * (or a SAVEPOINT in the group of transactions of this turn, see `_inline_group.ts`), each
 * statement synchronously, then COMMIT or ROLLBACK, as the raw binding would. Once SQLite rolled
 * it back by itself (a failed statement that ends the transaction), every later statement fails:
 * none runs outside of it.
 *
 * Until the first statement of the group that may change something, the connection is marked
 * `unchanged`: reads through the database may run on it meanwhile (see `Writer.idleConnection`).
 * They see what is committed, as on any connection: holding the write lock, the group has
 * nothing newer. (In a server whose requests interleave, such as Deno's node:http, a transaction
 * is open across many other requests' reads; on another connection each read after a commit
 * reads its pages from the file again.)
 */
class InlineTransaction {
  #group: InlineGroup;
  #open = false;
  #lost: Error | undefined;

  constructor(group: InlineGroup) {
    this.#group = group;
  }

  /** Begins it, once; `false` if the lock is taken (nothing was begun). */
  begin(): boolean {
    if (this.#open || this.#lost) return true;
    try {
      this.#group.join();
    } catch (error) {
      if (isBusy(this.#group.conn.driver.errorInfo(error)?.code)) return false;
      throw this.#error(error);
    }
    this.#open = true;
    return true;
  }

  run(body: TxBody): unknown {
    if (this.#lost) throw this.#lost;
    const conn = this.#group.conn;
    if (conn.unchanged) {
      // A read run meanwhile that ended the transaction (an I/O error) leaves none to run in.
      if (!conn.inTransaction()) throw this.#lose();
      if (body.kind === "exec" || !("sql" in body && isRead(body.sql))) conn.unchanged = false;
    }
    try {
      return this.#group.run(body);
    } catch (error) {
      if (!conn.inTransaction()) this.#lose();
      throw this.#error(error);
    }
  }

  /** Marks it rolled back by SQLite (and the group with it); the error later statements get. */
  #lose(): Error {
    this.#group.conn.unchanged = false;
    this.#group.lost();
    return this.#lost = new SqliteError(
      "The transaction was rolled back by SQLite after an earlier statement failed",
      "SQLITE_ABORT_ROLLBACK",
      516,
    );
  }

  /**
   * Commits (or rolls back) what is open: `undefined` when it is done at once, else a promise
   * that settles once its group committed. A failed COMMIT is rolled back and thrown.
   */
  end(kind: "commit" | "rollback"): Promise<void> | undefined {
    if (!this.#open) {
      if (kind === "commit" && this.#lost) throw this.#lost;
      return;
    }
    this.#open = false;
    if (kind === "rollback" || this.#lost) {
      this.#group.rollback();
      if (kind === "commit") throw this.#lost;
      return;
    }
    try {
      return this.#group.commit();
    } catch (error) {
      throw this.#error(error);
    }
  }

  #error(error: unknown): Error {
    return fromErrorData(toErrorData(error, this.#group.conn.driver));
  }
}

/** Where a transaction's statements go. */
export interface Sink {
  send(body: TxBody): Promise<unknown>;
}

/**
 * Runs `SAVEPOINT`, `RELEASE` or `ROLLBACK TO` (which keeps the savepoint) of `name` on `tx`:
 * for libraries with savepoint APIs of their own (Kysely's driver), where `tx.transaction()`
 * does not fit.
 *
 * @throws {TypeError} `tx` is not a walpool transaction, or `name` is not a string.
 */
export async function savepointStatement(
  tx: Transaction,
  op: "savepoint" | "release" | "rollback",
  name: string,
): Promise<void> {
  const sink = TransactionHandle.sinkOf(tx);
  if (!sink) throw new TypeError("Not a walpool transaction");
  const control = controlOf(sink);
  if (typeof name !== "string" || name === "") {
    throw new TypeError("A savepoint needs a name");
  }
  if (/^walpool/i.test(name)) {
    throw new TypeError(`Savepoint names beginning with "walpool" are walpool's own: ${name}`);
  }
  const quoted = `"${name.replaceAll('"', '""')}"`;
  if (op === "savepoint") await control(`SAVEPOINT ${quoted}`);
  else if (op === "release") await control(`RELEASE ${quoted}`);
  else await control(`ROLLBACK TO ${quoted}`);
}

/** Names the savepoints of one outermost transaction's nested transactions. */
interface Savepoints {
  next: number;
}

/**
 * The `tx` a callback gets: checked statements over `send`, and nested transactions (savepoints,
 * sent through `send` as statements of their own: the checks refuse them from the caller).
 * Its methods are the class's own, not closures made for each transaction: an object literal
 * with a getter per transaction cost a transaction on the calling thread 2 µs, and kept the young
 * generation alive through every scavenge (measured on Node 22: 86 % of it promoted).
 */
export function transactionObject(
  sink: Sink,
  savepoints: Savepoints = { next: 0 },
): Transaction {
  return new TransactionHandle(sink, savepoints);
}

class TransactionHandle implements Transaction {
  readonly #sink: Sink;
  readonly #savepoints: Savepoints;
  #tag: SqlTag | undefined;

  constructor(sink: Sink, savepoints: Savepoints) {
    this.#sink = sink;
    this.#savepoints = savepoints;
  }

  /** Where `tx`'s statements go, if it is one of these (for `savepointStatement`). */
  static sinkOf(tx: unknown): Sink | undefined {
    return tx instanceof TransactionHandle ? tx.#sink : undefined;
  }

  #statement(kind: "run" | "get" | "all" | "values", sql: string, params?: Params) {
    try {
      checkStatement(sql);
      return this.#sink.send({ kind, sql, params: bindParams(sql, params) });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  run(sql: string, params?: Params): Promise<RunResult> {
    return this.#statement("run", sql, params) as Promise<RunResult>;
  }

  get<T = Row>(sql: string, params?: Params): Promise<T | undefined> {
    return this.#statement("get", sql, params) as Promise<T | undefined>;
  }

  all<T = Row>(sql: string, params?: Params): Promise<T[]> {
    return this.#statement("all", sql, params) as Promise<T[]>;
  }

  values<T extends unknown[] = unknown[]>(sql: string, params?: Params): Promise<T[]> {
    return this.#statement("values", sql, params) as Promise<T[]>;
  }

  exec(sql: string): Promise<void> {
    return rejectThrown(() => {
      checkStatement(sql);
      return this.#sink.send({ kind: "exec", sql });
    }) as Promise<void>;
  }

  iterate<T = Row>(sql: string, params?: Params): AsyncIterableIterator<T> {
    const rows = this.#statement("all", sql, params) as Promise<T[]>; // in order, now
    rows.catch(() => {}); // reported by the first next()
    return (async function* () {
      yield* await rows;
    })();
  }

  get sql(): SqlTag {
    return this.#tag ??= sqlTag(this);
  }

  transaction<T>(fn: (tx: Transaction) => T | Promise<T>): Promise<T> {
    return callerStack(nested(this.#sink, this.#savepoints, fn));
  }
}

/**
 * How a savepoint statement is sent: as a `get`, a statement that gives no row and has no
 * `changes` of its own to compare when the writer replays the transaction.
 */
const controlOf = (sink: Sink) => (sql: string) => sink.send({ kind: "get", sql, params: [] });

/** Runs `fn` under a savepoint of the transaction `sink` speaks to. */
async function nested<T>(
  sink: Sink,
  savepoints: Savepoints,
  fn: (tx: Transaction) => T | Promise<T>,
): Promise<T> {
  if (typeof fn !== "function") throw new TypeError("transaction() takes a function");
  const name = `walpool_nested_${++savepoints.next}`;
  const control = controlOf(sink);
  let ended: string | undefined;
  const inner = transactionObject({
    send: (body) =>
      ended
        ? Promise.reject(
          new TransactionError(`The nested transaction has ended (${ended})`, "ended"),
        )
        : sink.send(body),
  }, savepoints);
  await control(`SAVEPOINT ${name}`);
  let value: T;
  try {
    value = await fn(inner);
  } catch (error) {
    ended = "it was rolled back";
    // If SQLite rolled the whole transaction back, there is no savepoint left: the outer
    // transaction fails on its own.
    await control(`ROLLBACK TO ${name}`).catch(() => {});
    await control(`RELEASE ${name}`).catch(() => {});
    throw error;
  }
  ended = "it was released";
  await control(`RELEASE ${name}`);
  return value;
}
