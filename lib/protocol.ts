/**
 * Every message that crosses a worker boundary, in one place: their types, and the codec of
 * request and answer batches.
 *
 * Main thread → writer: `init` (with the interactive transaction's channel, see
 * `_tx_channel.ts`), then `write` (the requests of one tick), `cancel`, `close`.
 * Writer → main thread: `ready` or `failed`, then `answers` (one batch per commit), `closed`.
 * Readers speak the same way with `read` instead of `write`.
 *
 * Requests and answers cross column by column ({@linkcode RequestBatch},
 * {@linkcode AnswerBatch}): cloning a few flat arrays costs a fraction of cloning one small
 * object per request. `encode…`/`decode…` below are the only code that knows the layout.
 *
 * @module
 */

import type { BindParams, BindValue } from "./driver.ts";

/** An error as plain data (rebuilt on arrival by `fromErrorData`). */
export interface ErrorData {
  name: "SqliteError" | "RangeError" | "TypeError" | "Error";
  message: string;
  code?: string;
  errcode?: number;
  /** The stack where it was thrown, when that was in a worker. */
  stack?: string;
  /** Its `cause`, if it had one that is an error. */
  cause?: ErrorData;
}

/** What a worker needs to open its connection. */
export interface ConnectionConfig {
  /** A `DriverName`, or the URL (`href`) of a driver module: see `_load_driver.ts`. */
  driver: string;
  path: string;
  readonly: boolean;
  safeIntegers: boolean;
  busyTimeout: number;
  durability: "normal" | "full";
  /** Extra pragmas, already rendered as `name = value` text. */
  pragmas: string[];
  /** SQLite extensions (shared libraries) every connection loads. */
  extensions?: string[];
  /** The URL of a module whose exported functions every connection makes SQL functions. */
  functions?: string;
  /** The writer only: the URL of the module whose functions `db.call()` runs. */
  procedures?: string;
  /**
   * A read-only connection that may write other files (`VACUUM INTO`, for a backup): not
   * `query_only`. Readers are.
   */
  copies?: boolean;
  /**
   * A second write connection, on the calling thread (see `Writer`): the writer's connection
   * already found the file writable, and this one must not wait for the lock to check it again.
   */
  second?: boolean;
}

/** A statement with its parameters. */
export interface Statement {
  sql: string;
  params: BindParams;
}

/** A request the writer carries out in a group. */
export type WriteRequest =
  | { id: number; kind: "run" | ReadKind; sql: string; params: BindParams }
  | { id: number; kind: "exec"; sql: string }
  | { id: number; kind: "batch"; stmts: Statement[] }
  | { id: number; kind: "call"; sql: string; params: unknown }; // sql: the procedure's name

/**
 * A statement of an interactive transaction, sent over its channel (`_tx_channel.ts`), not with
 * `postMessage`. `tx` names the transaction (its lease): the writer begins a transaction at its
 * first statement, ends it at its COMMIT or ROLLBACK, and refuses a request of another.
 */
export type TxRequest =
  & (
    | Exclude<WriteRequest, { kind: "batch" | "call" }>
    | { id: number; kind: "commit" | "rollback" }
  )
  & { tx: number };

/** A request without its id and transaction: what a caller hands over (`R` one of the above). */
export type TxBody<R = TxRequest> = R extends unknown ? Omit<R, "id" | "tx"> : never;

/** What a read returns: the first row, every row, or every row as an array of values. */
export type ReadKind = "get" | "all" | "values";

/** A request a reader carries out. */
export interface ReadRequest {
  id: number;
  kind: ReadKind;
  sql: string;
  params: BindParams;
}

/** The outcome of one request. */
export interface Answer {
  id: number;
  value?: unknown;
  error?: ErrorData;
  /** Set when a `cancel` reached the request before it started: it was never applied. */
  cancelled?: boolean;
  /** Set when `value` is a `{ changes, lastInsertRowid }` run result (sent as two columns). */
  run?: boolean;
}

/** Main thread → writer worker. */
export type ToWriter =
  | { t: "init"; config: ConnectionConfig; maxBatch: number; channel: SharedArrayBuffer }
  | { t: "write"; batch: RequestBatch }
  | { t: "cancel"; ids: number[] }
  /**
   * The calling thread committed transactions or lone writes of its own (see `CHECKPOINT_EVERY`
   * in writer.ts): the writer copies their WAL pages into the database file if it is idle, so
   * that the calling thread's own automatic checkpoint has little left to do. No answer.
   */
  | { t: "checkpoint" }
  | { t: "close" };

/**
 * Main thread → reader worker. A stream (`Database.iterate`): `iterate` opens a cursor on a
 * connection of its own and answers the first `chunk` rows; each `more` asks for the next chunk
 * (the main thread asks one chunk ahead, so at most two are in memory); `stop` ends it early.
 */
export type ToReader =
  | { t: "init"; config: ConnectionConfig }
  | { t: "read"; batch: RequestBatch }
  | { t: "iterate"; id: number; sql: string; params: BindParams; chunk: number }
  | { t: "more"; id: number }
  | { t: "stop"; id: number }
  | { t: "close" };

/**
 * Any worker → main thread. With answers, the writer reports what it measured since its last
 * answers message: `commits`, the requests each commit carried, and `ms`, its time on these
 * answers; `lockWaits`/`lockWaitMs`, BEGINs that waited for another process's lock. A reader
 * reports `ms`, its time on the reads. `wal` reports the WAL's size after the writer's
 * checkpoints. `txs` reports the interactive transactions committed by a group commit: every one
 * released up to `upTo` (numbered by the writer, see `transaction_group.ts`) but the failed, in
 * `commits` transactions of SQLite.
 */
export type FromWorker =
  | { t: "ready" }
  | { t: "failed"; error: ErrorData }
  | {
    t: "answers";
    batch: AnswerBatch;
    commits?: number[];
    ms?: number;
    /** From a reader: per SQL text of the batch, what its longest read took (ms). */
    costs?: Record<string, number>;
    lockWaits?: number;
    lockWaitMs?: number;
  }
  | { t: "wal"; bytes: number; largestBytes: number; checkpoints: number }
  | { t: "txs"; upTo: number; failed: Record<number, ErrorData>; commits: number }
  /** A reader's chunk of a stream: its rows, whether they were the last, or why it failed. */
  | { t: "rows"; id: number; rows: Record<string, unknown>[]; done: boolean; error?: ErrorData }
  | { t: "closed" };

// --- the column layout ----------------------------------------------------------------------

const KINDS = ["run", "get", "all", "exec", "batch", "values", "call"] as const;

/**
 * Requests, one index per request. Their numbers go in one `Float64Array`: cloning it is a copy
 * of bytes, where an array of numbers is cloned number by number (measured: a message of 128
 * answers 11–18 µs as arrays, 4.6–6 µs as one `Float64Array`).
 */
export interface RequestBatch {
  /**
   * Per request `i`, at `4 * i`: its id, its kind (index in KINDS), its SQL (index in `sqls`, or
   * -1) and how many positional values of `args` it takes (or -1: see `extra`).
   */
  head: Float64Array;
  /** Distinct SQL texts of this batch. */
  sqls: string[];
  /** Positional values of every request, one after another. */
  args: BindValue[];
  /** Named parameters, or a batch's statements, by request index. */
  extra: Record<number, unknown>;
}

/** Packs requests into columns. */
export function encodeRequests(reqs: readonly (WriteRequest | ReadRequest)[]): RequestBatch {
  const head = new Float64Array(4 * reqs.length);
  const batch: RequestBatch = { head, sqls: [], args: [], extra: {} };
  const sqlIndex = new Map<string, number>();
  for (let i = 0, at = 0; i < reqs.length; i++, at += 4) {
    const r = reqs[i];
    head[at] = r.id;
    head[at + 1] = KINDS.indexOf(r.kind);
    if ("sql" in r) {
      let k = sqlIndex.get(r.sql);
      if (k === undefined) sqlIndex.set(r.sql, k = batch.sqls.push(r.sql) - 1);
      head[at + 2] = k;
    } else {
      head[at + 2] = -1;
    }
    if ("params" in r && Array.isArray(r.params)) {
      head[at + 3] = r.params.length;
      for (const v of r.params as BindValue[]) batch.args.push(v);
    } else {
      head[at + 3] = -1;
      if ("params" in r) batch.extra[i] = r.params;
      else if ("stmts" in r) batch.extra[i] = r.stmts;
    }
  }
  return batch;
}

/** Unpacks requests from columns. */
export function decodeRequests<R extends WriteRequest | ReadRequest>(batch: RequestBatch): R[] {
  const { head } = batch;
  const reqs: R[] = [];
  let a = 0;
  for (let i = 0, at = 0; at < head.length; i++, at += 4) {
    const kind = KINDS[head[at + 1]];
    const sql = head[at + 2] >= 0 ? batch.sqls[head[at + 2]] : undefined;
    // An int, not the column's double: Bun's `slice` with a double bound takes a slow path
    // (decoding a chunk of 128 single-parameter requests: 12.4 µs with it, 3.1 µs without).
    const argc = head[at + 3] | 0;
    let params: unknown;
    if (argc >= 0) {
      params = batch.args.slice(a, a + argc);
      a += argc;
    } else if (kind !== "batch") {
      params = batch.extra[i];
    }
    const req = kind === "batch"
      ? { id: head[at], kind, stmts: batch.extra[i] }
      : sql === undefined
      ? { id: head[at], kind }
      : params === undefined
      ? { id: head[at], kind, sql }
      : { id: head[at], kind, sql, params };
    reqs.push(req as unknown as R);
  }
  return reqs;
}

/**
 * Answers, one index per answer. Their numbers go in one `Float64Array` (see
 * {@linkcode RequestBatch}).
 */
export interface AnswerBatch {
  /** How many answers. */
  count: number;
  /**
   * Per answer `i`: its id at `i`; for a run result, `changes` at `count + i` and
   * `lastInsertRowid` at `2 * count + i` (NaN there when it is a bigint: see `bigRowids`); NaN
   * at `count + i` for any other answer.
   */
  nums: Float64Array;
  /** Run results' `lastInsertRowid` that are bigints, by index. */
  bigRowids?: Record<number, bigint>;
  /** The values of answers that are neither run results nor failures, by index (if any). */
  values?: unknown[];
  errors: Record<number, ErrorData>;
  /** Indexes of requests a `cancel` stopped before they started. */
  cancelled: number[];
}

/** Packs answers into columns. */
export function encodeAnswers(answers: readonly Answer[]): AnswerBatch {
  const count = answers.length;
  const nums = new Float64Array(3 * count);
  const batch: AnswerBatch = { count, nums, errors: {}, cancelled: [] };
  for (let i = 0; i < count; i++) {
    const a = answers[i];
    nums[i] = a.id;
    nums[count + i] = NaN;
    if (a.error) batch.errors[i] = a.error;
    else if (a.cancelled) batch.cancelled.push(i);
    else if (a.run) {
      const r = a.value as { changes: number; lastInsertRowid: number | bigint };
      nums[count + i] = r.changes;
      if (typeof r.lastInsertRowid === "bigint") {
        (batch.bigRowids ??= {})[i] = r.lastInsertRowid;
        nums[2 * count + i] = NaN;
      } else {
        nums[2 * count + i] = r.lastInsertRowid;
      }
    } else if (a.value !== undefined) (batch.values ??= [])[i] = a.value;
  }
  return batch;
}

/**
 * Calls `each` with every answer of a batch, in order: its id, then its value, or its failure,
 * or `true` when a `cancel` stopped it before it started.
 */
export function decodeAnswers(
  batch: AnswerBatch,
  each: (id: number, value: unknown, error?: ErrorData, cancelled?: boolean) => void,
): void {
  const { count, nums } = batch;
  const cancelled = batch.cancelled.length ? new Set(batch.cancelled) : undefined;
  for (let i = 0; i < count; i++) {
    const id = nums[i];
    const changes = nums[count + i];
    if (changes === changes) { // not NaN: a run result
      const rowid = nums[2 * count + i];
      each(id, { changes, lastInsertRowid: rowid === rowid ? rowid : batch.bigRowids![i] });
    } else if (i in batch.errors) each(id, undefined, batch.errors[i]);
    else if (cancelled?.has(i)) each(id, undefined, undefined, true);
    else each(id, batch.values?.[i]);
  }
}
