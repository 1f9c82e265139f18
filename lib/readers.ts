// The read side: N reader workers chosen by fewest outstanding reads (round-robin among equals),
// and a read-only connection on the calling thread. Where a read runs is decided per SQL text by
// what it costs (adaptive routing): a read that costs less than a worker round trip runs on the
// calling thread, anything dearer or unknown goes to a worker. A cheap read arriving once this
// thread has spent its share of time on reads since its event loop last turned waits for the turn
// (measured: cheaper than a worker round trip, which costs 0.3 ms when the worker has gone to
// sleep). `readers: 0` reads on the calling thread only.

import type { BindParams } from "./driver.ts";
import type { ConnectionConfig, ReadKind, ReadRequest } from "./protocol.ts";
import { WorkerClient } from "./_worker_client.ts";
import { Connection } from "./_connection.ts";
import { type ChunkSource, inlineSource } from "./_stream.ts";
import { isBusy } from "./_sqlite_codes.ts";
import { SinceTurn } from "./_since_turn.ts";
import { learnCost } from "./_costs.ts";
import type { InlineGroup } from "./_inline_group.ts";
import { callerStack, fromErrorData, toErrorData, WorkerError } from "./errors.ts";

/** Where reads run: decided per SQL text by cost, or always on one side. */
export type ReadRouting = "adaptive" | "inline" | "workers";

/**
 * A read whose SQL text has cost at most this (ms, a moving average) runs on the calling
 * thread: less than a worker round trip costs (about 0.1 ms idle, more under load).
 */
export const INLINE_MAX_MS = 0.1;
/**
 * Milliseconds of inline reads the calling thread may run without its event loop turning: past
 * that, reads wait for it to turn (bounds the pause inline reads can cause).
 */
const INLINE_BURST_MS = 5;
/** One inline read of a known SQL text in this many is timed (see `#readInline`). */
const SAMPLE = 8;

/** Where a read runs (see `Readers.#placeFor`). */
type Place = 0 | 1 | 2;
const INLINE = 0, WORKER = 1, LATER = 2;

export class Readers {
  #config: ConnectionConfig;
  #workers: (WorkerClient<ReadRequest> | undefined)[];
  #restarting: (Promise<void> | undefined)[];
  #inline: Connection | undefined;
  #routing: ReadRouting;
  /** The calling thread's write connection while it is idle, if there is one (see `share`). */
  #idleWriteConnection: () => Connection | undefined = () => undefined;
  /** The group of transactions uncommitted on it, if any (see `share`). */
  #uncommitted: () => InlineGroup | undefined = () => undefined;
  /** Per SQL text, what one read costs (ms, moving average), as measured where it ran. */
  #costs = new Map<string, number>();
  /**
   * Resolves once the event loop has turned: made only when a read past the limit waits for it
   * (not at every turn, where the reads of most turns stay under the limit).
   */
  #turn: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  /** Milliseconds of inline reads since the event loop last turned. */
  #sinceTurn = new SinceTurn(() => {
    const wake = this.#wake;
    this.#turn = this.#wake = undefined;
    wake?.();
  });
  #next = 0;
  #nextId = 1;
  #closing = false;
  /** Reads answered. */
  reads = 0;
  /** Of those, reads run on the calling thread. */
  inlineReads = 0;
  /** Reader workers started again after they stopped. */
  restarts = 0;
  /** Reads that failed with SQLITE_BUSY (a lock held elsewhere past busyTimeout). */
  busyFailures = 0;
  /** Per reader worker: when it started, and the milliseconds it has spent on reads since. */
  #started: number[];
  #busyMs: number[];

  private constructor(config: ConnectionConfig, count: number, routing: ReadRouting) {
    this.#config = config;
    this.#routing = count === 0 ? "inline" : routing;
    this.#workers = new Array(count).fill(undefined);
    this.#restarting = new Array(count).fill(undefined);
    this.#started = new Array(count).fill(performance.now());
    this.#busyMs = new Array(count).fill(0);
  }

  /**
   * Opens `count` reader workers, and the calling thread's connection unless every read goes to
   * the workers.
   */
  static async start(
    config: ConnectionConfig,
    count: number,
    routing: ReadRouting = "adaptive",
  ): Promise<Readers> {
    const readers = new Readers(config, count, routing);
    if (readers.#routing !== "workers") readers.#inline = await Connection.open(config);
    if (count > 0) {
      const started = await Promise.allSettled(readers.#workers.map((_, i) => readers.#spawn(i)));
      const failed = started.find((r) => r.status === "rejected");
      if (failed) {
        await readers.close();
        throw (failed as PromiseRejectedResult).reason;
      }
    }
    return readers;
  }

  async #spawn(i: number): Promise<void> {
    this.#workers[i] = await WorkerClient.start<ReadRequest>(
      "reader",
      { t: "init", config: this.#config },
      (message) => {
        if (message.t !== "answers") return;
        this.reads += message.batch.count;
        this.#busyMs[i] += message.ms ?? 0;
        if (message.costs) {
          for (const sql in message.costs) {
            learnCost(this.#costs, sql, message.costs[sql]);
          }
        }
        for (const k in message.batch.errors) {
          if (isBusy(message.batch.errors[k].code)) this.busyFailures++;
        }
      },
      () => this.#died(i),
    );
    this.#started[i] = performance.now();
    this.#busyMs[i] = 0;
  }

  /** Per reader worker, the share of its time since it started spent running reads (0–1). */
  utilisation(): number[] {
    const now = performance.now();
    return this.#busyMs.map((ms, i) => Math.min(1, ms / Math.max(1, now - this.#started[i])));
  }

  #died(i: number): void {
    this.#workers[i] = undefined;
    if (this.#closing) return;
    this.restarts++;
    this.#restarting[i] = this.#spawn(i).catch(() => {}).finally(() => {
      this.#restarting[i] = undefined;
    });
  }

  /** Reader workers (for stats and tests). */
  get workers(): readonly (WorkerClient<ReadRequest> | undefined)[] {
    return this.#workers;
  }

  /** How many reader workers there are. */
  get count(): number {
    return this.#workers.length;
  }

  /** Reads waiting for an answer. */
  get outstanding(): number {
    return this.#workers.reduce((n, w) => n + (w?.outstanding ?? 0), 0);
  }

  /**
   * Where a read whose SQL text costs `cost` (learned, if it is) runs (`route` forces a side): on
   * the calling thread (`INLINE`), on a worker (`WORKER`), or on the calling thread once its event
   * loop has turned (`LATER`: it has spent INLINE_BURST_MS on reads since it last turned).
   */
  #placeFor(cost: number | undefined, route?: "inline" | "workers"): Place {
    if (!this.#inline) return WORKER;
    if (route) return route === "inline" || this.#workers.length === 0 ? INLINE : WORKER;
    if (this.#routing !== "adaptive") return INLINE;
    if (cost === undefined || cost > INLINE_MAX_MS) return WORKER;
    this.#sinceTurn.watch();
    return this.#sinceTurn.ms < INLINE_BURST_MS ? INLINE : LATER;
  }

  /**
   * Reads on the calling thread go to `idle()`'s connection when it gives one: the calling
   * thread's write connection, between its transactions. Its page cache stays valid across the
   * commits it made itself, where the read-only connection's is emptied at every commit of
   * another connection and read again from the file (measured: 0.5 µs of a 1.7 µs point read in
   * one process, and about 6 % of an HTTP service's requests/s at 10 % writes). Also between the
   * transactions of a group that commits at the end of the turn (`uncommitted()` gives it): a read
   * that ran there is answered once the group has committed what it saw (see InlineGroup.deliver).
   */
  share(idle: () => Connection | undefined, uncommitted: () => InlineGroup | undefined): void {
    this.#idleWriteConnection = idle;
    this.#uncommitted = uncommitted;
  }

  /** Runs a read on the calling thread or on the least busy reader worker. */
  read(
    kind: ReadKind,
    sql: string,
    params: BindParams,
    route?: "inline" | "workers",
  ): Promise<unknown> {
    const cost = this.#costs.get(sql);
    const place = this.#placeFor(cost, route);
    if (place === INLINE) {
      const conn = this.#idleWriteConnection() ?? this.#inline!;
      return this.#readInline(conn, kind, sql, params, cost);
    }
    if (place === LATER) {
      // Its error, made after the turn, gets the caller's stack as a worker's answer would.
      this.#turn ??= new Promise((resolve) => (this.#wake = resolve));
      return callerStack(this.#turn.then(() => this.read(kind, sql, params, route)));
    }
    const worker = this.#choose();
    if (!worker) {
      if (this.#inline) return this.#readInline(this.#inline, kind, sql, params, cost);
      return this.#afterRestart().then(() => this.read(kind, sql, params, route));
    }
    const req: ReadRequest = { id: this.#nextId++, kind, sql, params };
    return callerStack(new Promise((resolve, reject) => worker.send(req, { resolve, reject })));
  }

  /** A connection for a stream on the calling thread (one left by an ended stream, or a new one). */
  #spareInline: Connection[] = [];

  /**
   * The source of a stream of `sql`'s rows: a cursor on the least busy reader worker, or, with
   * no worker, on a connection of its own on the calling thread.
   */
  iterate(sql: string, params: BindParams, chunk: number): ChunkSource {
    this.reads++;
    const worker = this.#choose();
    if (worker) {
      const id = this.#nextId++;
      return {
        start: (sink) => worker.openStream(id, sql, params, chunk, sink),
        more: () => worker.more(id),
        stop: () => worker.stop(id),
      };
    }
    if (this.#workers.length) {
      // Every reader worker is starting again: the stream begins on one once it is back.
      let source: ChunkSource | undefined;
      let stopped = false;
      return {
        start: (sink) => {
          this.#afterRestart().then(() => {
            if (stopped) return;
            source = this.iterate(sql, params, chunk);
            this.reads--;
            source.start(sink);
          }, (error) => sink.fail(error));
        },
        more: () => source?.more(),
        stop: () => {
          stopped = true;
          source?.stop();
        },
      };
    }
    this.inlineReads++;
    const conn = this.#spareInline.pop();
    return inlineSource(
      conn ? Promise.resolve(conn) : Connection.open(this.#config),
      sql,
      params,
      chunk,
      (c) => this.#closing ? c.close() : this.#spareInline.push(c),
    );
  }

  /** Counts inline reads: one in SAMPLE is timed, the others are counted at what they cost. */
  #sample = 0;

  /** A read on the calling thread; `known`: what its SQL text costs, if learned. */
  #readInline(
    conn: Connection,
    kind: ReadKind,
    sql: string,
    params: BindParams,
    known: number | undefined,
  ): Promise<unknown> {
    this.reads++;
    this.inlineReads++;
    // Timing every read costs more than a point read's own work: a read of a text already
    // learned is timed one time in SAMPLE, the others counted at its learned cost.
    const timed = known === undefined || (this.#sample = (this.#sample + 1) % SAMPLE) === 0;
    const began = timed ? performance.now() : 0;
    try {
      const value = conn[kind](sql, params);
      const group = conn === this.#inline ? undefined : this.#uncommitted();
      // It saw transactions that are not committed yet: answered once they are.
      return group ? group.deliver(value, () => conn[kind](sql, params)) : Promise.resolve(value);
    } catch (error) {
      const data = toErrorData(error, conn.driver);
      if (isBusy(data.code)) this.busyFailures++;
      return Promise.reject(fromErrorData(data));
    } finally {
      if (timed) {
        const ms = performance.now() - began;
        this.#sinceTurn.add(ms);
        if (this.#routing === "adaptive") learnCost(this.#costs, sql, ms);
      } else {
        this.#sinceTurn.add(known!);
      }
    }
  }

  #choose(): WorkerClient<ReadRequest> | undefined {
    const n = this.#workers.length;
    let best: WorkerClient<ReadRequest> | undefined;
    if (n === 0) return undefined;
    for (let k = 0; k < n; k++) {
      const w = this.#workers[(this.#next + k) % n];
      if (w?.alive && (!best || w.outstanding < best.outstanding)) best = w;
    }
    this.#next = (this.#next + 1) % n;
    return best;
  }

  async #afterRestart(): Promise<void> {
    await Promise.all(this.#restarting);
    if (!this.#workers.some((w) => w?.alive)) {
      throw new WorkerError("No reader worker is running and none could be started again");
    }
  }

  /** Closes every reader once its reads are answered. */
  async close(): Promise<void> {
    this.#closing = true;
    // Reads waiting for the event loop to turn run first, inline (5 ms of them per turn).
    while (this.#turn) await this.#turn;
    this.#inline?.close();
    this.#inline = undefined;
    for (const c of this.#spareInline.splice(0)) c.close();
    await Promise.all(this.#restarting);
    await Promise.all(this.#workers.map((w) => w?.close()));
  }
}
