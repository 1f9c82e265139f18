// Group commit on the calling thread: its transactions that run back to back within one turn of
// the event loop (an HTTP server's requests handled in one poll of its sockets) share one SQLite
// transaction, each in a SAVEPOINT of its own, and one COMMIT at the end of the turn. Each
// transaction resolves only after that COMMIT. The COMMIT is the dearer half of a small
// transaction (measured with the raw binding, a read-then-write transaction: 42 µs committed
// alone, 30 in twos, 17 in eights), and a busy server runs several per turn (8–10 at 16k req/s).
//
// Grouping makes a transaction wait for the end of the turn; one caller awaiting one transaction
// after another would wait every time for nothing to join. So it is adaptive: a group that only
// ever gets one member stops it (transactions then commit at once, as the raw binding's do), and
// one transaction in PROBE_EVERY tries again.
//
// Failures stay with the transaction that caused them, as in the writer's group
// (transaction_group.ts): one that fails or rolls back undoes its own savepoint; when SQLite rolls
// the whole transaction back, or the COMMIT fails, the transactions released before are replayed,
// each in a transaction of its own, and committed if every statement gives the same answer again
// (else they fail with SQLITE_ABORT_ROLLBACK, nothing of them applied).
//
// Reads that run on this connection between members (it keeps their pages cached) see what the
// released members wrote: they are answered after the COMMIT, or run again if the group did not
// commit as it was (`deliver`).

import type { Answer, TxBody } from "./protocol.ts";
import type { Connection } from "./_connection.ts";
import { execute, rollbackQuietly } from "./group_commit.ts";
import {
  lostError,
  outcomeOf,
  RELEASE,
  REPLAYED_DIFFERENTLY,
  replays,
  SAVEPOINT,
  UNDO,
} from "./transaction_group.ts";
import { fromErrorData, toErrorData } from "./errors.ts";
import { nextTurn } from "./_runtime.ts";

/** Transactions a group holds at most; the one that fills it commits it. */
const MAX_MEMBERS = 64;
/** While not grouping, one transaction in this many waits for the end of its turn (a probe). */
const PROBE_EVERY = 16;
/** Groups of one member in a row that stop grouping. */
const ALONE_TO_STOP = 4;

/** The failure of a member that could not go on after the group committed around it. */
const LOST_AROUND = lostError(
  "The transaction was rolled back: it was still open at the end of the event loop's turn, the " +
    "transactions before it were committed, and replaying its statements gave different results. " +
    "Nothing of it was applied; it can be retried",
);

/** A read that saw the group's uncommitted transactions, answered once they are committed. */
interface Read {
  value: unknown;
  rerun(): unknown;
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/** A transaction released into the group: its statements with their answers, and its promise. */
interface Member {
  log: [TxBody, string][];
  resolve(): void;
  reject(error: Error): void;
}

/** The transactions of one turn on the calling thread's write connection, committed together. */
export class InlineGroup {
  readonly conn: Connection;
  readonly #committed: () => void;
  /** Whether its SQLite transaction is open (BEGIN IMMEDIATE run, no COMMIT yet). */
  #open = false;
  /** Whether the open transaction waits for the end of the turn (else it is one member's own). */
  #grouped = false;
  /** Whether a member runs (joined, not ended). */
  #running = false;
  /** The running member's statements (grouped only). */
  #log: [TxBody, string][] = [];
  #members: Member[] = [];
  #reads: Read[] = [];
  /** The end of the turn came while a member ran: the group commits when it ends. */
  #due = false;
  /** The running member could not go on after the group committed around it (see `#around`). */
  #runningLost = false;
  /** Whether transactions wait for the end of the turn, and what decides it. */
  #grouping = false;
  #untilProbe = PROBE_EVERY;
  #alone = 0;

  /** `committed` is called after each COMMIT that succeeded. */
  constructor(conn: Connection, committed: () => void) {
    this.conn = conn;
    this.#committed = committed;
  }

  /** Whether its transaction is open (the connection's write lock is held). */
  get open(): boolean {
    return this.#open;
  }

  /**
   * Whether it is open with no member running: what a read on its connection sees then is what
   * the released members wrote, which commits at the end of the turn (see `deliver`).
   */
  get between(): boolean {
    return this.#open && !this.#running;
  }

  /**
   * Answers a read run on the connection between members (`value`) once the group has committed
   * what it saw. Should the group not commit as it was (a member rolled everything back, or the
   * COMMIT failed), the read runs again (`rerun`) after the replay and answers what it gives
   * then. So a read answers only what is committed, and its page cache stays warm: the read-only
   * connection's is emptied at every commit, which a group of every turn made most reads of an
   * HTTP service pay for (measured: fewer requests/s than committing each transaction alone).
   */
  deliver(value: unknown, rerun: () => unknown): Promise<unknown> {
    const { promise, resolve, reject } = Promise.withResolvers<unknown>();
    this.#reads.push({ value, rerun, resolve, reject });
    return promise;
  }

  /**
   * Begins a member: BEGIN IMMEDIATE if no transaction is open (throws what it throws: the caller
   * tells a lock held elsewhere from other errors), then its SAVEPOINT if grouped.
   */
  join(): void {
    const conn = this.conn;
    if (!this.#open) {
      conn.begin();
      this.#open = true;
      conn.unchanged = true;
      this.#grouped = this.#grouping || --this.#untilProbe === 0;
      if (this.#grouped) {
        this.#untilProbe = PROBE_EVERY;
        nextTurn(this.#turned);
      }
    }
    if (this.#grouped) {
      conn.exec(SAVEPOINT);
      this.#log = [];
    }
    this.#running = true;
    this.#runningLost = false;
  }

  /** Runs one statement of the running member (its answer logged, if grouped, for a replay). */
  run(body: TxBody): unknown {
    if (this.#runningLost) throw fromErrorData(LOST_AROUND);
    if (!this.#grouped) return execute(this.conn, body);
    let value: unknown;
    try {
      value = execute(this.conn, body);
    } catch (error) {
      const answer: Answer = { id: 0, error: toErrorData(error, this.conn.driver) };
      this.#log.push([body, outcomeOf(body, answer)]);
      throw error;
    }
    this.#log.push([body, outcomeOf(body, { id: 0, value })]);
    return value;
  }

  /**
   * The running member succeeded: committed at once (`undefined`), or released into the group
   * (a promise that settles once the group's COMMIT did). Throws if its own COMMIT fails.
   */
  commit(): Promise<void> | undefined {
    this.#running = false;
    if (this.#runningLost) {
      this.#runningLost = false;
      throw fromErrorData(LOST_AROUND);
    }
    if (!this.#grouped) {
      this.#open = false;
      try {
        this.conn.exec("COMMIT");
      } catch (error) {
        rollbackQuietly(this.conn);
        throw error;
      }
      this.#committed();
      return undefined;
    }
    try {
      this.conn.exec(RELEASE);
    } catch (error) {
      this.rollback(); // it fails, undone; the group goes on
      throw error;
    }
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    this.#members.push({ log: this.#log, resolve, reject });
    if (this.#due || this.#members.length >= MAX_MEMBERS) this.flush();
    return promise;
  }

  /** The running member failed or rolled back: nothing of it stays. */
  rollback(): void {
    this.#running = false;
    if (this.#runningLost) {
      this.#runningLost = false;
      return;
    }
    if (!this.#grouped) {
      this.#open = false;
      rollbackQuietly(this.conn);
      return;
    }
    if (this.conn.inTransaction()) {
      try {
        this.conn.exec(UNDO);
      } catch {
        rollbackQuietly(this.conn);
      }
    }
    if (!this.conn.inTransaction()) return this.lost();
    if (this.#due) this.flush();
  }

  /**
   * SQLite rolled the whole transaction back (a statement of the running member failed so): the
   * members released before are replayed, each in a transaction of its own.
   */
  lost(): void {
    if (!this.#open) return;
    this.#open = false;
    this.#due = false;
    this.#replay(this.#members.splice(0));
    this.#answerReads(false);
  }

  /**
   * Commits the group now: at the end of the turn, before the writer needs the lock, at close.
   * A member still running then awaits something else across the turn, perhaps one of those
   * released before it: they are committed around it (`#around`), or, with none, when it ends.
   */
  flush(): void {
    if (!this.#open || !this.#grouped) return;
    if (this.#running) {
      if (this.#members.length || this.#reads.length) this.#around();
      else this.#due = true;
      return;
    }
    this.#commitNow();
  }

  /**
   * Commits the members released before the running one, which goes on in a transaction of its
   * own: its savepoint undone, the rest committed, then BEGIN and its statements replayed. If they
   * answer differently, it fails with SQLITE_ABORT_ROLLBACK (as the writer's group does).
   */
  #around(): void {
    const conn = this.conn;
    const log = this.#log;
    try {
      conn.exec(UNDO);
    } catch {
      rollbackQuietly(conn);
    }
    this.#running = false;
    if (!conn.inTransaction()) {
      this.lost();
      this.#runningLost = true;
      return;
    }
    this.#commitNow();
    this.#running = true;
    try {
      conn.begin();
      this.#open = true;
      conn.unchanged = false;
      conn.exec(SAVEPOINT);
      nextTurn(this.#turned);
      if (replays(conn, log)) return;
    } catch { /* it is lost */ }
    rollbackQuietly(conn);
    this.#open = false;
    this.#runningLost = true;
  }

  /** COMMIT of the group, no member running; on failure each member is replayed alone. */
  #commitNow(): void {
    this.#open = false;
    this.#due = false;
    const members = this.#members.splice(0);
    this.#adapt(members.length);
    try {
      this.conn.exec("COMMIT");
    } catch {
      rollbackQuietly(this.conn);
      this.#replay(members);
      return this.#answerReads(false);
    }
    this.#committed();
    for (const member of members) member.resolve();
    this.#answerReads(true);
  }

  /** Answers the reads made between members: as they ran (`committed`), or run again. */
  #answerReads(committed: boolean): void {
    if (!this.#reads.length) return;
    for (const read of this.#reads.splice(0)) {
      if (committed) {
        read.resolve(read.value);
        continue;
      }
      try {
        read.resolve(read.rerun());
      } catch (error) {
        read.reject(fromErrorData(toErrorData(error, this.conn.driver)));
      }
    }
  }

  #turned = (): void => this.flush();

  /** Groups of more than one keep grouping on; ALONE_TO_STOP groups of one in a row stop it. */
  #adapt(members: number): void {
    if (members > 1) {
      this.#grouping = true;
      this.#alone = 0;
    } else if (members === 1 && ++this.#alone >= ALONE_TO_STOP) {
      this.#grouping = false;
      this.#alone = 0;
    }
  }

  /** Each member in a transaction of its own: committed if it gives the same answers again. */
  #replay(members: Member[]): void {
    const conn = this.conn;
    for (const member of members) {
      try {
        conn.begin();
        if (!replays(conn, member.log)) {
          rollbackQuietly(conn);
          member.reject(fromErrorData(lostError(REPLAYED_DIFFERENTLY)));
          continue;
        }
        conn.exec("COMMIT");
      } catch (error) {
        rollbackQuietly(conn);
        member.reject(fromErrorData(toErrorData(error, conn.driver)));
        continue;
      }
      this.#committed();
      member.resolve();
    }
  }
}
