// The single writer. Request messages from the main thread are enqueued into a ReadableStream;
// the loop drains what is waiting (up to maxBatch requests), commits it as ONE transaction and
// answers in ONE message. An interactive transaction holds the loop until it ends.

import {
  type Answer,
  decodeRequests,
  encodeAnswers,
  type ToWriter,
  type WriteRequest,
} from "./protocol.ts";
import { Connection } from "./_connection.ts";
import { parentPort } from "./_worker_host.ts";
import { SqliteError, toErrorData } from "./errors.ts";

const port = await parentPort();

let conn: Connection;
let maxBatch = 1;
let busyTimeout = 0;
let controller!: ReadableStreamDefaultController<WriteRequest[] | "close">;
const intake = new ReadableStream<WriteRequest[] | "close">(
  { start: (c) => void (controller = c) },
  { highWaterMark: Number.MAX_SAFE_INTEGER },
);
let chunksWaiting = 0; // chunks enqueued and not yet read
/** Requests received and not started: the only ones a `cancel` can still stop. */
const notStarted = new Map<number, WriteRequest>();
const cancelled = new Set<number>();

port.onMessage((message) => {
  const msg = message as ToWriter;
  switch (msg.t) {
    case "init":
      maxBatch = msg.maxBatch;
      busyTimeout = msg.config.busyTimeout;
      Connection.open(msg.config).then((c) => {
        conn = c;
        port.post({ t: "ready" });
        void loop();
      }, (error) => port.post({ t: "failed", error: toErrorData(error) }));
      break;
    case "write": {
      const reqs = decodeRequests<WriteRequest>(msg.batch);
      for (const r of reqs) notStarted.set(r.id, r);
      chunksWaiting++;
      controller.enqueue(reqs);
      break;
    }
    case "cancel": {
      const answers: Answer[] = [];
      for (const id of msg.ids) {
        if (notStarted.delete(id)) {
          cancelled.add(id);
          answers.push({ id, cancelled: true });
        }
      }
      if (answers.length) port.post({ t: "answers", batch: encodeAnswers(answers) });
      break;
    }
    case "close":
      chunksWaiting++;
      controller.enqueue("close");
      break;
  }
});

/** Takes a request out of the cancellable set; false if it was cancelled. */
function start(req: WriteRequest): boolean {
  notStarted.delete(req.id);
  return !cancelled.delete(req.id);
}

async function loop(): Promise<void> {
  const reader = intake.getReader();
  let backlog: WriteRequest[] = [];
  let head = 0;
  let closing = false;
  for (;;) {
    // Wait for at least one chunk, then take everything else already waiting.
    while (
      !closing &&
      (head === backlog.length || (chunksWaiting > 0 && backlog.length - head < maxBatch))
    ) {
      const { value } = await reader.read();
      chunksWaiting--;
      if (value === "close") {
        closing = true;
      } else {
        backlog = head < backlog.length ? backlog.slice(head).concat(value!) : value!;
        head = 0;
      }
    }
    if (closing && head === backlog.length) return finish();
    const group: WriteRequest[] = [];
    while (head < backlog.length && group.length < maxBatch) {
      const req = backlog[head];
      if (isGroupable(req)) {
        head++;
        if (start(req)) group.push(req);
      } else if (group.length) {
        break;
      } else {
        head++;
        if (start(req)) post([control(req)]);
      }
    }
    clearTimeout(idleTimer);
    if (group.length) {
      const began = performance.now();
      const answers = commitGroup(group);
      post(answers, performance.now() - began);
    }
    if (head === backlog.length && chunksWaiting === 0) idleTimer = setTimeout(checkpoint, IDLE_MS);
  }
}

/** Posts answers with what the writer measured since the last answers message. */
function post(answers: Answer[], ms?: number): void {
  port.post({
    t: "answers",
    batch: encodeAnswers(answers),
    ...(tally.commits.length ? { commits: tally.commits, ms } : {}),
    ...(tally.lockWaits ? { lockWaits: tally.lockWaits, lockWaitMs: tally.lockWaitMs } : {}),
  });
  tally.commits = [];
  tally.lockWaits = tally.lockWaitMs = 0;
}

// --- checkpoints ----------------------------------------------------------------------------

/** How long the writer must be idle before it checkpoints. */
const IDLE_MS = 50;
/** WAL pages (≈ 16 MiB of 4 KiB pages) beyond which the writer also tries to truncate it. */
const WAL_LIMIT = 4096;
let idleTimer: ReturnType<typeof setTimeout> | undefined;
/** WAL length in pages after the last checkpoint, the longest seen, checkpoints run. */
const wal = { pages: 0, largest: 0, checkpoints: 0, pageSize: 0 };

/**
 * Run when the writer is idle: a PASSIVE checkpoint (never waits), then, when the WAL is all
 * checkpointed or past WAL_LIMIT, a TRUNCATE that waits for readers at most 20 ms, so that a
 * long-running reader elsewhere can delay the WAL's reset but never block the writer. SQLite's
 * own PASSIVE auto-checkpoint keeps running at commits in between.
 */
function checkpoint(): void {
  if (conn.inTransaction()) return;
  try {
    wal.pageSize ||= Number(conn.get("PRAGMA page_size", [])?.page_size);
    type Result = { busy: number; log: number; checkpointed: number };
    let r = conn.get("PRAGMA wal_checkpoint(PASSIVE)", []) as Result;
    wal.checkpoints++;
    wal.largest = Math.max(wal.largest, r.log);
    if (r.log > 0 && (r.log === r.checkpointed || r.log > WAL_LIMIT)) {
      conn.exec("PRAGMA busy_timeout = 20");
      try {
        r = conn.get("PRAGMA wal_checkpoint(TRUNCATE)", []) as Result;
        wal.checkpoints++;
      } finally {
        conn.exec(`PRAGMA busy_timeout = ${busyTimeout}`);
      }
    }
    wal.pages = Math.max(0, r.log);
  } catch {
    return; // a checkpoint is an optimisation: the next idle moment tries again
  }
  port.post({
    t: "wal",
    bytes: wal.pages * wal.pageSize,
    largestBytes: wal.largest * wal.pageSize,
    checkpoints: wal.checkpoints,
  });
}

function isGroupable(req: WriteRequest): boolean {
  return !("tx" in req && req.tx) && req.kind !== "begin" && req.kind !== "commit" &&
    req.kind !== "rollback";
}

// --- group commit -------------------------------------------------------------------------

/**
 * Since the last answers message: requests each commit carried, and the times BEGIN IMMEDIATE
 * waited for another process's lock (longer than LOCK_WAIT_MS) and for how long in all.
 */
const tally = { commits: [] as number[], lockWaits: 0, lockWaitMs: 0 };
const LOCK_WAIT_MS = 1;

/** BEGIN IMMEDIATE, noting a wait for a lock held elsewhere. */
function begin(): void {
  const began = performance.now();
  conn.exec("BEGIN IMMEDIATE");
  const waited = performance.now() - began;
  if (waited > LOCK_WAIT_MS) {
    tally.lockWaits++;
    tally.lockWaitMs += waited;
  }
}

/**
 * Commits `reqs` as one transaction and returns one answer each, in order. A request that fails
 * fails alone. If SQLite rolled the whole transaction back (RAISE(ROLLBACK), ON CONFLICT
 * ROLLBACK, SQLITE_FULL, …), the requests before it are replayed and committed, and the rest
 * go on in a new transaction: each request runs at most twice. If COMMIT fails, each request is
 * retried in a transaction of its own, so nothing is reported done that was not committed.
 */
function commitGroup(reqs: WriteRequest[]): Answer[] {
  const answers: Answer[] = [];
  let rest = reqs;
  while (rest.length) {
    const { done, failedAt } = runInTransaction(rest);
    if (failedAt < 0) return answers.concat(done);
    // done[failedAt] is the failure; the ones before it were undone with it.
    answers.push(...commitGroup(rest.slice(0, failedAt)), done[failedAt]);
    rest = rest.slice(failedAt + 1);
  }
  return answers;
}

/**
 * Runs `reqs` in one transaction and commits it. `failedAt` is the index of a request whose
 * failure made SQLite roll the whole transaction back (then nothing was committed and `done`
 * ends with that failure), or -1 when every answer in `done` is final.
 */
function runInTransaction(reqs: WriteRequest[]): { done: Answer[]; failedAt: number } {
  try {
    begin();
  } catch (error) {
    return { done: reqs.map((r) => fail(r, error)), failedAt: -1 };
  }
  const done: Answer[] = [];
  let applied = 0;
  for (let i = 0; i < reqs.length; i++) {
    try {
      done.push({ id: reqs[i].id, value: execute(reqs[i]), run: reqs[i].kind === "run" });
      applied++;
    } catch (error) {
      done.push(fail(reqs[i], error));
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
    if (conn.inTransaction()) rollbackQuietly();
    if (reqs.length === 1) return { done: [fail(reqs[0], error)], failedAt: -1 };
    return { done: reqs.flatMap((r) => commitGroup([r])), failedAt: -1 };
  }
}

function rollbackQuietly(): void {
  try {
    conn.exec("ROLLBACK");
  } catch { /* the transaction is gone either way */ }
}

function fail(req: WriteRequest, error: unknown): Answer {
  return { id: req.id, error: toErrorData(error, conn.driver) };
}

/** Carries out one request; several statements run inside a savepoint, so all or none apply. */
function execute(req: WriteRequest): unknown {
  switch (req.kind) {
    case "run":
      return conn.run(req.sql, req.params);
    case "get":
      return conn.get(req.sql, req.params);
    case "all":
      return conn.all(req.sql, req.params);
    case "values":
      return conn.values(req.sql, req.params);
    case "exec":
      return atomically(() => conn.exec(req.sql));
    case "batch":
      return atomically(() => req.stmts.map((s) => conn.run(s.sql, s.params)));
    default:
      throw new Error(`Unexpected request ${req.kind} in a group`);
  }
}

function atomically<T>(fn: () => T): T {
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

// --- interactive transactions -------------------------------------------------------------

/** Set when SQLite rolled the open interactive transaction back on its own. */
let txLost: string | undefined;

function control(req: WriteRequest): Answer {
  try {
    switch (req.kind) {
      case "begin":
        txLost = undefined;
        begin();
        return { id: req.id };
      case "commit":
      case "rollback":
        if (txLost) {
          const lost = txLost;
          txLost = undefined;
          if (req.kind === "rollback") return { id: req.id };
          throw rolledBack(lost);
        }
        conn.exec(req.kind === "commit" ? "COMMIT" : "ROLLBACK");
        return { id: req.id };
      default:
        if (txLost) throw rolledBack(txLost);
        try {
          return { id: req.id, value: execute(req) };
        } catch (error) {
          if (!conn.inTransaction()) {
            txLost = "The transaction was rolled back by SQLite after an earlier statement " +
              `failed (${toErrorData(error, conn.driver).message})`;
          }
          throw error;
        }
    }
  } catch (error) {
    if (req.kind === "commit" && conn.inTransaction()) rollbackQuietly();
    return fail(req, error);
  }
}

function rolledBack(message: string): SqliteError {
  return new SqliteError(message, "SQLITE_ABORT_ROLLBACK", 516);
}

function finish(): void {
  clearTimeout(idleTimer);
  try {
    conn.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  } catch { /* a reader of another process may hold the WAL; closing still succeeds */ }
  try {
    conn.close();
    port.post({ t: "closed" });
  } catch (error) {
    port.post({ t: "failed", error: toErrorData(error, conn.driver) });
  }
}
