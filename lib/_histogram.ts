// Fixed-bucket histograms for stats(): cheap to feed on every call, summarised on demand.

/** Upper bounds (ms) of the latency buckets; one more bucket holds everything beyond. */
const BOUNDS_MS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

/**
 * A summary of durations in milliseconds.
 *
 * @example
 * ```ts
 * import { type LatencySummary, open } from "@walpool/walpool";
 *
 * await using db = await open("app.db");
 * const { p50Ms, p99Ms, maxMs }: LatencySummary = db.stats().commitLatency;
 * ```
 */
export interface LatencySummary {
  /** How many were measured. */
  count: number;
  /** Their mean. */
  meanMs: number;
  /** Half took at most this (the upper bound of their histogram bucket, at most `maxMs`). */
  p50Ms: number;
  /** 99 % took at most this (as `p50Ms`). */
  p99Ms: number;
  /** The longest. */
  maxMs: number;
}

/** Durations in a log-spaced histogram. */
export class Latencies {
  #buckets = new Array<number>(BOUNDS_MS.length + 1).fill(0);
  #count = 0;
  #sum = 0;
  #max = 0;

  /** Records one duration. */
  add(ms: number): void {
    let i = 0;
    while (i < BOUNDS_MS.length && ms > BOUNDS_MS[i]) i++;
    this.#buckets[i]++;
    this.#count++;
    this.#sum += ms;
    if (ms > this.#max) this.#max = ms;
  }

  /** The histogram as Prometheus has it: cumulative counts per upper bound (ms), sum and count. */
  cumulative(): { bounds: readonly number[]; counts: number[]; sum: number; count: number } {
    let seen = 0;
    const counts = this.#buckets.slice(0, BOUNDS_MS.length).map((n) => (seen += n));
    return { bounds: BOUNDS_MS, counts, sum: this.#sum, count: this.#count };
  }

  /** Count, mean, median, 99th percentile and maximum. */
  summary(): LatencySummary {
    const round = (ms: number) => Math.round(ms * 1000) / 1000;
    const quantile = (q: number) => {
      let seen = 0;
      for (let i = 0; i < this.#buckets.length; i++) {
        seen += this.#buckets[i];
        if (seen >= q * this.#count) return round(Math.min(BOUNDS_MS[i] ?? Infinity, this.#max));
      }
      return round(this.#max);
    };
    return {
      count: this.#count,
      meanMs: this.#count ? round(this.#sum / this.#count) : 0,
      p50Ms: this.#count ? quantile(0.5) : 0,
      p99Ms: this.#count ? quantile(0.99) : 0,
      maxMs: round(this.#max),
    };
  }
}

/** Counts of sizes in power-of-two buckets: "1", "2-3", "4-7", … "512-1023", "1024+". */
export class Sizes {
  #buckets = new Array<number>(11).fill(0);
  #sum = 0;

  /** Records one size (≥ 1). */
  add(n: number): void {
    this.#buckets[Math.min(10, 31 - Math.clz32(Math.max(1, n)))]++;
    this.#sum += n;
  }

  /** As {@linkcode Latencies.cumulative}: upper bounds 1, 3, 7, … 1023 (then +Inf). */
  cumulative(): { bounds: readonly number[]; counts: number[]; sum: number; count: number } {
    let seen = 0;
    const counts = this.#buckets.slice(0, 10).map((n) => (seen += n));
    const count = seen + this.#buckets[10];
    return { bounds: counts.map((_, i) => 2 ** (i + 1) - 1), counts, sum: this.#sum, count };
  }

  /** The non-empty buckets, smallest first, as `{ "1": 3, "2-3": 10, … }`. */
  histogram(): Record<string, number> {
    const out: Record<string, number> = {};
    this.#buckets.forEach((count, i) => {
      if (!count) return;
      const label = i === 0 ? "1" : i === 10 ? "1024+" : `${2 ** i}-${2 ** (i + 1) - 1}`;
      out[label] = count;
    });
    return out;
  }
}
