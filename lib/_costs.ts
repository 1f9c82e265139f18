// What a kind of work costs, learned from what it took where it ran: the read routing's per SQL
// text, the writer's per kind of transaction and per SQL text of a write.

/** Kinds remembered at most; past it the map starts again (a moving average is soon relearned). */
const KINDS = 4096;

/**
 * Notes that `key` took `ms`: a moving average (0.8 / 0.2) in which one sample counts for at most
 * four times the average so far (plus 10 µs): one pause inside a cheap run (a collection, a
 * preemption) no longer makes it look dear, which sent a point read to a worker, or a kind of
 * transaction to the writer, until the average came down again. A kind that is dear run after
 * run still gets there: the average grows up to 1.6-fold per sample (0.002 to 0.1 ms in 8).
 */
export function learnCost(costs: Map<string, number>, key: string, ms: number): void {
  const known = costs.get(key);
  if (known === undefined) {
    if (costs.size >= KINDS) costs.clear();
    costs.set(key, ms);
  } else {
    costs.set(key, known * 0.8 + Math.min(ms, 4 * known + 0.01) * 0.2);
  }
}
