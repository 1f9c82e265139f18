// What the writer counts, on the calling thread: counters, latency histograms, and the onCommit
// hook, fed by the writer's reports (its answers messages and WAL reports).

import type { FromWorker } from "./protocol.ts";
import type { CommitEvent } from "./types.ts";
import { Latencies, Sizes } from "./_histogram.ts";
import { isBusy } from "./_sqlite_codes.ts";

/** Counters kept by the writer. */
export interface WriterCounters {
  commits: number;
  committed: number;
  largestCommit: number;
  failures: number;
  transactions: number;
  /** SQLite commits that interactive transactions took (several share one). */
  transactionCommits: number;
  /** Interactive transactions run on the calling thread's write connection. */
  inlineTransactions: number;
  /** Writes run alone on the calling thread's write connection. */
  inlineWrites: number;
  restarts: number;
  walBytes: number;
  largestWalBytes: number;
  checkpoints: number;
  lockWaits: number;
  lockWaitMs: number;
  busyFailures: number;
}

/**
 * The time, read once per tick: calls made (or answered) in the same tick share it, so a burst
 * of writes costs one clock read instead of one per call. Stats need no finer.
 */
let now: number | undefined;
export function tickTime(): number {
  if (now === undefined) {
    now = performance.now();
    queueMicrotask(() => (now = undefined));
  }
  return now;
}

/** The writer's counters and latencies. */
export class WriterStats {
  readonly counters: WriterCounters = {
    commits: 0,
    committed: 0,
    largestCommit: 0,
    failures: 0,
    transactions: 0,
    transactionCommits: 0,
    inlineTransactions: 0,
    inlineWrites: 0,
    restarts: 0,
    walBytes: 0,
    largestWalBytes: 0,
    checkpoints: 0,
    lockWaits: 0,
    lockWaitMs: 0,
    busyFailures: 0,
  };
  /** Milliseconds from a write call to its answer. */
  readonly writeLatency: Latencies = new Latencies();
  /** Milliseconds a write call waited on this thread before it was sent (room, a transaction). */
  readonly queueWait: Latencies = new Latencies();
  /** Milliseconds the writer spent on each group, commit included. */
  readonly commitLatency: Latencies = new Latencies();
  /** Requests each commit carried. */
  readonly commitSizes: Sizes = new Sizes();
  #onCommit: ((event: CommitEvent) => void) | undefined;

  constructor(onCommit?: (event: CommitEvent) => void) {
    this.#onCommit = onCommit;
  }

  /** Counts a report of the writer: an answers message (with its commits) or the WAL's size. */
  report(message: Extract<FromWorker, { t: "answers" | "wal" }>): void {
    const c = this.counters;
    if (message.t === "wal") {
      c.walBytes = message.bytes;
      c.largestWalBytes = message.largestBytes;
      c.checkpoints = message.checkpoints;
      return;
    }
    if (message.lockWaits) {
      c.lockWaits += message.lockWaits;
      c.lockWaitMs += message.lockWaitMs!;
    }
    const { errors } = message.batch;
    let failed = 0;
    for (const i in errors) {
      failed++;
      if (isBusy(errors[i].code)) c.busyFailures++;
    }
    if (message.commits) this.countGroup(message.commits, failed, message.ms!);
  }

  /**
   * Counts a group of writes that committed: `commits` holds the requests each commit carried,
   * `failed` the requests that failed, `ms` how long the group took.
   */
  countGroup(commits: number[], failed: number, ms: number): void {
    const c = this.counters;
    let requests = 0;
    for (const n of commits) {
      requests += n;
      this.commitSizes.add(n);
      if (n > c.largestCommit) c.largestCommit = n;
    }
    c.commits += commits.length;
    c.committed += requests;
    this.commitLatency.add(ms);
    this.notify({ kind: "group", requests, failed, commits: commits.length, ms });
  }

  /** Whether there is an onCommit hook (else events need not be made). */
  get hooked(): boolean {
    return this.#onCommit !== undefined;
  }

  /** Calls the onCommit hook; an error it throws is logged, never passed on to walpool. */
  notify(event: CommitEvent): void {
    if (!this.#onCommit) return;
    try {
      this.#onCommit(event);
    } catch (error) {
      console.error("walpool: the onCommit hook threw", error);
    }
  }
}
