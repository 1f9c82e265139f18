// The main thread's side of one worker: the start-up handshake, the pending map, one
// postMessage per tick carrying every request of that tick, and the end of the worker.

import {
  decodeAnswers,
  encodeRequests,
  type ErrorData,
  type FromWorker,
  type ReadRequest,
  type ToReader,
  type ToWriter,
  type WriteRequest,
} from "./protocol.ts";
import { spawnWorker, type WorkerLink } from "./_worker_host.ts";
import type { BindParams } from "./driver.ts";
import { fromErrorData, madeOnArrival, WorkerError } from "./errors.ts";
import { nextTurn } from "./_runtime.ts";
import { IdTable } from "./_id_table.ts";
// The worker modules, for module graphs (deno cache, deno install, JSR): they are started by
// URL below, which no graph follows. Types only: nothing of them runs on this thread.
import type {} from "./writer_worker.ts";
import type {} from "./reader_worker.ts";

/** How a request's caller is told the outcome. */
export interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  /** The worker confirmed a `cancel`: the request was never applied. */
  cancelled?(): void;
}

type Role = "writer" | "reader";
/**
 * Requests per message: a burst is sent in chunks of this many as it is made, so the worker
 * starts on the first while this thread makes the rest (measured best at 64–128; bench/).
 */
const CHUNK = 128;
/**
 * Milliseconds this thread handles the writer's messages (and what they resume) without its event
 * loop turning before the next ones wait for a turn (see `WorkerClient#receive`).
 */
const MESSAGES_MS = 4;
/** Messages a worker sends on its own: answers, the writer's WAL and transaction reports. */
type Report = Extract<FromWorker, { t: "answers" | "wal" | "txs" }>;

/** Where a stream's chunks go (`Database.iterate`). */
export interface StreamSink {
  chunk(rows: Record<string, unknown>[], done: boolean): void;
  fail(error: Error): void;
}

export class WorkerClient<Req extends WriteRequest | ReadRequest> {
  readonly role: Role;
  #link!: WorkerLink;
  #state: "starting" | "ready" | "closing" | "dead" = "starting";
  #pending = new IdTable<Pending>();
  #streams = new Map<number, StreamSink>();
  #outbox: Req[] = [];
  #cancels: number[] = [];
  #scheduled = false;
  #onDeath: (reason: string) => void;
  #onReport: (message: Report) => void;
  #waiter?: { resolve(m: FromWorker): void; reject(e: Error): void };
  /** Why the worker stopped, once it has. */
  #deathReason = "";

  private constructor(
    role: Role,
    onReport: (message: Report) => void,
    onDeath: (reason: string) => void,
  ) {
    this.role = role;
    this.#onReport = onReport;
    this.#onDeath = onDeath;
  }

  /**
   * Starts the worker and resolves once its connection is open; rejects with the reason if not.
   * `onDeath` is called when a worker that was ready stops unexpectedly (not during start-up,
   * not when closed).
   */
  static async start<R extends WriteRequest | ReadRequest>(
    role: Role,
    init: ToWriter | ToReader,
    onReport: (message: Report) => void,
    onDeath: (reason: string) => void,
  ): Promise<WorkerClient<R>> {
    const client = new WorkerClient<R>(role, onReport, onDeath);
    const url = new URL(
      role === "writer" ? "./writer_worker.ts" : "./reader_worker.ts",
      import.meta.url,
    );
    client.#link = await spawnWorker(
      url,
      (m) => client.#receive(m as FromWorker),
      (reason) => client.#died(reason),
    );
    client.#link.post(init);
    const reply = await client.#next();
    if (reply.t !== "ready") {
      client.#state = "dead";
      client.#link.terminate();
      throw reply.t === "failed"
        ? fromErrorData(reply.error)
        : new WorkerError(`The ${role} worker answered ${reply.t} instead of ready`);
    }
    client.#state = "ready";
    client.#link.hold(false); // idle: an open database alone does not keep the process alive
    return client;
  }

  /** Whether the worker takes requests. */
  get alive(): boolean {
    return this.#state === "ready";
  }

  /** Requests sent (or about to be) and not answered yet. */
  get outstanding(): number {
    return this.#pending.size;
  }

  /** Sends a request with the next flush (one message per tick). */
  send(req: Req, pending: Pending): void {
    if (this.#state !== "ready") {
      pending.reject(new WorkerError(`The ${this.role} worker has stopped`));
      return;
    }
    if (this.#pending.size === 0) this.#link.hold(true);
    this.#pending.set(req.id, pending);
    // A full chunk goes at once, so that the worker starts on it while this thread goes on.
    if (this.#outbox.push(req) >= CHUNK) this.#flush();
    else this.#schedule();
  }

  /**
   * Opens a stream of `sql`'s rows on the (reader) worker: `sink` gets each chunk until one is
   * the last, or the error. The stream's id is `id`; `more` and `stop` speak to it.
   */
  openStream(
    id: number,
    sql: string,
    params: BindParams,
    chunk: number,
    sink: StreamSink,
  ): void {
    if (this.#state !== "ready") {
      sink.fail(new WorkerError(`The ${this.role} worker has stopped`));
      return;
    }
    if (this.#streams.size === 0) this.#link.hold(true);
    this.#streams.set(id, sink);
    try {
      this.#link.post({ t: "iterate", id, sql, params, chunk });
    } catch (error) {
      this.#streams.delete(id);
      this.#idle();
      sink.fail(
        new TypeError(`A parameter cannot be sent to the worker: ${(error as Error).message}`),
      );
    }
  }

  /** Asks for a stream's next chunk. */
  more(id: number): void {
    if (this.#streams.has(id) && this.#state === "ready") this.#link.post({ t: "more", id });
  }

  /** Ends a stream early: its statement ends and its connection is free at once. */
  stop(id: number): void {
    if (!this.#streams.delete(id)) return;
    if (this.#state === "ready") this.#link.post({ t: "stop", id });
    this.#idle();
  }

  /** Asks the worker not to start a request it holds; it answers `cancelled` if it was in time. */
  cancel(id: number): void {
    const i = this.#outbox.findIndex((r) => r.id === id);
    if (i >= 0) {
      this.#outbox.splice(i, 1);
      const p = this.#pending.get(id)!;
      this.#settled(id);
      p.cancelled?.();
      return;
    }
    if (!this.#pending.has(id)) return;
    this.#cancels.push(id);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => this.#flush());
  }

  #flush(): void {
    this.#scheduled = false;
    if (this.#state !== "ready") return;
    if (this.#outbox.length) {
      const reqs = this.#outbox;
      this.#outbox = [];
      this.#post(reqs);
    }
    if (this.#cancels.length) {
      this.#link.post({ t: "cancel", ids: this.#cancels });
      this.#cancels = [];
      this.afterPost?.();
    }
  }

  /**
   * Posts requests in one message. Should one of them not survive `postMessage` (a value that
   * cannot be cloned), they go one by one instead and only that one is rejected.
   */
  #post(reqs: Req[]): void {
    const message = (r: Req[]) => {
      const batch = encodeRequests(r);
      return this.role === "writer" ? { t: "write", batch } : { t: "read", batch };
    };
    try {
      this.#link.post(message(reqs));
      this.afterPost?.();
    } catch {
      for (const req of reqs) {
        try {
          this.#link.post(message([req]));
          this.afterPost?.();
        } catch (error) {
          const p = this.#pending.get(req.id);
          this.#settled(req.id);
          p?.reject(
            new TypeError(`A parameter cannot be sent to the worker: ${(error as Error).message}`),
          );
        }
      }
    }
  }

  #settled(id: number): void {
    if (this.#pending.delete(id)) this.#idle();
  }

  /** Lets the process exit once nothing is pending or retained. */
  #idle(): void {
    if (
      this.#pending.size === 0 && this.#streams.size === 0 && this.#retained === 0 &&
      this.#state === "ready"
    ) {
      this.#link.hold(false);
    }
  }

  #retained = 0;

  /**
   * Keeps the process alive for work this client does not track (an interactive transaction on
   * the writer's channel) until the returned function is called.
   */
  retain(): () => void {
    if (this.#retained++ === 0 && this.#state === "ready") this.#link.hold(true);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#retained--;
      this.#idle();
    };
  }

  /**
   * The writer's messages held back until the event loop has turned, in order (see `#receive`),
   * and when this thread began handling its messages without the event loop turning (-1: it has
   * turned since).
   */
  #held: FromWorker[] = [];
  #busySince = -1;

  /**
   * A message from the worker. A runtime hands over every message waiting in one go, without
   * running timers or I/O in between, and each of the writer's answers messages resumes up to a
   * chunk of callers, who make the next writes: under a burst of writes that ran 20–60 messages
   * and 10–33 ms without the event loop turning (bench/throughput.ts scenario 1, 256 callers).
   * Once the writer's messages have kept this thread busy for MESSAGES_MS, the rest wait for the
   * event loop to turn, one message per turn until none is held; those that come meanwhile queue
   * behind them. Reads are answered as they come.
   */
  #receive(msg: FromWorker): void {
    if (this.role !== "writer") return this.#handle(msg);
    if (this.#held.length) {
      this.#held.push(msg);
      return;
    }
    const now = performance.now();
    if (this.#busySince < 0) {
      this.#busySince = now;
      nextTurn(this.#turned);
    } else if (now - this.#busySince >= MESSAGES_MS) {
      this.#held.push(msg);
      return;
    }
    this.#handle(msg);
  }

  #turned = (): void => {
    this.#busySince = -1;
    const msg = this.#held.shift();
    if (!msg) return;
    this.#busySince = performance.now();
    nextTurn(this.#turned);
    this.#handle(msg);
  };

  /** Handles every held message now (before the worker's end is handled). */
  #handleHeld(): void {
    for (let msg = this.#held.shift(); msg; msg = this.#held.shift()) this.#handle(msg);
  }

  #handle(msg: FromWorker): void {
    if (msg.t === "wal" || msg.t === "txs") return this.#onReport(msg);
    if (msg.t === "rows") {
      const sink = this.#streams.get(msg.id);
      if (!sink) return; // stopped meanwhile
      if (msg.done) {
        this.#streams.delete(msg.id);
        this.#idle();
      }
      if (msg.error) sink.fail(fromErrorData(msg.error));
      else sink.chunk(msg.rows, msg.done);
      return;
    }
    if (msg.t !== "answers") {
      const waiter = this.#waiter;
      this.#waiter = undefined;
      waiter?.resolve(msg);
      return;
    }
    decodeAnswers(msg.batch, this.#answer);
    this.#onReport(msg);
  }

  /** One answer of the worker: settles its request's caller. */
  #answer = (id: number, value: unknown, error?: ErrorData, cancelled?: boolean): void => {
    const p = this.#pending.get(id);
    if (!p) return;
    this.#settled(id);
    if (cancelled) p.cancelled?.();
    else if (error) p.reject(fromErrorData(error));
    else p.resolve(value);
  };

  /** The next control message (ready, failed, closed); keeps the process alive until it comes. */
  #next(): Promise<FromWorker> {
    // It may have died already, e.g. when its module failed to load before start-up got here.
    if (this.#state === "dead") {
      return Promise.reject(
        new WorkerError(`The ${this.role} worker stopped: ${this.#deathReason}`),
      );
    }
    this.#link.hold(true);
    return new Promise<FromWorker>((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  /** The worker stopped: everything it held is rejected, whatever the state. */
  #died(reason: string): void {
    this.#handleHeld(); // what it answered before it stopped stands
    const wasReady = this.#state === "ready";
    this.#state = "dead";
    this.#deathReason = reason;
    this.#waiter?.reject(new WorkerError(`The ${this.role} worker stopped: ${reason}`));
    this.#waiter = undefined;
    const unsent = new Set(this.#outbox.map((r) => r.id));
    const held = this.#pending.entries();
    this.#pending.clear();
    this.#outbox = [];
    this.#cancels = [];
    const streams = [...this.#streams.values()];
    this.#streams.clear();
    for (const sink of streams) {
      sink.fail(madeOnArrival(
        new WorkerError(`The ${this.role} worker stopped (${reason}) while it streamed rows`),
      ));
    }
    for (const [id, p] of held) {
      const mayHaveApplied = this.role === "writer" && !unsent.has(id);
      p.reject(madeOnArrival(
        new WorkerError(
          `The ${this.role} worker stopped (${reason}) while it held this request` +
            (mayHaveApplied ? "; it may have been applied" : "; it was not applied"),
          mayHaveApplied,
        ),
      ));
    }
    if (wasReady) this.#onDeath(reason);
  }

  /** Called just before the worker is terminated (see `TxCaller.stop`). */
  beforeTerminate: (() => void) | undefined;
  /** Called after each message posted to a ready worker (see `TxCaller.ring`). */
  afterPost: (() => void) | undefined;

  /** Posts a message that needs no answer; dropped unless the worker is ready. */
  hint(message: { t: "checkpoint" }): void {
    if (this.#state === "ready") this.#link.post(message);
  }

  /** Stops the worker at once (as a crash would); every request it held is rejected. */
  terminate(): void {
    this.beforeTerminate?.();
    this.#link.terminate();
  }

  /** Asks the worker to close its connection, then ends it. Resolves even if it already died. */
  async close(): Promise<void> {
    if (this.#state !== "ready") return;
    this.#flush();
    this.#state = "closing";
    const reply = this.#next();
    this.#link.post({ t: "close" });
    this.afterPost?.();
    try {
      await reply;
    } catch { /* it died while closing: nothing is left to close */ }
    this.#link.terminate(); // rejects anything still held, as for any other stop
  }
}
