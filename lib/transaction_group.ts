// Group commit for interactive transactions, in the writer. Each transaction runs in a
// SAVEPOINT of one SQLite transaction that several of them share: its COMMIT releases the
// savepoint and is answered at once, and the writer commits the group when no next transaction
// comes within a few microseconds (or the group is full), then reports which were committed. So
// the calling thread never waits for a COMMIT (or an fsync) between two transactions.
//
// A transaction that fails or rolls back undoes only its savepoint. What no savepoint can contain
// is handled by replay: when SQLite rolls the whole transaction back (RAISE(ROLLBACK), ON CONFLICT
// ROLLBACK, SQLITE_FULL, …) or the group's COMMIT fails, the transactions released before are
// replayed from their logs (each statement with the answer it gave): one whose statements give
// the same answers again is committed as it was; one whose answers differ fails with
// SQLITE_ABORT_ROLLBACK and nothing of it is applied. Nothing is reported committed that was not.

import type { Answer, ErrorData, TxBody, TxRequest } from "./protocol.ts";
import type { Connection } from "./_connection.ts";
import type { DriverRunResult } from "./driver.ts";
import type { TxServer } from "./_tx_channel.ts";
import { begin, execute, failed, rollbackQuietly, type Tally } from "./group_commit.ts";
import { encodeValue } from "./_tx_channel.ts";
import { toErrorData } from "./errors.ts";

/**
 * What replay compares: the value, or the error's code and message (not its stack). A run
 * result's `lastInsertRowid` counts only for an INSERT or REPLACE that changed rows: otherwise it
 * is whatever the connection inserted last, which a rollback does not undo.
 */
export function outcomeOf(req: TxBody, answer: Answer): string {
  const e = answer.error;
  if (e) return `error ${e.code ?? e.name} ${e.message}`;
  if (req.kind === "run") {
    const { changes, lastInsertRowid } = answer.value as DriverRunResult;
    const inserted = changes > 0 && /\b(INSERT|REPLACE)\b/i.test(req.sql);
    return encodeValue([changes, inserted ? lastInsertRowid : null]);
  }
  return encodeValue(answer.value);
}

/** A transaction released into the group: its statements, each with the answer it gave. */
interface Member {
  seq: number;
  log: [TxRequest, string][];
}

/**
 * What the group reports once committed: every `seq` up to `upTo`, bar the failed ones, took
 * `commits` transactions of SQLite.
 */
export interface GroupOutcome {
  upTo: number;
  failed: Record<number, ErrorData>;
  commits: number;
}

/** Transactions a group may hold before it is committed. */
const MAX_MEMBERS = 64;
/** Milliseconds the first member may wait for the group's COMMIT. */
const MAX_WAIT_MS = 2;

/** The savepoint each transaction of a group runs in (here and on the calling thread). */
export const SAVEPOINT = "SAVEPOINT walpool_tx";
export const RELEASE = "RELEASE walpool_tx";
export const UNDO = "ROLLBACK TO walpool_tx; RELEASE walpool_tx";

/**
 * Runs a transaction's logged statements again (each with the outcome it gave, `outcomeOf`);
 * whether each gave the same again. It stops at the first that did not, or once SQLite rolled the
 * transaction back (what runs after that would run outside of it).
 */
export function replays(conn: Connection, log: readonly [TxBody, string][]): boolean {
  for (const [body, was] of log) {
    let answer: Answer;
    try {
      answer = { id: 0, value: execute(conn, body) };
    } catch (error) {
      answer = { id: 0, error: toErrorData(error, conn.driver) };
    }
    if (outcomeOf(body, answer) !== was || !conn.inTransaction()) return false;
  }
  return true;
}

/** Why a transaction released into a group failed when it was replayed. */
export const REPLAYED_DIFFERENTLY = "The transaction was rolled back: a neighbouring transaction " +
  "in the same commit made SQLite roll back, and replaying this one gave different results. " +
  "Nothing of it was applied; it can be retried";

/** The failure of a transaction rolled back for another's sake (SQLITE_ABORT_ROLLBACK). */
export function lostError(why: string): ErrorData {
  return { name: "SqliteError", code: "SQLITE_ABORT_ROLLBACK", errcode: 516, message: why };
}

export class TransactionGroup {
  #conn: Connection;
  #channel: TxServer;
  #tally: Tally;
  #report: (outcome: GroupOutcome) => void;
  #members: Member[] = [];
  #failed: Record<number, ErrorData> = {};
  #seq = 0;
  #reported = 0;
  #commits = 0;
  #since = 0;

  constructor(
    conn: Connection,
    channel: TxServer,
    tally: Tally,
    report: (outcome: GroupOutcome) => void,
  ) {
    this.#conn = conn;
    this.#channel = channel;
    this.#tally = tally;
    this.#report = report;
  }

  /** Whether the group holds a transaction of SQLite open, or outcomes not yet reported. */
  get open(): boolean {
    return this.#seq !== this.#reported || this.#conn.inTransaction();
  }

  /** Whether the group should be committed now rather than wait for another member. */
  get due(): boolean {
    return this.#members.length >= MAX_MEMBERS ||
      (this.#members.length > 0 && performance.now() - this.#since > MAX_WAIT_MS);
  }

  /**
   * Serves the transaction whose first statement waits on the channel, until its COMMIT or
   * ROLLBACK. Synchronous: the writer takes nothing else meanwhile, and sleeps on the channel
   * while the caller's code runs. A request of another transaction (a late one of a transaction
   * that ended) is refused, never applied. Should the caller make the writer wait (its callback
   * awaits something else) while transactions released before wait for their COMMIT, those are
   * committed first (this one is rolled back to its start and replayed after), so that nothing
   * waits on a transaction that may itself be waiting for them. False if the writer is being
   * terminated.
   */
  serve(): boolean {
    const conn = this.#conn;
    const log: [TxRequest, string][] = [];
    /** Why every later statement fails: BEGIN failed, or SQLite rolled the transaction back. */
    let lost: ErrorData | undefined;
    let open = false; // its savepoint exists
    let token: number | undefined;
    /** Before the writer sleeps waiting for this transaction: commits the ones released before. */
    const beforeSleep = () => {
      if (!this.#members.length || lost) return;
      if (open) this.#quietly(UNDO);
      this.commit();
      if (!open) return;
      try {
        begin(conn, this.#tally);
        conn.exec(SAVEPOINT);
        if (!replays(conn, log)) {
          lost = lostError(
            "The transaction was rolled back: replayed after the writer committed the " +
              "transactions before it, a statement gave a different result",
          );
          this.#quietly(UNDO);
          open = false;
        }
      } catch (error) {
        lost = toErrorData(error, conn.driver, true);
        open = false;
      }
    };
    for (;;) {
      const req = this.#channel.next(beforeSleep);
      if (!req) return false;
      if (token === undefined) {
        token = req.tx;
        if (req.kind !== "commit" && req.kind !== "rollback") {
          try {
            if (!conn.inTransaction()) begin(conn, this.#tally);
            conn.exec(SAVEPOINT);
            open = true;
          } catch (error) {
            lost = failed(conn, req, error).error;
          }
        }
      } else if (req.tx !== token) {
        this.#channel.answer({
          id: req.id,
          error: lostError("Refused: the request belongs to a transaction that has ended"),
        });
        continue;
      }
      if (req.kind === "rollback") {
        if (open && !lost) this.#quietly(UNDO);
        this.#channel.answer({ id: req.id });
        return true;
      }
      if (req.kind === "commit") {
        if (lost) {
          this.#channel.answer({ id: req.id, error: lost });
          return true;
        }
        if (!open) {
          // Nothing of it reached the writer (its statements failed before they were sent):
          // nothing to commit. Number 0 is reported committed from the start.
          this.#channel.answer({ id: req.id, value: 0 });
          return true;
        }
        this.#release(req, log);
        return true;
      }
      if (lost) {
        this.#channel.answer({ id: req.id, error: lost });
        continue;
      }
      const answer = this.#run(req);
      if (answer.error && !conn.inTransaction()) {
        // SQLite rolled back the group's whole transaction: this one is lost, the ones released
        // before are replayed.
        lost = lostError(
          "The transaction was rolled back by SQLite after an earlier statement failed (" +
            answer.error.message + ")",
        );
        open = false;
        this.#replay();
      }
      this.#channel.answer(answer);
      log.push([req, outcomeOf(req, answer)]);
    }
  }

  /** Runs one statement; its answer. */
  #run(req: TxRequest): Answer {
    try {
      return { id: req.id, value: execute(this.#conn, req) };
    } catch (error) {
      return failed(this.#conn, req, error);
    }
  }

  /** COMMIT of a transaction: its savepoint is released into the group, answered with its seq. */
  #release(req: TxRequest, log: [TxRequest, string][]): void {
    try {
      this.#conn.exec(RELEASE);
    } catch (error) {
      this.#quietly(UNDO);
      this.#channel.answer(failed(this.#conn, req, error));
      return;
    }
    const seq = ++this.#seq;
    if (!this.#members.length) this.#since = performance.now();
    this.#members.push({ seq, log });
    this.#channel.answer({ id: req.id, value: seq });
  }

  /** Commits the group (a transaction of SQLite left with nothing in it is rolled back) and reports. */
  commit(): void {
    const conn = this.#conn;
    if (this.#members.length) {
      try {
        conn.exec("COMMIT");
        this.#commits++;
      } catch (error) {
        rollbackQuietly(conn);
        this.#commitEachAlone(error);
      }
    } else {
      rollbackQuietly(conn);
    }
    if (this.#seq !== this.#reported) {
      this.#report({ upTo: this.#seq, failed: this.#failed, commits: this.#commits });
      this.#reported = this.#seq;
      this.#commits = 0;
    }
    this.#members = [];
    this.#failed = {};
  }

  /** The group's COMMIT failed: each member is replayed and committed alone. */
  #commitEachAlone(error: unknown): void {
    const conn = this.#conn;
    if (this.#members.length === 1) {
      this.#failed[this.#members[0].seq] = toErrorData(error, conn.driver, true);
      return;
    }
    for (const member of this.#members) {
      try {
        begin(conn, this.#tally);
        const mismatch = this.#replayOne(member);
        if (mismatch) {
          rollbackQuietly(conn);
          this.#failed[member.seq] = mismatch;
          continue;
        }
        conn.exec("COMMIT");
        this.#commits++;
      } catch (error) {
        rollbackQuietly(conn);
        this.#failed[member.seq] = toErrorData(error, conn.driver, true);
      }
    }
  }

  /**
   * SQLite rolled the group's transaction back: begins again and replays the members. One that
   * cannot be replayed as it was fails; if that rolls everything back again, the pass starts over
   * without it (each pass drops one, so it ends).
   */
  #replay(): void {
    const conn = this.#conn;
    for (let pass = this.#members; pass.length;) {
      try {
        begin(conn, this.#tally);
      } catch (error) {
        for (const m of pass) this.#failed[m.seq] = toErrorData(error, conn.driver, true);
        this.#members = [];
        return;
      }
      const kept: Member[] = [];
      let restart = false;
      for (const member of pass) {
        const mismatch = this.#replayOne(member);
        if (!mismatch) {
          kept.push(member);
          continue;
        }
        this.#failed[member.seq] = mismatch;
        if (!conn.inTransaction()) {
          pass = pass.filter((m) => m !== member);
          restart = true;
          break;
        }
      }
      if (!restart) {
        this.#members = kept;
        if (!kept.length) rollbackQuietly(conn);
        return;
      }
    }
    this.#members = [];
  }

  /** Replays one member in a savepoint; the reason it failed, if it did not give the same answers. */
  #replayOne(member: Member): ErrorData | undefined {
    const conn = this.#conn;
    conn.exec(SAVEPOINT);
    if (!replays(conn, member.log)) {
      if (conn.inTransaction()) this.#quietly(UNDO);
      return lostError(REPLAYED_DIFFERENTLY);
    }
    conn.exec(RELEASE);
    return undefined;
  }

  #quietly(sql: string): void {
    try {
      this.#conn.exec(sql);
    } catch { /* the savepoint is gone with the transaction */ }
  }
}
