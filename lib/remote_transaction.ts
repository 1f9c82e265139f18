// An interactive transaction on a remote database: its turn in the write order, then one Hrana
// stream (its baton) that holds the transaction on the server: BEGIN goes with the first
// statement, each statement is one request, COMMIT or ROLLBACK the last. sqld takes a
// transaction away after 5 s, so a remote transaction is rolled back by then at the latest.

import type { Transaction } from "./types.ts";
import type { WriteRequest } from "./protocol.ts";
import type { HranaClient } from "./_hrana.ts";
import type { WriterStats } from "./_writer_stats.ts";
import { addRequest, addStep, outcome, type Span } from "./_remote_steps.ts";
import { isBusy } from "./_sqlite_codes.ts";
import {
  type BatchResult,
  errorData,
  type HranaRequest,
  IN_TRANSACTION,
  type Step,
  type Stream,
} from "./_hrana.ts";
import {
  callerStack,
  fromErrorData,
  madeOnArrival,
  SqliteError,
  TransactionError,
} from "./errors.ts";
import { Settlement, transactionObject } from "./transaction.ts";
import { runInScope } from "./_tx_scope.ts";
import type { TxBody } from "./protocol.ts";

/** What a remote transaction needs of its engine. */
export interface TransactionHost {
  readonly client: HranaClient;
  readonly safeIntegers: boolean;
  /** How long (ms) a BEGIN refused with SQLITE_BUSY is tried again. */
  readonly busyTimeout: number;
  readonly stats_: WriterStats;
  /** Waits for the transaction's turn in the write order; resolves with its release. */
  acquire(signal?: AbortSignal): Promise<() => void>;
}

/** sqld's limit (ms): it takes a transaction's lock away after this long. */
export const SQLD_TRANSACTION_MS = 5000;

/** Runs `fn` in an interactive transaction on the server; see `Database.transaction`. */
export async function runRemoteTransaction<T>(
  engine: TransactionHost,
  fn: (tx: Transaction) => T | Promise<T>,
  timeout: number,
  signal?: AbortSignal,
): Promise<T> {
  timeout = Math.min(timeout, SQLD_TRANSACTION_MS);
  const release = await engine.acquire(signal);
  engine.stats_.counters.transactions++;
  const began = performance.now();
  let stream: Stream | undefined; // set once a first request was answered
  let queue: Promise<unknown> = Promise.resolve(); // one request at a time on the stream
  let broken: Error | undefined; // the stream failed: the transaction is gone
  let ended: string | undefined;
  let statements = 0;
  let failed = 0;

  /**
   * Sends a batch on the transaction's stream (a new one for the first), in turn: `steps` is
   * called when it is this batch's turn.
   */
  const exchange = (steps: () => Step[], close = false): Promise<BatchResult> => {
    const next = queue.then(async () => {
      if (broken) throw broken;
      const requests: HranaRequest[] = [{ type: "batch", batch: { steps: steps() } }];
      if (close) requests.push({ type: "close" });
      try {
        const answer = await engine.client.pipeline(requests, stream);
        stream = answer.stream;
        const r = answer.results[0];
        if (r.type === "error") throw fromErrorData(errorData(r.error));
        return (r.response as { result: BatchResult }).result;
      } catch (error) {
        if (!(error instanceof SqliteError)) broken = error as Error;
        throw error;
      }
    });
    queue = next.catch(() => {});
    return next;
  };

  /** Whether BEGIN ran: until it has, each statement goes with one (retried while busy). */
  let begun = false;
  const send = async (body: TxBody): Promise<unknown> => {
    if (ended) throw new TransactionError(`The transaction has ended (${ended})`, "ended");
    statements++;
    try {
      const req = { ...body, id: 0 } as WriteRequest;
      addRequest([], req); // a value that cannot be sent fails here, before anything is
      const started = performance.now();
      for (let wait = 5;; wait = Math.min(2 * wait, 100)) {
        let span!: Span;
        let beginning = false;
        const result = await exchange(() => {
          beginning = !begun;
          const steps: Step[] = beginning ? [{ stmt: { sql: "BEGIN IMMEDIATE" } }] : [];
          span = addRequest(steps, req);
          return steps;
        });
        if (beginning) {
          const error = result.step_errors[0];
          if (error) {
            const data = errorData(error);
            if (isBusy(data.code) && performance.now() - started < engine.busyTimeout) {
              await new Promise((r) => setTimeout(r, wait));
              continue;
            }
            throw fromErrorData(data);
          }
          begun = true;
        }
        return answerOf(req, span, result);
      }
    } catch (error) {
      failed++;
      throw error;
    }
  };

  /** What a statement's steps gave, or why it failed. */
  const answerOf = (req: WriteRequest, span: Span, result: BatchResult): unknown => {
    const answer = outcome(req, span, result, engine.safeIntegers);
    if (answer === "skipped") {
      throw madeOnArrival(
        new SqliteError(
          "The transaction was rolled back by SQLite after an earlier statement failed",
          "SQLITE_ABORT_ROLLBACK",
          516,
        ),
      );
    }
    if (answer.error) throw fromErrorData(answer.error);
    return answer.value;
  };

  /** Ends the transaction, once; a later call gets the first one's outcome. */
  let ending: Promise<void> | undefined;
  const end = (kind: "commit" | "rollback", why: string): Promise<void> => {
    if (ending) return ending;
    ended = why;
    scope.open = false;
    ending = (async () => {
      try {
        await queue;
        if (!begun) return; // no statement began it (the server ends an idle stream itself)
        if (kind === "rollback") {
          if (broken) return; // the server drops it with its stream
          await exchange(() => [{ condition: IN_TRANSACTION, stmt: { sql: "ROLLBACK" } }], true)
            .catch(() => {});
          return;
        }
        const steps: Step[] = [];
        const commit = addStep(steps, "COMMIT", IN_TRANSACTION);
        addStep(steps, "ROLLBACK", IN_TRANSACTION);
        const result = await exchange(() => steps, true);
        if (result.step_errors[commit]) throw fromErrorData(errorData(result.step_errors[commit]!));
        if (result.step_results[commit] === null) {
          throw madeOnArrival(
            new SqliteError(
              "The transaction was rolled back by SQLite after a statement failed; nothing was committed",
              "SQLITE_ABORT_ROLLBACK",
              516,
            ),
          );
        }
        engine.stats_.counters.transactionCommits++;
      } finally {
        release();
      }
    })();
    return ending;
  };

  const scope = { open: true };
  const tx = transactionObject({ send: (body) => callerStack(send(body)) });
  const limit = `; a remote transaction is limited to ${SQLD_TRANSACTION_MS} ms by the server`;
  const settlement = new Settlement<T>({ end }, timeout, limit);
  // Writes through the database from the callback are refused while it is open.
  runInScope(engine, scope, fn, tx, settlement);
  const value = await settlement.promise;
  engine.stats_.notify({
    kind: "transaction",
    requests: statements - failed,
    failed,
    commits: 1,
    ms: performance.now() - began,
  });
  return value;
}
