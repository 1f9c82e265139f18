// Group commit: the waiting write requests committed as ONE transaction, each failing alone.
// One algorithm, written once as a plan of attempts (`plan`), run synchronously over a local
// connection inside the writer worker (`commitGroup`), or asynchronously over any engine that can
// run requests in one transaction and say how that went (`commitGroupAsync`, for a remote one).

import type { DriverRunResult } from "./driver.ts";
import type { Answer, TxBody, TxRequest, WriteRequest } from "./protocol.ts";
import type { Connection } from "./_connection.ts";
import { toErrorData } from "./errors.ts";
import { callProcedure } from "./_procedures.ts";

/**
 * How one try at running requests in one transaction went.
 * - `failedAt >= 0`: the request at that index failed and SQLite rolled the whole transaction back
 *   with it: nothing was committed, `done` holds the answers up to and with that failure, and
 *   only that failure is final.
 * - `commitFailed`: every request ran but COMMIT failed, so nothing was committed; `done` holds
 *   one failure per request, with the COMMIT's error.
 * - otherwise every answer in `done` is final and what succeeded is committed.
 */
export interface Attempt {
  done: Answer[];
  failedAt: number;
  commitFailed?: boolean;
}

/**
 * The plan: yields the requests to try in one transaction and is told how it went, until each
 * request has a final answer. A request that fails fails alone: when SQLite rolled the whole
 * transaction back, the requests before the failure are tried again and the rest go on in a new
 * transaction (each request runs at most twice); when COMMIT failed, each request is tried in a
 * transaction of its own, so nothing is reported done that was not committed.
 */
function* plan(reqs: WriteRequest[]): Generator<WriteRequest[], Answer[], Attempt> {
  const answers: Answer[] = [];
  let rest = reqs;
  while (rest.length) {
    const { done, failedAt, commitFailed } = yield rest;
    if (commitFailed && rest.length > 1) {
      for (const req of rest) answers.push(...yield* plan([req]));
      return answers;
    }
    if (commitFailed || failedAt < 0) return answers.concat(done);
    answers.push(...yield* plan(rest.slice(0, failedAt)), done[failedAt]);
    rest = rest.slice(failedAt + 1);
  }
  return answers;
}

/** Group commit over an engine whose attempts are asynchronous (a remote server). */
export async function commitGroupAsync(
  reqs: WriteRequest[],
  attempt: (reqs: WriteRequest[]) => Promise<Attempt>,
): Promise<Answer[]> {
  const steps = plan(reqs);
  let step = steps.next();
  while (!step.done) step = steps.next(await attempt(step.value));
  return step.value;
}

/**
 * What the writer counts while it commits: the requests each commit carried, and the BEGINs
 * that waited longer than {@linkcode LOCK_WAIT_MS} for another process's lock.
 */
export interface Tally {
  commits: number[];
  lockWaits: number;
  lockWaitMs: number;
}

/** A BEGIN slower than this (ms) is counted as a wait for a lock held elsewhere. */
export const LOCK_WAIT_MS = 1;

/** A fresh, empty {@linkcode Tally}. */
export function newTally(): Tally {
  return { commits: [], lockWaits: 0, lockWaitMs: 0 };
}

/**
 * Commits `reqs` as one transaction of `conn`, synchronously, and returns one answer each, in
 * order (see `plan` for what happens on failures). Counts into `tally`.
 */
export function commitGroup(conn: Connection, reqs: WriteRequest[], tally: Tally): Answer[] {
  const steps = plan(reqs);
  let step = steps.next();
  while (!step.done) step = steps.next(attemptLocally(conn, step.value, tally));
  return step.value;
}

/** BEGIN IMMEDIATE, noting in `tally` a wait for a lock held elsewhere. */
export function begin(conn: Connection, tally: Tally): void {
  const began = performance.now();
  conn.begin();
  const waited = performance.now() - began;
  if (waited > LOCK_WAIT_MS) {
    tally.lockWaits++;
    tally.lockWaitMs += waited;
  }
}

/** Runs `reqs` in one transaction of `conn` and commits it: one attempt of the plan. */
export function attemptLocally(conn: Connection, reqs: WriteRequest[], tally: Tally): Attempt {
  try {
    begin(conn, tally);
  } catch (error) {
    return { done: reqs.map((r) => failed(conn, r, error)), failedAt: -1 };
  }
  const done: Answer[] = [];
  let applied = 0;
  for (let i = 0; i < reqs.length; i++) {
    try {
      done.push({ id: reqs[i].id, value: execute(conn, reqs[i]), run: reqs[i].kind === "run" });
      applied++;
    } catch (error) {
      done.push(failed(conn, reqs[i], error));
      if (!conn.inTransaction()) return { done, failedAt: i };
    }
  }
  try {
    // Committed even when every request failed: a statement that fails with OR FAIL keeps what it
    // changed before the failure, as it would alone. Counted as a commit only if one succeeded.
    conn.exec("COMMIT");
    if (applied) tally.commits.push(applied);
    return { done, failedAt: -1 };
  } catch (error) {
    rollbackQuietly(conn);
    return { done: reqs.map((r) => failed(conn, r, error)), failedAt: -1, commitFailed: true };
  }
}

/** Rolls back the open transaction, if there is one, ignoring errors: it is gone either way. */
export function rollbackQuietly(conn: Connection): void {
  if (!conn.inTransaction()) return;
  try {
    conn.exec("ROLLBACK");
  } catch { /* the transaction is gone either way */ }
}

/** The failure answer of `req`. */
export function failed(conn: Connection, req: { id: number }, error: unknown): Answer {
  return { id: req.id, error: toErrorData(error, conn.driver, true) };
}

/** Carries out one request; several statements run inside a savepoint, so all or none apply. */
export function execute(conn: Connection, req: TxBody<WriteRequest | TxRequest>): unknown {
  switch (req.kind) {
    case "run":
      return conn.run(req.sql, req.params) as DriverRunResult;
    case "get":
      return conn.get(req.sql, req.params);
    case "all":
      return conn.all(req.sql, req.params);
    case "values":
      return conn.values(req.sql, req.params);
    case "exec":
      return atomically(conn, () => conn.script(req.sql));
    case "batch":
      return atomically(conn, () => req.stmts.map((s) => conn.run(s.sql, s.params)));
    case "call":
      return atomically(conn, () => callProcedure(conn, req.sql, req.params));
    default:
      throw new Error(`Unexpected request ${req.kind} in a group`);
  }
}

function atomically<T>(conn: Connection, fn: () => T): T {
  conn.exec("SAVEPOINT walpool");
  try {
    const value = fn();
    conn.exec("RELEASE walpool");
    return value;
  } catch (error) {
    if (conn.inTransaction()) conn.exec("ROLLBACK TO walpool; RELEASE walpool");
    throw error;
  }
}
