// What `Database.stats()` returns: the writer's and the readers' counters as one plain object.

import type { Stats } from "./types.ts";
import type { Writer } from "./writer.ts";
import type { Readers } from "./readers.ts";

/** The counters of `writer` and `readers`, as {@linkcode Stats}. */
export function statsOf(writer: Writer, readers: Readers): Stats {
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
    reads: readers.reads,
    inlineReads: readers.inlineReads,
    readsInFlight: readers.outstanding,
    readers: readers.workers.length,
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
