// What `Database.stats()` returns: the writer's and the readers' counters as one plain object.

import type { Stats } from "./types.ts";
import type { WriterStats } from "./_writer_stats.ts";

/** What stats are read from on the write side: the local writer, or a remote engine. */
export interface WriteSide {
  readonly stats: WriterStats;
  readonly queued: number;
  readonly inFlight: number;
}

/** What stats are read from on the read side: the local readers, or a remote engine's reads. */
export interface ReadSide {
  readonly reads: number;
  readonly inlineReads: number;
  readonly outstanding: number;
  /** Reader workers (remote: read requests at once). */
  readonly count: number;
  readonly restarts: number;
  readonly busyFailures: number;
  utilisation(): number[];
}

/** The counters of the write side and the read side, as {@linkcode Stats}. */
export function statsOf(writer: WriteSide, readers: ReadSide): Stats {
  const c = writer.stats.counters;
  return {
    queued: writer.queued,
    inFlight: writer.inFlight,
    commits: c.commits,
    committedRequests: c.committed,
    requestsPerCommit: c.commits ? c.committed / c.commits : 0,
    largestCommit: c.largestCommit,
    failures: c.failures,
    transactions: c.transactions,
    transactionCommits: c.transactionCommits,
    inlineTransactions: c.inlineTransactions,
    inlineWrites: c.inlineWrites,
    reads: readers.reads,
    inlineReads: readers.inlineReads,
    readsInFlight: readers.outstanding,
    readers: readers.count,
    workerRestarts: c.restarts + readers.restarts,
    walBytes: c.walBytes,
    largestWalBytes: c.largestWalBytes,
    checkpoints: c.checkpoints,
    writeLatency: writer.stats.writeLatency.summary(),
    queueWait: writer.stats.queueWait.summary(),
    commitLatency: writer.stats.commitLatency.summary(),
    commitSizes: writer.stats.commitSizes.histogram(),
    lockWaits: c.lockWaits,
    lockWaitMs: Math.round(c.lockWaitMs),
    busyFailures: c.busyFailures + readers.busyFailures,
    readerUtilisation: readers.utilisation(),
  };
}
