// The single writer. Request messages from the main thread are enqueued into a ReadableStream;
// the loop drains what is waiting (up to maxBatch requests), commits it as ONE transaction and
// answers in ONE message. An interactive transaction holds the loop until it ends.

import type { Answer, ToWriter, WriteRequest } from "./protocol.ts";
import { Connection } from "./_connection.ts";
import { parentPort } from "./_worker_host.ts";
import { SqliteError, toErrorData } from "./errors.ts";

const port = await parentPort();

let conn: Connection;
let maxBatch = 1;
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
      Connection.open(msg.config).then((c) => {
        conn = c;
        port.post({ t: "ready" });
        void loop();
      }, (error) => port.post({ t: "failed", error: toErrorData(error) }));
      break;
    case "write":
      for (const r of msg.reqs) notStarted.set(r.id, r);
      chunksWaiting++;
      controller.enqueue(msg.reqs);
      break;
    case "cancel": {
      const answers: Answer[] = [];
      for (const id of msg.ids) {
        if (notStarted.delete(id)) {
          cancelled.add(id);
          answers.push({ id, cancelled: true });
        }
      }
      if (answers.length) port.post({ t: "answers", answers });
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
        if (start(req)) port.post({ t: "answers", answers: [control(req)] });
      }
    }
    if (group.length) port.post({ t: "answers", answers: commitGroup(group), commits: 1 });
  }
}

function isGroupable(req: WriteRequest): boolean {
  return !("tx" in req && req.tx) && req.kind !== "begin" && req.kind !== "commit" &&
    req.kind !== "rollback";
}

// --- group commit -------------------------------------------------------------------------

/**
 * Commits `reqs` as one transaction and returns one answer each, in order. A request that fails
 * fails alone. If SQLite rolled the whole transaction back (RAISE(ROLLBACK), ON CONFLICT
 * ROLLBACK, SQLITE_FULL, …), the others are replayed without it; if COMMIT fails, each is
 * retried in a transaction of its own, so nothing is reported done that was not committed.
 */
function commitGroup(reqs: WriteRequest[]): Answer[] {
  try {
    conn.exec("BEGIN IMMEDIATE");
  } catch (error) {
    return reqs.map((r) => fail(r, error));
  }
  const answers: Answer[] = [];
  for (let i = 0; i < reqs.length; i++) {
    try {
      answers.push({ id: reqs[i].id, value: execute(reqs[i]) });
    } catch (error) {
      answers.push(fail(reqs[i], error));
      if (!conn.inTransaction()) {
        // Everything before this request was undone too: replay the rest without it.
        const others = reqs.filter((_, j) => j !== i);
        const replayed = others.length ? commitGroup(others) : [];
        const byId = new Map(replayed.map((a) => [a.id, a]));
        return reqs.map((r, j) => j === i ? answers[i] : byId.get(r.id)!);
      }
    }
  }
  try {
    conn.exec("COMMIT");
    return answers;
  } catch (error) {
    if (conn.inTransaction()) rollbackQuietly();
    if (reqs.length === 1) return [fail(reqs[0], error)];
    return reqs.flatMap((r) => commitGroup([r]));
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
        conn.exec("BEGIN IMMEDIATE");
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
