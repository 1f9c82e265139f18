// The single writer. Request messages from the main thread are enqueued into a ReadableStream;
// the loop drains what is waiting (up to maxBatch requests), commits it as ONE transaction and
// answers in ONE message. An interactive transaction arrives on its own channel (a
// SharedArrayBuffer, `_tx_channel.ts`): its BEGIN is enqueued like a chunk, and the writer then
// serves its statements synchronously until it ends, taking nothing else meanwhile.

import {
  type Answer,
  decodeRequests,
  encodeAnswers,
  type ToWriter,
  type WriteRequest,
} from "./protocol.ts";
import { TxServer } from "./_tx_channel.ts";
import { Connection } from "./_connection.ts";
import { parentPort } from "./_worker_host.ts";
import { toErrorData } from "./errors.ts";
import { commitGroup, newTally } from "./group_commit.ts";
import { TransactionGroup } from "./transaction_group.ts";
import { loadProcedures } from "./_procedures.ts";
import { IdTable } from "./_id_table.ts";
import { nextTurn } from "./_runtime.ts";

const port = await parentPort();

let conn: Connection;
let maxBatch = 1;
let busyTimeout = 0;
let channel!: TxServer;
let txs!: TransactionGroup;
/** A chunk of grouped requests, the close request, or a transaction's BEGIN on the channel. */
type Chunk = WriteRequest[] | "close" | "transaction";
let controller!: ReadableStreamDefaultController<Chunk>;
const intake = new ReadableStream<Chunk>(
  { start: (c) => void (controller = c) },
  { highWaterMark: Number.MAX_SAFE_INTEGER },
);
let chunksWaiting = 0; // chunks enqueued and not yet read
/** Messages received of those the caller counts as posted (`write`, `cancel`: see `TxServer`). */
let received = 0;
/** Requests received and not started: the only ones a `cancel` can still stop. */
const notStarted = new IdTable<WriteRequest>();
const cancelled = new Set<number>();

port.onMessage((message) => {
  const msg = message as ToWriter;
  switch (msg.t) {
    case "init":
      maxBatch = msg.maxBatch;
      busyTimeout = msg.config.busyTimeout;
      channel = new TxServer(msg.channel);
      // The procedures first: if their module fails, no connection is left open.
      (msg.config.procedures ? loadProcedures(msg.config.procedures) : Promise.resolve()).then(
        () => Connection.open(msg.config),
      ).then((c) => {
        conn = c;
        txs = new TransactionGroup(conn, channel, tally, (outcome) => {
          port.post({ t: "txs", ...outcome });
          if (tally.lockWaits) post([]); // the transactions' BEGINs that waited for a lock
        });
        port.post({ t: "ready" });
        watchChannel();
        void loop();
      }, (error) => port.post({ t: "failed", error: toErrorData(error) }));
      break;
    case "write": {
      received++;
      const reqs = decodeRequests<WriteRequest>(msg.batch);
      for (const r of reqs) notStarted.set(r.id, r);
      chunksWaiting++;
      controller.enqueue(reqs);
      break;
    }
    case "cancel": {
      received++;
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
    case "checkpoint":
      if (idle) backgroundCheckpoint();
      break;
    case "close":
      chunksWaiting++;
      controller.enqueue("close");
      break;
  }
});

/** Enqueues a marker when a transaction rings on the channel while the writer waits for chunks. */
function watchChannel(): void {
  channel.watch(function rang() {
    if (!channel.waiting) return channel.watch(rang); // a doze served it meanwhile
    chunksWaiting++;
    controller.enqueue("transaction");
  });
}

/**
 * How long (ms) a group of interactive transactions waits (spinning) for the next one to join
 * before it is committed: transactions the calling thread runs back to back share one COMMIT. A
 * message posted meanwhile ends the wait. (Sleeping longer on the channel when out of work, to
 * catch the next transaction sooner, was measured and dropped: on a busy 2-core machine it cost
 * grouped writes 60 % of their throughput in the HTTP benchmark; see bench/RESULTS.md.)
 */
const GROUP_SPIN_MS = 0.03;

/**
 * How long (ms) the writer spins, after answering a group of at least SPIN_AFTER requests, for
 * the calling thread to post its next message: under a burst of writes, the callers answered send
 * their next writes within microseconds, and a writer asleep in its event loop takes longer to wake
 * than that (measured on a 2-core VM, 256 callers: the writer waited 0.80–0.87 µs per row for its
 * next chunk on Bun, 0.56–0.59 µs with this, and wrote 3–32 % more rows per second; Node and Deno
 * unchanged; see bench/RESULTS.md). Small groups (a service's occasional writes) do not spin:
 * their next write may be seconds away.
 */
const NEXT_CHUNK_SPIN_MS = 0.05;
const SPIN_AFTER = 32;

/**
 * Takes a request out of the set a `cancel` can still stop, as the writer starts it; false if a
 * `cancel` came first (it is then not applied).
 */
function takeUnlessCancelled(req: WriteRequest): boolean {
  notStarted.delete(req.id);
  return !cancelled.delete(req.id);
}

async function loop(): Promise<void> {
  const reader = intake.getReader();
  let backlog: WriteRequest[] = [];
  let head = 0;
  let closing = false;
  let answered = 0; // requests in the group just answered (0 once the writer has waited)
  for (;;) {
    // Wait for at least one chunk, then take everything else already waiting.
    while (
      !closing &&
      (head === backlog.length || (chunksWaiting > 0 && backlog.length - head < maxBatch))
    ) {
      if (chunksWaiting === 0 && head === backlog.length) {
        // The caller starts a transaction only once every chunk it sent before is answered.
        if (txs.open) {
          if (!txs.due && channel.doze(GROUP_SPIN_MS)) {
            if (!txs.serve()) return; // being terminated
            continue;
          }
          txs.commit();
        }
        channel.heard(); // what rang until now, the event loop delivers
        // After a large group, its callers' next writes are usually a few dozen microseconds
        // away: waiting for them to be posted, rather than sleeping in the event loop until they
        // are, spares the thread's wake-up (see NEXT_CHUNK_SPIN_MS).
        if (answered >= SPIN_AFTER) channel.awaitPost(received, NEXT_CHUNK_SPIN_MS);
        answered = 0;
        if (chunksWaiting === 0) idleTimer ??= setTimeout(checkpoint, IDLE_MS);
      }
      idle = chunksWaiting === 0 && head === backlog.length;
      const { value } = await reader.read();
      idle = false;
      chunksWaiting--;
      if (value === "close") {
        closing = true;
      } else if (value === "transaction") {
        if (channel.waiting && !txs.serve()) return; // being terminated
        watchChannel();
      } else {
        backlog = head < backlog.length ? backlog.slice(head).concat(value!) : value!;
        head = 0;
        if (
          chunksWaiting === 0 && backlog.length - head < maxBatch &&
          channel.pendingPosts(received) > 0
        ) {
          // More messages were posted than have arrived: they wait in the event loop, which
          // hands them over only once this task ends (a runtime delivers one message, then runs
          // what it resumes: this group). One turn lets them in, to join this group.
          await new Promise<void>((resolve) => nextTurn(resolve));
        }
      }
    }
    if (closing && head === backlog.length) return finish();
    if (head === backlog.length) continue; // a transaction was all there was
    const group: WriteRequest[] = [];
    while (head < backlog.length && group.length < maxBatch) {
      const req = backlog[head++];
      if (takeUnlessCancelled(req)) group.push(req);
    }
    clearTimeout(idleTimer);
    idleTimer = undefined;
    if (txs.open) txs.commit(); // the transactions before these writes
    if (group.length) {
      const began = performance.now();
      const answers = commitGroup(conn, group, tally);
      post(answers, performance.now() - began);
      answered = group.length;
    }
  }
}

/**
 * What the writer measured since the last answers message. One object, emptied in place: the
 * transaction group counts into it too.
 */
const tally = newTally();

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
/** The loop waits for chunks with nothing left to do. */
let idle = false;
/** WAL length in pages after the last checkpoint, the longest seen, checkpoints run. */
const wal = { pages: 0, largest: 0, checkpoints: 0, pageSize: 0 };

/** What `PRAGMA wal_checkpoint` answers: pages in the WAL, and how many of them are copied. */
type CheckpointResult = { busy: number; log: number; checkpointed: number };

/** A PASSIVE checkpoint (never waits), counted in `wal`. */
function passive(): CheckpointResult {
  const r = conn.get("PRAGMA wal_checkpoint(PASSIVE)", []) as CheckpointResult;
  wal.checkpoints++;
  wal.largest = Math.max(wal.largest, r.log);
  return r;
}

/**
 * Run when the writer is idle: a PASSIVE checkpoint (never waits), then, when the WAL is all
 * checkpointed or past WAL_LIMIT, a TRUNCATE that waits for readers at most 20 ms, so that a
 * long-running reader elsewhere can delay the WAL's reset but never block the writer. SQLite's
 * own PASSIVE auto-checkpoint keeps running at commits in between.
 */
function checkpoint(): void {
  idleTimer = undefined;
  if (conn.inTransaction()) return;
  try {
    wal.pageSize ||= Number(conn.get("PRAGMA page_size", [])?.page_size);
    let r = passive();
    if (r.log > 0 && (r.log === r.checkpointed || r.log > WAL_LIMIT)) {
      conn.exec("PRAGMA busy_timeout = 20");
      try {
        r = conn.get("PRAGMA wal_checkpoint(TRUNCATE)", []) as CheckpointResult;
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

/** When the next background checkpoint may start (see `backgroundCheckpoint`). */
let backgroundFrom = 0;

/**
 * Asked by the calling thread, which commits transactions of its own: a PASSIVE checkpoint, so
 * that the automatic checkpoint in the calling thread's COMMIT finds most of the WAL copied
 * already. Only that one can restart the WAL (commits land beside this one), and it needs the
 * checkpoint lock this one holds: after each, the writer lets as long pass before the next, so
 * that on a slow disk, with hints arriving faster than it checkpoints, it never holds that lock
 * more than half the time. Nothing is reported; the next idle checkpoint reports the counts.
 */
function backgroundCheckpoint(): void {
  // The calling thread is committing: the idle checkpoint waits until it has stopped (also while
  // hints are passed over below).
  clearTimeout(idleTimer);
  idleTimer = setTimeout(checkpoint, IDLE_MS);
  const began = performance.now();
  if (began < backgroundFrom || conn.inTransaction()) return;
  try {
    passive();
  } catch { /* an optimisation: the calling thread's own checkpoint does it */ }
  backgroundFrom = 2 * performance.now() - began;
}

function finish(): void {
  clearTimeout(idleTimer);
  txs.commit();
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
