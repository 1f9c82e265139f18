// The steps of Hrana batches for writes (the requests of a group, or one statement of an
// interactive transaction) and how to read their results: pure functions of the requests, shared
// by the remote engine (`remote.ts`) and its transactions (`remote_transaction.ts`).

import type { Answer, ErrorData, ReadKind, WriteRequest } from "./protocol.ts";
import type { BindParams } from "./driver.ts";
import type { Attempt } from "./group_commit.ts";
import {
  type BatchResult,
  type Condition,
  errorData,
  IN_TRANSACTION,
  resultOf,
  statement,
  type Step,
} from "./_hrana.ts";
import { splitStatements } from "./_split_sql.ts";

/** The statements of a write request. */
export function requestStatements(req: WriteRequest): { sql: string; params: BindParams }[] {
  switch (req.kind) {
    case "exec":
      return splitStatements(req.sql).map((sql) => ({ sql, params: [] }));
    case "batch":
      return req.stmts;
    case "call":
      throw new TypeError("A procedure cannot run on a remote database");
    default:
      return [{ sql: req.sql, params: req.params }];
  }
}

/** Where a request's steps are in its batch. */
export interface Span {
  /** Its first step, or -1 when it has none (an empty `exec`). */
  first: number;
  /** Its statements' steps. */
  stmts: number[];
  /** The step that releases its savepoint, when it has several statements. */
  release?: number;
}

const ok = (step: number): Condition => ({ type: "ok", step });
const not = (cond: Condition): Condition => ({ type: "not", cond });

/**
 * The steps of one attempt: `BEGIN IMMEDIATE`, each request's statements, `COMMIT`, and a
 * `ROLLBACK` should COMMIT fail and leave the transaction open.
 */
export function groupSteps(reqs: WriteRequest[]): { steps: Step[]; spans: Span[] } {
  const steps: Step[] = [{ stmt: { sql: "BEGIN IMMEDIATE" } }];
  const spans = reqs.map((req) => addRequest(steps, req));
  addStep(steps, "COMMIT", IN_TRANSACTION);
  addStep(steps, "ROLLBACK", IN_TRANSACTION);
  return { steps, spans };
}

/** Appends a step; returns its index. */
export function addStep(
  steps: Step[],
  sql: string,
  condition: Condition,
  stmt = statement(sql, [], false),
): number {
  return steps.push({ condition, stmt }) - 1;
}

/**
 * Appends the steps of one request: its statements (a request of several inside a savepoint, so
 * all or none of it applies), each run only while the transaction is open: once SQLite rolled it
 * back, nothing after runs outside of it.
 */
export function addRequest(steps: Step[], req: WriteRequest): Span {
  const stmts = requestStatements(req);
  const wantRows = req.kind === "get" || req.kind === "all" || req.kind === "values";
  if (stmts.length === 0) return { first: -1, stmts: [] };
  if (stmts.length === 1 && req.kind !== "batch") {
    const s = stmts[0];
    const at = addStep(steps, s.sql, IN_TRANSACTION, statement(s.sql, s.params, wantRows));
    return { first: at, stmts: [at] };
  }
  const savepoint = addStep(steps, "SAVEPOINT walpool", IN_TRANSACTION);
  let previous = savepoint;
  const at = stmts.map((s) =>
    previous = addStep(steps, s.sql, ok(previous), statement(s.sql, s.params, false))
  );
  const release = addStep(steps, "RELEASE walpool", ok(previous));
  const undo = addStep(steps, "ROLLBACK TO walpool", {
    type: "and",
    conds: [ok(savepoint), not(ok(release)), IN_TRANSACTION],
  });
  addStep(steps, "RELEASE walpool", ok(undo));
  return { first: savepoint, stmts: at, release };
}

/**
 * What a request's steps gave: `skipped` when it did not run (the transaction was gone), else
 * its answer.
 */
export function outcome(
  req: WriteRequest,
  span: Span,
  result: BatchResult,
  safeIntegers: boolean,
): Answer | "skipped" {
  const { step_results: results, step_errors: errors } = result;
  if (span.first >= 0 && results[span.first] === null && errors[span.first] === null) {
    return "skipped";
  }
  const failure = span.stmts.map((s) => errors[s]).find((e) => e) ??
    (span.release !== undefined ? errors[span.release] : null);
  if (failure) return { id: req.id, error: errorData(failure) };
  let value: unknown;
  if (req.kind === "batch") {
    value = span.stmts.map((s) => resultOf("run", results[s]!, safeIntegers));
  } else if (req.kind !== "exec") {
    value = resultOf(req.kind as "run" | ReadKind, results[span.first]!, safeIntegers);
  }
  return { id: req.id, value, run: req.kind === "run" };
}

/** How an attempt went, from its batch's step results (see `Attempt`). */
export function readAttempt(
  reqs: WriteRequest[],
  spans: Span[],
  result: BatchResult,
  safeIntegers: boolean,
): Attempt {
  const { step_results: results, step_errors: errors } = result;
  const ran = (step: number) => results[step] !== null || errors[step] !== null;
  if (errors[0]) {
    const error = errorData(errors[0]);
    return { done: reqs.map((r) => ({ id: r.id, error })), failedAt: -1 };
  }
  const done: Answer[] = [];
  let lastFailed = -1;
  for (let i = 0; i < reqs.length; i++) {
    const answer = outcome(reqs[i], spans[i], result, safeIntegers);
    // Skipped: SQLite rolled the transaction back at the last failure; nothing after it ran.
    if (answer === "skipped") return rolledBack(reqs, done, lastFailed);
    if (answer.error) lastFailed = i;
    done.push(answer);
  }
  const commit = results.length - 2;
  if (!ran(commit)) return rolledBack(reqs, done, lastFailed);
  if (errors[commit]) {
    const error = errorData(errors[commit]!);
    return { done: reqs.map((r) => ({ id: r.id, error })), failedAt: -1, commitFailed: true };
  }
  return { done, failedAt: -1 };
}

/** The transaction was rolled back with the request at `at` (nothing was committed). */
function rolledBack(reqs: WriteRequest[], done: Answer[], at: number): Attempt {
  if (at < 0) {
    // Rolled back with no failure reported: nothing is known to have failed; try each alone.
    const error: ErrorData = {
      name: "SqliteError",
      message: "The transaction was rolled back by the server",
      code: "SQLITE_ABORT_ROLLBACK",
      errcode: 516,
    };
    return { done: reqs.map((r) => ({ id: r.id, error })), failedAt: -1, commitFailed: true };
  }
  return { done: done.slice(0, at + 1), failedAt: at };
}
