// `Database.metrics()`: the counters and histograms of `stats()` in Prometheus' text exposition
// format (version 0.0.4), with no dependency.

import type { Stats } from "./types.ts";
import type { Latencies, Sizes } from "./_histogram.ts";

/** The histograms behind `stats()`, whole (its summaries keep only a few quantiles). */
export interface Histograms {
  writeLatency: Latencies;
  queueWait: Latencies;
  commitLatency: Latencies;
  commitSizes: Sizes;
}

type Kind = "counter" | "gauge";

/** Counters and gauges: name, type, help, and the value in `stats()`. */
const SCALARS: [string, Kind, string, (s: Stats) => number][] = [
  ["commits_total", "counter", "Commits of group writes.", (s) => s.commits],
  [
    "committed_requests_total",
    "counter",
    "Write requests committed by group commits.",
    (s) => s.committedRequests,
  ],
  ["write_failures_total", "counter", "Write requests that failed.", (s) => s.failures],
  ["transactions_total", "counter", "Interactive transactions begun.", (s) => s.transactions],
  [
    "transaction_commits_total",
    "counter",
    "Commits that interactive transactions took.",
    (s) => s.transactionCommits,
  ],
  [
    "inline_transactions_total",
    "counter",
    "Interactive transactions run on the calling thread's write connection.",
    (s) => s.inlineTransactions,
  ],
  [
    "inline_writes_total",
    "counter",
    "Writes run alone on the calling thread's write connection.",
    (s) => s.inlineWrites,
  ],
  ["reads_total", "counter", "Reads.", (s) => s.reads],
  ["inline_reads_total", "counter", "Reads run on the calling thread.", (s) => s.inlineReads],
  [
    "worker_restarts_total",
    "counter",
    "Workers started again after they died.",
    (s) => s.workerRestarts,
  ],
  ["checkpoints_total", "counter", "WAL checkpoints run by the writer.", (s) => s.checkpoints],
  [
    "lock_waits_total",
    "counter",
    "BEGINs that waited for a lock held elsewhere.",
    (s) => s.lockWaits,
  ],
  [
    "lock_wait_seconds_total",
    "counter",
    "Time BEGINs waited for a lock held elsewhere.",
    (s) => s.lockWaitMs / 1000,
  ],
  ["busy_failures_total", "counter", "Calls that failed with SQLITE_BUSY.", (s) => s.busyFailures],
  ["writes_queued", "gauge", "Write requests waiting to be sent to the writer.", (s) => s.queued],
  [
    "writes_in_flight",
    "gauge",
    "Write requests sent to the writer and not answered.",
    (s) => s.inFlight,
  ],
  ["reads_in_flight", "gauge", "Reads not answered yet.", (s) => s.readsInFlight],
  ["readers", "gauge", "Reader workers (remote: read requests at once).", (s) => s.readers],
  ["wal_bytes", "gauge", "Bytes in the WAL after the last idle checkpoint.", (s) => s.walBytes],
  [
    "wal_bytes_max",
    "gauge",
    "Most bytes in the WAL a checkpoint of the writer found.",
    (s) => s.largestWalBytes,
  ],
  ["commit_size_max", "gauge", "Most write requests one commit carried.", (s) => s.largestCommit],
];

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * `stats` and `histograms` as Prometheus text, every sample carrying `labels`.
 *
 * @throws {TypeError} A label name Prometheus does not allow, or a value that is not a string.
 */
export function prometheusText(
  stats: Stats,
  histograms: Histograms,
  labels: Record<string, string> = {},
): string {
  if (typeof labels !== "object" || labels === null) {
    throw new TypeError("metrics() labels must be an object of strings");
  }
  const pairs = Object.entries(labels).map(([name, value]) => {
    if (!LABEL_NAME.test(name) || name.startsWith("__") || name === "le") {
      throw new TypeError(`Invalid Prometheus label name "${name}"`);
    }
    if (typeof value !== "string") throw new TypeError(`Label ${name} must be a string`);
    return `${name}="${value.replace(/[\\"\n]/g, (c) => c === "\n" ? "\\n" : `\\${c}`)}"`;
  });
  const set = (...more: string[]) => {
    const all = [...pairs, ...more];
    return all.length ? `{${all.join(",")}}` : "";
  };
  const lines: string[] = [];
  const head = (name: string, type: string, help: string) =>
    lines.push(`# HELP walpool_${name} ${help}`, `# TYPE walpool_${name} ${type}`);
  for (const [name, type, help, value] of SCALARS) {
    head(name, type, help);
    lines.push(`walpool_${name}${set()} ${value(stats)}`);
  }
  head("reader_utilisation", "gauge", "Share of recent time each reader worker was busy (0 to 1).");
  stats.readerUtilisation.forEach((u, i) =>
    lines.push(`walpool_reader_utilisation${set(`reader="${i}"`)} ${u}`)
  );
  const histogram = (
    name: string,
    help: string,
    h: { bounds: readonly number[]; counts: number[]; sum: number; count: number },
    scale: number,
  ) => {
    head(name, "histogram", help);
    h.bounds.forEach((bound, i) =>
      lines.push(`walpool_${name}_bucket${set(`le="${bound * scale}"`)} ${h.counts[i]}`)
    );
    lines.push(`walpool_${name}_bucket${set('le="+Inf"')} ${h.count}`);
    lines.push(`walpool_${name}_sum${set()} ${h.sum * scale}`);
    lines.push(`walpool_${name}_count${set()} ${h.count}`);
  };
  histogram(
    "write_latency_seconds",
    "Time from a write call to its answer.",
    histograms.writeLatency.cumulative(),
    1 / 1000,
  );
  histogram(
    "queue_wait_seconds",
    "Time a write call waited before it was sent to the writer.",
    histograms.queueWait.cumulative(),
    1 / 1000,
  );
  histogram(
    "commit_latency_seconds",
    "Time the writer spent on each group, commit included.",
    histograms.commitLatency.cumulative(),
    1 / 1000,
  );
  histogram(
    "commit_size",
    "Write requests each commit carried.",
    histograms.commitSizes.cumulative(),
    1,
  );
  return lines.join("\n") + "\n";
}
