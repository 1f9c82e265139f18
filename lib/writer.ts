// The main thread's side of the single writer: request ids, FIFO order, backpressure at
// maxQueue, aborts, the turn of an interactive transaction in the write order (a lease of the
// writer's transaction channel), and a writer that is started again if it dies.

import type { ConnectionConfig, ErrorData, FromWorker, WriteRequest } from "./protocol.ts";
import { WorkerClient } from "./_worker_client.ts";
import { Fifo } from "./_fifo.ts";
import { IdTable } from "./_id_table.ts";
import { ClosedError, fromErrorData, madeOnArrival, WorkerError } from "./errors.ts";
import type { CommitEvent } from "./types.ts";
import { tickTime, WriterStats } from "./_writer_stats.ts";
import { SinceTurn } from "./_since_turn.ts";
import { type CallOwner, type Lease, Ticket, type WriteBody, WriteCall } from "./_write_call.ts";
import { channelBuffer, TxCaller } from "./_tx_channel.ts";
import { inOwnScope, refuseNested } from "./_tx_scope.ts";
import { Connection } from "./_connection.ts";
import { execute, rollbackQuietly } from "./group_commit.ts";
import { isBusy } from "./_sqlite_codes.ts";
import { toErrorData } from "./errors.ts";
import { learnCost } from "./_costs.ts";
import { InlineGroup } from "./_inline_group.ts";

/**
 * The writes that may run alone on the calling thread: plain INSERT, UPDATE, DELETE, REPLACE
 * (or a WITH … before one). A statement that changes the connection itself (a PRAGMA, a TEMP
 * table) or the schema runs on the writer, whose connection the rest of the writes share.
 */
const PLAIN_DML = /^\s*(?:INSERT|UPDATE|DELETE|REPLACE|WITH)\b(?![\s\S]*\bTEMP(?:ORARY)?\b)/i;

/** Milliseconds of transactions the calling thread runs back to back before it yields once. */
const BURST_MS = 2;
/**
 * A transaction runs on the calling thread only if each of its statements is known to take less
 * than this (ms): the longest it may hold the event loop per statement.
 */
const INLINE_TX_MS = 1;

/**
 * Commits on the calling thread's connection (transactions and lone writes) between two of the
 * writer's background checkpoints. SQLite's automatic checkpoint (at 1000 WAL pages, here 4000:
 * INLINE_CHECKPOINT_FACTOR) runs in the COMMIT that reaches it, on the calling thread; the writer,
 * idle meanwhile, copies most of those pages into the database file before then, so that the
 * automatic one copies only the rest and restarts the WAL.
 */
const CHECKPOINT_EVERY = 64;
/**
 * The calling thread's connection runs SQLite's automatic checkpoint at this many times the usual
 * number of WAL pages (1000 unless a `wal_autocheckpoint` pragma says otherwise): the writer has
 * copied most of them by then, so the calling thread's checkpoint copies the rest and restarts the
 * WAL a quarter as often, each time paying for two fsyncs rather than for the copying.
 */
const INLINE_CHECKPOINT_FACTOR = 4;

export class Writer implements CallOwner {
  #client!: WorkerClient<WriteRequest>;
  #config: ConnectionConfig;
  #maxBatch: number;
  #maxQueue: number;
  #queue = new Fifo<WriteCall | Ticket>();
  #sent = 0; // grouped requests sent to the worker and not answered
  #txOpen = false; // a transaction holds the writer (from its turn until COMMIT/ROLLBACK is sent)
  #txEnding = 0; // transactions whose COMMIT/ROLLBACK is not answered yet
  #channel!: TxCaller;
  #generation = 0; // counts writer workers: a transaction belongs to the one that began it
  #nextId = 1;
  #starting: Promise<void> | undefined;
  #closing = false;
  #broken: Error | undefined;
  #idle: (() => void)[] = [];
  /** Its counters and latencies (see `_writer_stats.ts`). */
  readonly stats: WriterStats;

  private constructor(
    config: ConnectionConfig,
    maxBatch: number,
    maxQueue: number,
    onCommit?: (event: CommitEvent) => void,
  ) {
    this.#config = config;
    this.#maxBatch = maxBatch;
    this.#maxQueue = maxQueue;
    this.stats = new WriterStats(onCommit);
  }

  /** Starts the writer worker; rejects with the reason when the database cannot be opened. */
  static async start(
    config: ConnectionConfig,
    maxBatch: number,
    maxQueue: number,
    onCommit?: (event: CommitEvent) => void,
    routeTransactions: "adaptive" | "writer" = "adaptive",
  ): Promise<Writer> {
    const writer = new Writer(config, maxBatch, maxQueue, onCommit);
    writer.#adaptive = routeTransactions === "adaptive";
    await writer.#spawn();
    await writer.#openInline(); // while the writer is idle (else at a later transaction)
    return writer;
  }

  /** Whether transactions may run on this thread (`routeTransactions: "adaptive"`). */
  #adaptive = true;

  async #spawn(): Promise<void> {
    const channel = channelBuffer();
    this.#channel = new TxCaller(channel);
    this.#client = await WorkerClient.start<WriteRequest>(
      "writer",
      { t: "init", config: this.#config, maxBatch: this.#maxBatch, channel },
      (message) => this.#answered(message),
      () => this.#died(),
    );
    const caller = this.#channel;
    this.#client.beforeTerminate = () => caller.stop();
    this.#client.afterPost = () => caller.posted();
  }

  /** Requests waiting to be sent (for room, or for a transaction to end). */
  get queued(): number {
    return this.#queue.length;
  }

  /** Requests sent to the worker and not yet answered. */
  get inFlight(): number {
    return this.#sent;
  }

  /** The worker, for tests that need to stop it as a crash would. */
  get client(): WorkerClient<WriteRequest> {
    return this.#client;
  }

  /** Whether the caller runs inside an open transaction callback of this writer. */
  inOwnTransaction(): boolean {
    return inOwnScope(this);
  }

  /**
   * A transaction's turn in the write order: every write queued before it has been answered,
   * and the writer is lent to it alone until it releases the lease. The lease itself when the
   * turn has already come (nothing queued, the writer free), else a promise of it.
   */
  acquire(signal?: AbortSignal): Lease | Promise<Lease> {
    const nested = refuseNested(this);
    if (nested) return Promise.reject(nested);
    if (this.#broken) return Promise.reject(this.#broken);
    if (signal?.aborted) return Promise.reject(signal.reason);
    this.#flushAlone(); // a write made before it, waiting for the end of its tick, goes first
    // Its turn already: lent at once, with no promise to wait for.
    if (this.#queue.length === 0 && this.#mayLend()) return this.#lease(0);
    const ticket = new Ticket();
    this.#queue.push(ticket);
    if (signal) {
      const onAbort = () => {
        if (this.#queue.remove(ticket)) {
          ticket.fail(signal.reason);
          this.#settle();
        }
      };
      signal.addEventListener("abort", onAbort, { once: true });
      ticket.granted.then(
        () => signal.removeEventListener("abort", onAbort),
        () => signal.removeEventListener("abort", onAbort),
      );
    }
    this.#pump();
    return ticket.granted;
  }

  /**
   * Per first statement (what a kind of transaction is known by), the dearest statement of its
   * transactions (ms, a moving average), measured where they ran.
   */
  #txCosts = new Map<string, number>();

  /**
   * Notes what the dearest statement of a transaction that began with `first` took (ms). A
   * moving average in which one sample counts for a few times the average at most (see
   * learnCost): one slow run (a collection, a checkpoint in its COMMIT, the writer's answer
   * delayed behind other work) no longer sends the kind to the writer, where every transaction
   * of it then held the writer across the event loop (measured: queueWait p99 25 -> 10 ms in the
   * HTTP service); a kind that is dear run after run still goes there within a few runs.
   */
  learnTransaction(first: string, ms: number): void {
    learnCost(this.#txCosts, first, ms);
  }

  /**
   * Whether a transaction beginning with `first` may run on this thread: one whose statements
   * are known to take less than INLINE_TX_MS each (a kind not seen yet goes to the writer).
   */
  cheapTransaction(first: string): boolean {
    const ms = this.#txCosts.get(first);
    return ms !== undefined && ms < INLINE_TX_MS;
  }

  /**
   * This thread's write connection while nothing runs on it (no transaction open, no write
   * waiting to run there): reads may use it meanwhile (see `Readers.share`).
   */
  idleConnection(): Connection | undefined {
    const conn = this.#inline;
    return conn && !this.#alone &&
        (conn.unchanged || !conn.inTransaction() || this.#group!.between)
      ? conn
      : undefined;
  }

  /**
   * The calling thread's group of transactions while what they wrote is not committed: a read
   * on `idleConnection()` then waits for its COMMIT before it answers (see InlineGroup.deliver).
   */
  uncommitted(): InlineGroup | undefined {
    const group = this.#group;
    return group?.open && !group.conn.unchanged ? group : undefined;
  }

  /** A transaction committed on this thread's connection. */
  committedHere(): void {
    this.stats.counters.transactionCommits++;
    this.#hintCheckpoint();
  }

  #commitsHere = 0;

  /** Counts a commit on this thread's connection; every CHECKPOINT_EVERY, hints the writer. */
  #hintCheckpoint(): void {
    if (++this.#commitsHere % CHECKPOINT_EVERY === 0) this.#client.hint({ t: "checkpoint" });
  }

  /** This thread's write connection for transactions it runs itself (see `#openInline`). */
  #inline: Connection | undefined;
  /** Its transactions of one turn, committed together (see `_inline_group.ts`). */
  #group: InlineGroup | undefined;

  /**
   * Commits the calling thread's group of transactions now, before something else needs the
   * write lock (the writer, a lone write, close) or a transaction that runs on the writer begins.
   */
  flushInline(): void {
    this.#group?.flush();
  }
  /** When opening it may be tried (again): it fails if the lock is taken at that moment. */
  #inlineRetryAt = 0;

  /**
   * Opens, in the background, a write connection on this thread: while the writer is idle, a
   * transaction's turn can then be taken here, its statements run synchronously as with the raw
   * binding instead of a thread hand-off each. It never waits for a lock (busy_timeout 0: a
   * transaction that finds the lock taken goes to the writer instead). Only with durability
   * "normal": a COMMIT here waits for no fsync, except when it runs SQLite's own automatic
   * checkpoint (here every 4000 pages of WAL, see INLINE_CHECKPOINT_FACTOR). The writer copies
   * pages in the background meanwhile (CHECKPOINT_EVERY), but only a checkpoint with no commit
   * running beside it can finish the WAL and let it restart: measured, the writer's alone never
   * catches up with the commits made meanwhile here, and the WAL grows without end.
   */
  #openInline(): Promise<void> | undefined {
    if (this.#inline || !this.#adaptive || this.#config.durability !== "normal") return;
    const now = performance.now();
    if (now < this.#inlineRetryAt) return;
    this.#inlineRetryAt = Infinity; // while it opens
    const config = {
      ...this.#config,
      busyTimeout: 0,
      second: true,
    };
    return Connection.open(config).then((conn) => {
      try {
        const pages = Number(conn.get("PRAGMA wal_autocheckpoint", [])?.wal_autocheckpoint);
        if (pages > 0) conn.exec(`PRAGMA wal_autocheckpoint = ${pages * INLINE_CHECKPOINT_FACTOR}`);
      } catch { /* it keeps SQLite's threshold */ }
      if (this.#closing) conn.close();
      else {
        this.#inline = conn;
        this.#group = new InlineGroup(conn, () => this.committedHere());
      }
    }, () => {
      // Transactions keep going to the writer; try again in a while.
      this.#inlineRetryAt = performance.now() + 1000;
    });
  }

  #lend(ticket: Ticket): void {
    ticket.grant(this.#lease(tickTime() - ticket.at));
  }

  /** Lends the writer to a transaction that waited `waited` ms for its turn. */
  #lease(waited: number): Lease {
    this.stats.queueWait.add(waited);
    this.#txOpen = true;
    this.stats.counters.transactions++;
    const generation = this.#generation;
    const unretain = this.#client.retain();
    let released = false;
    this.#openInline();
    const turn = this.#sinceTurn.turns;
    this.#lentAt = performance.now();
    return {
      channel: this.#channel,
      token: ++this.#leases,
      generation,
      // Nothing is in flight (see #pump); no transaction of the writer's group is uncommitted.
      inline: this.#txEnding === 0 && (this.#group?.open || !this.#inline?.inTransaction())
        ? this.#group
        : undefined,
      release: (done) => {
        if (released) return;
        released = true;
        // Held across a turn: counted in none (the event loop was not starved meanwhile).
        if (turn === this.#sinceTurn.turns) this.#sinceTurn.add(performance.now() - this.#lentAt);
        // If the worker died meanwhile, its successor may already be lent to another.
        if (generation === this.#generation) this.#txOpen = false;
        if (!done) {
          unretain();
          this.#pump();
          this.#settle();
          return;
        }
        this.#txEnding++;
        this.#pump();
        const ended = () => {
          this.#txEnding--;
          unretain();
          this.#pump();
          this.#settle();
        };
        done.then(ended, ended);
      },
    };
  }

  /** Queues a write in call order; resolves with its result after the commit that holds it. */
  request(body: WriteBody, signal?: AbortSignal): Promise<unknown> {
    const nested = refuseNested(this);
    if (nested) return Promise.reject(nested);
    if (this.#broken) return Promise.reject(this.#broken);
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      // The body is a fresh object made by the caller: it becomes the request as it is.
      const req = body as WriteRequest;
      req.id = this.#nextId++;
      const call = new WriteCall(this, req, resolve, reject, signal);
      if (this.#mayRunHere(req)) {
        // Alone so far: at the end of this tick, it runs here if it still is (see #runAlone).
        this.#alone = call;
        queueMicrotask(() => this.#runAlone());
        return;
      }
      this.#flushAlone(); // not alone after all: it goes to the writer first, with the others
      this.#queue.push(call);
      this.#pump();
    });
  }

  /** A write waiting for the end of its tick to run on this thread, if no other comes. */
  #alone: WriteCall | undefined;

  /** Queues the write that was alone so far, ahead of what comes after it. */
  #flushAlone(): void {
    if (!this.#alone) return;
    this.#queue.push(this.#alone);
    this.#alone = undefined;
  }
  /** Per SQL text of a write, what one took (ms, a moving average), measured where it ran. */
  #writeCosts = new Map<string, number>();

  #learnWrite(sql: string, ms: number): void {
    learnCost(this.#writeCosts, sql, ms);
  }

  /**
   * Whether a write may run on this thread's write connection (routeTransactions: "adaptive"):
   * the writer has nothing in flight or waiting, and writes of its SQL text are known to take
   * under INLINE_TX_MS (as measured where they ran, the hand-off to the writer included).
   */
  #mayRunHere(req: WriteRequest): boolean {
    const sql = this.#sqlOf(req);
    if (
      !this.#inline || this.#alone || this.#queue.length || this.#sent || this.#txOpen ||
      this.#txEnding || sql === undefined || !PLAIN_DML.test(sql) || this.#inline.inTransaction()
    ) {
      return false;
    }
    const ms = this.#writeCosts.get(sql);
    return ms !== undefined && ms < INLINE_TX_MS;
  }

  /** The SQL text a write is known by (its cost), if it has one. */
  #sqlOf(req: WriteRequest): string | undefined {
    return req.kind === "batch" || req.kind === "call" ? undefined : req.sql;
  }

  /**
   * Runs the write that was alone in its tick on this thread's connection, in a transaction of
   * its own, as the raw binding would (a group of one: its failure fails it alone, and a
   * statement that fails with OR FAIL keeps what it changed, as on the writer). If the writer
   * got work meanwhile, or another process holds the lock, the write goes to the writer.
   */
  #runAlone(): void {
    const call = this.#alone;
    this.#alone = undefined;
    if (!call) return;
    const conn = this.#inline!;
    const toWriter = () => {
      this.#queue.push(call);
      this.#pump();
    };
    if (
      this.#queue.length || this.#sent || this.#txOpen || this.#txEnding || this.#group?.open
    ) {
      return toWriter();
    }
    const began = performance.now();
    try {
      conn.begin();
    } catch (error) {
      if (isBusy(conn.driver.errorInfo(error)?.code)) return toWriter();
      call.fail(fromErrorData(toErrorData(error, conn.driver)));
      return this.#settle();
    }
    let value: unknown;
    let failure: unknown;
    try {
      value = execute(conn, call.req);
    } catch (error) {
      failure = error;
    }
    try {
      if (conn.inTransaction()) conn.exec("COMMIT");
    } catch (error) {
      rollbackQuietly(conn);
      failure ??= error;
    }
    const ms = performance.now() - began;
    this.#learnWrite(this.#sqlOf(call.req)!, ms);
    const c = this.stats.counters;
    c.inlineWrites++;
    this.stats.writeLatency.add(tickTime() - call.at);
    if (failure === undefined) {
      this.#hintCheckpoint();
      this.stats.countGroup([1], 0, ms);
      call.done(value);
    } else {
      c.failures++;
      const error = fromErrorData(toErrorData(failure, conn.driver));
      if (isBusy((error as { code?: string }).code)) c.busyFailures++;
      call.fail(error);
    }
    this.#settle();
  }

  /** An abort signal fired: a queued call ends here, a sent one is cancelled if still in time. */
  abort(call: WriteCall): void {
    if (call === this.#alone) {
      this.#alone = undefined;
      call.fail(call.signal!.reason);
      this.#settle();
    } else if (this.#queue.remove(call)) {
      call.fail(call.signal!.reason);
      this.#settle();
    } else {
      this.#client.cancel(call.req.id);
    }
  }

  /** A sent call was answered (or rejected because its worker stopped). */
  answered(call: WriteCall, outcome: "done" | "failed" | "cancelled"): void {
    this.#sent--;
    if (outcome === "failed") this.stats.counters.failures++;
    if (outcome !== "cancelled") {
      const ms = tickTime() - call.at;
      this.stats.writeLatency.add(ms);
      const sql = this.#inline && this.#sqlOf(call.req);
      if (sql) this.#learnWrite(sql, ms);
    }
    this.#pump();
    this.#settle();
  }

  /**
   * Milliseconds the writer was lent to transactions since the event loop last turned (counted
   * when each is released; a transaction waiting for the turn is lent then), and when the one
   * lent now was lent.
   */
  #sinceTurn = new SinceTurn(() => this.#pump());
  #lentAt = 0;

  /**
   * Whether a transaction may begin in this task. Transactions run back to back in one task
   * (each answered synchronously) would starve the event loop (timers, I/O, other requests):
   * after BURST_MS of them, the next waits for the event loop to turn once. What counts is the
   * time they held the writer, not the time since the turn: in a busy server one turn of the
   * event loop handles many requests, the transactions among them a small part of it (counting
   * the turn's whole time sent most of them to wait for the next turn, at 10 % writes).
   */
  #mayLendNow(): boolean {
    this.#sinceTurn.watch();
    return this.#sinceTurn.ms < BURST_MS;
  }

  /** Whether a transaction whose turn it is may be lent the writer now. */
  #mayLend(): boolean {
    // With this thread's connection at hand, wait for the writer's group of transactions to
    // commit (it does at once when no other joins), then run the next one here.
    return !this.#txOpen && this.#client.alive && this.#sent === 0 &&
      !(this.#txEnding > 0 && this.#inline) && this.#mayLendNow();
  }

  /**
   * Sends queued requests while there is room and no transaction holds the writer; lends the
   * writer to a transaction whose turn it is once everything sent before it is answered.
   */
  #pump(): void {
    while (!this.#txOpen && this.#queue.length && this.#client.alive) {
      const head = this.#queue.peek()!;
      if (head instanceof Ticket) {
        if (!this.#mayLend()) return;
        this.#queue.shift();
        this.#lend(head);
        return;
      }
      if (this.#sent >= this.#maxQueue) return;
      this.#queue.shift();
      this.stats.queueWait.add(tickTime() - head.at);
      this.#sent++;
      this.#group?.flush(); // the writer's BEGIN would wait for it
      this.#client.send(head.req, head);
    }
  }

  #answered(message: Extract<FromWorker, { t: "answers" | "wal" | "txs" }>): void {
    if (message.t !== "txs") return this.stats.report(message);
    this.stats.counters.transactionCommits += message.commits;
    this.#groupCommitted(message.upTo, message.failed);
  }

  /** Leases given out (each transaction's token). */
  #leases = 0;
  /** Interactive transactions released into the writer's group, by number, until it commits. */
  #awaitingCommit = new IdTable<{ resolve(): void; reject(error: Error): void }>();
  /** What the writer reported so far: every number up to this was committed but the failed. */
  #reportedUpTo = 0;
  /** Failures reported for numbers whose transaction had not asked yet. */
  #unclaimed: Record<number, ErrorData> = {};

  /**
   * Resolves once the group holding the transaction the writer (of `generation`) numbered `seq`
   * committed. The report may come before the question: then it settles at once.
   */
  committedAs(generation: number, seq: number): Promise<void> {
    if (generation !== this.#generation) {
      return Promise.reject(this.#stoppedBeforeReport());
    }
    if (seq <= this.#reportedUpTo) {
      const failed = this.#unclaimed[seq];
      delete this.#unclaimed[seq];
      return failed ? Promise.reject(fromErrorData(failed)) : Promise.resolve();
    }
    return new Promise((resolve, reject) => this.#awaitingCommit.set(seq, { resolve, reject }));
  }

  #groupCommitted(upTo: number, failed: Record<number, ErrorData>): void {
    for (let seq = this.#reportedUpTo + 1; seq <= upTo; seq++) {
      const waiter = this.#awaitingCommit.get(seq);
      if (!waiter) {
        if (failed[seq]) this.#unclaimed[seq] = failed[seq];
        continue;
      }
      this.#awaitingCommit.delete(seq);
      if (failed[seq]) waiter.reject(fromErrorData(failed[seq]));
      else waiter.resolve();
    }
    this.#reportedUpTo = Math.max(this.#reportedUpTo, upTo);
  }

  #stoppedBeforeReport(): WorkerError {
    return madeOnArrival(
      new WorkerError(
        "The writer worker stopped before it reported this transaction committed; it may " +
          "have been applied",
        true,
      ),
    );
  }

  /** Tells the onCommit hook about an interactive transaction that committed. */
  committed(event: CommitEvent): void {
    this.stats.notify(event);
  }

  #settle(): void {
    if (this.#alone || this.#queue.length || this.#sent || this.#txOpen || this.#txEnding) return;
    for (const resolve of this.#idle.splice(0)) resolve();
  }

  /** Resolves once every accepted write has been answered. */
  drained(): Promise<void> {
    return new Promise((resolve) => {
      this.#idle.push(resolve);
      this.#settle();
    });
  }

  #died(): void {
    // Requests the worker held were rejected by the client; an open transaction is gone, and so
    // is the group of those released and not yet committed (the worker's numbering starts over).
    for (const [, waiter] of this.#awaitingCommit.entries()) {
      waiter.reject(this.#stoppedBeforeReport());
    }
    this.#awaitingCommit.clear();
    this.#reportedUpTo = 0;
    this.#unclaimed = {};
    this.#channel.fail(
      madeOnArrival(
        new WorkerError("The writer worker stopped during this transaction; it was not committed"),
      ),
    );
    this.#txOpen = false;
    this.#generation++;
    if (this.#closing) {
      this.#failQueued(new ClosedError("Database closed after its writer worker stopped"));
      return;
    }
    this.stats.counters.restarts++;
    this.#starting = this.#spawn().then(() => this.#pump(), (error) => {
      this.#broken = new WorkerError(`The writer worker could not be restarted: ${error.message}`);
      this.#failQueued(this.#broken);
    }).finally(() => {
      this.#starting = undefined;
    });
  }

  #failQueued(error: Error): void {
    for (const item of this.#queue.drain()) item.fail(error);
    this.#settle();
  }

  /** Commits everything accepted, then closes the connection and ends the worker. */
  async close(): Promise<void> {
    await this.drained();
    await this.#starting;
    this.#closing = true;
    this.#group?.flush();
    this.#inline?.close();
    this.#inline = undefined;
    this.#group = undefined;
    await this.#client.close();
  }
}
