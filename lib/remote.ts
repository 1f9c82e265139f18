/**
 * The remote engine: the same `Database` over libSQL's server (sqld), spoken to with Hrana over
 * HTTP (`_hrana.ts`). No worker: the writes waiting together go to the server as ONE request
 * (a batch: `BEGIN IMMEDIATE`, the statements, `COMMIT`), grouped and isolated by the same plan as
 * the local writer's (`group_commit.ts`); the reads waiting together share a request too.
 *
 * @module
 */

import type { Stats, Transaction } from "./types.ts";
import type { Answer, ErrorData, ReadKind, WriteRequest } from "./protocol.ts";
import type { BindParams } from "./driver.ts";
import type { Engine } from "./_engine.ts";
import type { Histograms } from "./_metrics.ts";
import { statsOf } from "./_stats.ts";
import { inOwnScope, refuseNested } from "./_tx_scope.ts";
import type { WriteBody } from "./_write_call.ts";
import { type Attempt, commitGroupAsync } from "./group_commit.ts";
import {
  type BatchResult,
  errorData,
  HranaClient,
  type HranaResult,
  type HranaStmt,
  resultOf,
  statement,
  type Step,
  type StmtResult,
} from "./_hrana.ts";
import { groupSteps, readAttempt, requestStatements } from "./_remote_steps.ts";
import { callerStack, fromErrorData, RemoteError } from "./errors.ts";
import { isBusy } from "./_sqlite_codes.ts";
import { tickTime, WriterStats } from "./_writer_stats.ts";
import { Fifo } from "./_fifo.ts";
import { runRemoteTransaction, type TransactionHost } from "./remote_transaction.ts";
import type { CheckedRemoteOptions } from "./_options.ts";

/** Reads sent in one request at most. */
const MAX_READS = 256;

/** A write call waiting for its group. */
interface Call {
  req: WriteRequest;
  at: number;
  resolve(value: unknown): void;
  reject(error: unknown): void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

/** Whether the server refused a text as it parsed it (it can never run, in any group). */
function unparsable(error: { message: string; code?: string | null }): boolean {
  switch (error.code) {
    case "SQL_PARSE_ERROR":
    case "SQL_MANY_STATEMENTS":
    case "SQL_NO_STATEMENT":
      return true;
    case "SQL_INPUT_ERROR":
      return /syntax error|incomplete input|unrecognized token/.test(error.message);
    default:
      return false;
  }
}

/** What the attempts of one group tell its calls, besides their answers. */
interface Group {
  /** Requests that got no answer, and the error they end with. */
  lost: Map<number, RemoteError>;
  /** The requests each commit carried. */
  commits: number[];
}

/** A transaction waiting for its turn in the write order; `granted` resolves with its release. */
class Turn {
  grant!: (release: () => void) => void;
  fail!: (error: unknown) => void;
  readonly granted = new Promise<() => void>((resolve, reject) => {
    this.grant = resolve;
    this.fail = reject;
  });
}

/** A read waiting for a request. */
interface ReadCall {
  kind: ReadKind;
  stmt: HranaStmt;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/** The engine of a database opened with an `http:`, `https:` or `libsql:` URL. */
export class RemoteEngine implements Engine, TransactionHost {
  readonly client: HranaClient;
  readonly safeIntegers: boolean;
  /** How long (ms) a BEGIN refused with SQLITE_BUSY is tried again. */
  readonly busyTimeout: number;
  readonly stats_: WriterStats;
  #maxBatch: number;
  #readLimit: number;
  #queue = new Fifo<Call | Turn>();
  #pumping = false;
  #txOpen = false;
  #inFlight = 0;
  #nextId = 1;
  #reads: ReadCall[] = [];
  #readRequests = 0;
  #readCount = 0;
  #readsInFlight = 0;
  #idle: (() => void)[] = [];

  private constructor(o: CheckedRemoteOptions) {
    this.client = new HranaClient(o.url, o.authToken, o.requestTimeout);
    this.safeIntegers = o.safeIntegers;
    this.busyTimeout = o.busyTimeout;
    this.#maxBatch = o.maxBatch;
    this.#readLimit = Math.max(1, o.readers);
    this.stats_ = new WriterStats(o.onCommit);
  }

  /**
   * Checks that the server answers (one `SELECT 1`) and returns the engine.
   *
   * @throws {RemoteError} The server cannot be reached or refused the request.
   */
  static async open(o: CheckedRemoteOptions): Promise<RemoteEngine> {
    const engine = new RemoteEngine(o);
    await engine.read("get", "SELECT 1", []);
    engine.#readCount = 0;
    return engine;
  }

  inOwnTransaction(): boolean {
    return inOwnScope(this);
  }

  write(body: WriteBody, signal?: AbortSignal): Promise<unknown> {
    const nested = refuseNested(this);
    if (nested) return Promise.reject(nested);
    if (body.kind === "call") {
      return Promise.reject(
        new TypeError(
          "call() runs a procedure inside the local writer worker; a remote database has none " +
            "(use db.transaction() or db.batch())",
        ),
      );
    }
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const req = body as WriteRequest;
      // Encoded once here too, so that a value JSON cannot carry fails this call alone.
      for (const s of requestStatements(req)) statement(s.sql, s.params, false);
      req.id = this.#nextId++;
      const call: Call = { req, at: tickTime(), resolve, reject };
      if (signal) {
        call.signal = signal;
        call.onAbort = () => {
          if (this.#queue.remove(call)) reject(signal.reason);
        };
        signal.addEventListener("abort", call.onAbort, { once: true });
      }
      this.#queue.push(call);
      this.#pump();
    });
  }

  /** Waits for a transaction's turn in the write order; resolves with its release. */
  acquire(signal?: AbortSignal): Promise<() => void> {
    const nested = refuseNested(this);
    if (nested) return Promise.reject(nested);
    if (signal?.aborted) return Promise.reject(signal.reason);
    const turn = new Turn();
    this.#queue.push(turn);
    if (signal) {
      const onAbort = () => {
        if (this.#queue.remove(turn)) turn.fail(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      const off = () => signal.removeEventListener("abort", onAbort);
      turn.granted.then(off, off);
    }
    this.#pump();
    return turn.granted;
  }

  transaction<T>(
    fn: (tx: Transaction) => T | Promise<T>,
    timeout: number,
    signal?: AbortSignal,
  ): Promise<T> {
    return callerStack(runRemoteTransaction(this, fn, timeout, signal));
  }

  /** Sends the waiting writes, one group at a time, and lends the writer to transactions in turn. */
  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#queue.length) {
        const head = this.#queue.shift()!;
        if (head instanceof Turn) {
          this.#txOpen = true;
          await new Promise<void>((released) => head.grant(released));
          this.#txOpen = false;
          continue;
        }
        const calls = [head];
        while (
          calls.length < this.#maxBatch && this.#queue.peek() &&
          !(this.#queue.peek() instanceof Turn)
        ) {
          calls.push(this.#queue.shift() as Call);
        }
        await this.#commit(calls).catch((error) => {
          for (const call of calls) call.reject(error); // a bug: never leave a call pending
        });
      }
    } finally {
      this.#pumping = false;
      this.#settle();
    }
  }

  /** Commits the calls as one group and settles each. */
  async #commit(calls: Call[]): Promise<void> {
    for (const call of calls) {
      if (call.onAbort) call.signal!.removeEventListener("abort", call.onAbort);
    }
    this.#inFlight = calls.length;
    const began = performance.now();
    const group: Group = { lost: new Map(), commits: [] };
    const answers = await commitGroupAsync(
      calls.map((c) => c.req),
      (reqs) => this.#attempt(reqs, group),
    );
    this.#inFlight = 0;
    let failed = 0;
    const c = this.stats_.counters;
    for (let i = 0; i < calls.length; i++) {
      const call = calls[i];
      const answer = answers[i];
      this.stats_.writeLatency.add(tickTime() - call.at);
      if (!answer.error) {
        call.resolve(answer.value);
        continue;
      }
      failed++;
      c.failures++;
      if (isBusy(answer.error.code)) c.busyFailures++;
      call.reject(group.lost.get(call.req.id) ?? fromErrorData(answer.error));
    }
    if (group.commits.length) {
      this.stats_.countGroup(group.commits, failed, performance.now() - began);
    }
  }

  /**
   * One attempt of the plan: `reqs` in one transaction, sent as one batch. A statement the
   * server refuses to parse makes it refuse the whole batch before running any of it: then the
   * culprits are found with `describe` (or, failing that, each request is tried alone).
   */
  async #attempt(reqs: WriteRequest[], group: Group): Promise<Attempt> {
    const { steps, spans } = groupSteps(reqs);
    const started = performance.now();
    try {
      for (let wait = 5;; wait = Math.min(wait * 2, 100)) {
        const result = await this.#batch(steps);
        if (result.type === "error") return await this.#isolate(reqs, result.error, group);
        const begin = result.result.step_errors[0];
        if (
          begin && isBusy(errorData(begin).code) &&
          performance.now() - started < this.busyTimeout
        ) {
          await new Promise((r) => setTimeout(r, wait));
          continue;
        }
        const attempt = readAttempt(reqs, spans, result.result, this.safeIntegers);
        const applied = attempt.done.filter((a) => !a.error).length;
        if (attempt.failedAt < 0 && !attempt.commitFailed && applied) group.commits.push(applied);
        return attempt;
      }
    } catch (error) {
      if (!(error instanceof RemoteError)) throw error;
      // No answer: these requests end with the error (applied or not, as it says).
      for (const req of reqs) group.lost.set(req.id, error);
      const data: ErrorData = { name: "Error", message: error.message };
      return { done: reqs.map((r) => ({ id: r.id, error: data })), failedAt: -1 };
    }
  }

  /** Sends one batch on a new stream, closed after it. */
  async #batch(steps: Step[]): Promise<
    { type: "ok"; result: BatchResult } | {
      type: "error";
      error: { message: string; code?: string | null };
    }
  > {
    const { results } = await this.client.pipeline([{ type: "batch", batch: { steps } }, {
      type: "close",
    }]);
    const r = results[0];
    if (r.type === "error") return r;
    return { type: "ok", result: (r.response as { result: BatchResult }).result };
  }

  /** A batch the server refused as a whole: fails its culprits alone, runs the rest. */
  async #isolate(
    reqs: WriteRequest[],
    refusal: { message: string; code?: string | null },
    group: Group,
  ): Promise<Attempt> {
    const fail = (req: WriteRequest, e = refusal): Answer => ({ id: req.id, error: errorData(e) });
    if (reqs.length === 1) return { done: [fail(reqs[0])], failedAt: -1 };
    const texts = [...new Set(reqs.flatMap((r) => requestStatements(r).map((s) => s.sql)))];
    const { results } = await this.client.pipeline([
      ...texts.map((sql) => ({ type: "describe", sql })) as never[],
      { type: "close" },
    ]);
    const refused = new Map<string, { message: string; code?: string | null }>();
    texts.forEach((sql, i) => {
      const r = results[i] as HranaResult;
      // What the server refuses to parse; an error SQLite raises as it prepares (no such
      // table…) may hold only out of the group, where an earlier request did not run.
      if (r.type === "error" && unparsable(r.error)) refused.set(sql, r.error);
    });
    const culprit = (r: WriteRequest) =>
      requestStatements(r).map((s) => refused.get(s.sql)).find((e) => e !== undefined);
    const rest = reqs.filter((r) => !culprit(r));
    if (rest.length === reqs.length) {
      // Not found: each request alone (each commits by itself, and fails alone).
      const done: Answer[] = [];
      for (const req of reqs) {
        const one = await this.#attempt([req], group);
        done.push(one.done[0]);
      }
      return { done, failedAt: -1 };
    }
    // The culprits fail (they never ran); the attempt of the rest says how the others went.
    const inner: Attempt = rest.length
      ? await this.#attempt(rest, group)
      : { done: [], failedAt: -1 };
    const answers = new Map(inner.done.map((a) => [a.id, a]));
    const done: Answer[] = [];
    for (const req of reqs) {
      const e = culprit(req);
      const answer = e
        ? fail(req, e)
        : inner.commitFailed
        ? { ...inner.done[0], id: req.id }
        : answers.get(req.id);
      if (!answer) break; // past the request that rolled the transaction back
      done.push(answer);
    }
    if (inner.commitFailed) return { done, failedAt: -1, commitFailed: true };
    const failedAt = inner.failedAt < 0 ? -1 : reqs.indexOf(rest[inner.failedAt]);
    return { done: failedAt < 0 ? done : done.slice(0, failedAt + 1), failedAt };
  }

  read(kind: ReadKind, sql: string, params: BindParams): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.#reads.push({ kind, stmt: statement(sql, params, true), resolve, reject });
      this.#readCount++;
      this.#sendReads();
    });
  }

  /**
   * A read's rows in chunks: sqld answers a request whole, so they are read at once, then handed
   * out `chunk` at a time (memory is not bounded as on a local database).
   */
  async *iterate<T>(
    sql: string,
    params: BindParams,
    chunk: number,
    signal?: AbortSignal,
  ): AsyncGenerator<T, void, undefined> {
    signal?.throwIfAborted();
    const rows = await this.read("all", sql, params) as T[];
    for (let i = 0; i < rows.length; i += chunk) {
      signal?.throwIfAborted();
      yield* rows.slice(i, i + chunk);
    }
  }

  /** Sends the waiting reads as one request, while fewer than `readers` are out. */
  #sendReads(): void {
    while (this.#reads.length && this.#readRequests < this.#readLimit) {
      const reads = this.#reads.splice(0, MAX_READS);
      this.#readRequests++;
      this.#readsInFlight += reads.length;
      this.#readBatch(reads).then((answers) => {
        this.#readRequests--;
        this.#readsInFlight -= reads.length;
        this.#sendReads();
        this.#settle();
        reads.forEach((r, i) => {
          const answer = answers[i];
          if ("error" in answer) return r.reject(answer.error);
          try {
            r.resolve(resultOf(r.kind, answer.result, this.safeIntegers));
          } catch (error) {
            r.reject(error); // an integer beyond 2^53 without safeIntegers
          }
        });
      });
    }
  }

  /**
   * Runs reads as the steps of one batch, each on its own (a batch of N steps costs the server a
   * fraction of N requests). If the server refuses the batch as a whole (a statement it cannot
   * parse), they go again as requests of their own, so that each fails alone.
   */
  async #readBatch(reads: ReadCall[]): Promise<({ result: StmtResult } | { error: unknown })[]> {
    try {
      const batch = await this.#batch(reads.map((r) => ({ stmt: r.stmt })));
      if (batch.type === "ok") {
        const { step_results: results, step_errors: errors } = batch.result;
        return reads.map((_, i) =>
          errors[i] ? { error: fromErrorData(errorData(errors[i]!)) } : { result: results[i]! }
        );
      }
      const { results } = await this.client.pipeline([
        ...reads.map((r) => ({ type: "execute" as const, stmt: r.stmt })),
        { type: "close" },
      ]);
      return results.slice(0, reads.length).map((r: HranaResult) =>
        r.type === "error"
          ? { error: fromErrorData(errorData(r.error)) }
          : { result: (r.response as { result: StmtResult }).result }
      );
    } catch (error) {
      return reads.map(() => ({ error }));
    }
  }

  backup(): Promise<void> {
    return Promise.reject(
      new TypeError(
        "backup() copies a local database file; a remote database is the server's to back up " +
          "(sqld: copy its --db-path while it is stopped, or use its bottomless replication)",
      ),
    );
  }

  histograms(): Histograms {
    return this.stats_;
  }

  stats(): Stats {
    return statsOf(
      { stats: this.stats_, queued: this.#queue.length, inFlight: this.#inFlight },
      {
        reads: this.#readCount,
        inlineReads: 0,
        outstanding: this.#readsInFlight,
        count: this.#readLimit,
        restarts: 0,
        busyFailures: 0, // counted with the writes' (the engine's own counters)
        utilisation: () => [],
      },
    );
  }

  #settle(): void {
    if (this.#queue.length || this.#pumping || this.#txOpen || this.#readRequests) return;
    for (const resolve of this.#idle.splice(0)) resolve();
  }

  /** Resolves once every accepted write and read has been answered. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#idle.push(resolve);
      this.#settle();
    });
  }
}
