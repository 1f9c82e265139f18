// The read side: N reader workers chosen by fewest outstanding reads (round-robin among equals),
// or with `readers: 0` one read-only connection on the calling thread.

import type { BindParams } from "./driver.ts";
import type { ConnectionConfig, ReadKind, ReadRequest } from "./protocol.ts";
import { WorkerClient } from "./_worker_client.ts";
import { answerReads, Connection } from "./_connection.ts";
import { fromErrorData, WorkerError } from "./errors.ts";

export class Readers {
  #config: ConnectionConfig;
  #workers: (WorkerClient<ReadRequest> | undefined)[];
  #restarting: (Promise<void> | undefined)[];
  #inline: Connection | undefined;
  #next = 0;
  #nextId = 1;
  #closing = false;
  /** Reads answered. */
  reads = 0;
  /** Reader workers started again after they stopped. */
  restarts = 0;
  /** Reads that failed with SQLITE_BUSY (a lock held elsewhere past busyTimeout). */
  busyFailures = 0;
  /** Per reader worker: when it started, and the milliseconds it has spent on reads since. */
  #started: number[];
  #busyMs: number[];

  private constructor(config: ConnectionConfig, count: number) {
    this.#config = config;
    this.#workers = new Array(count).fill(undefined);
    this.#restarting = new Array(count).fill(undefined);
    this.#started = new Array(count).fill(performance.now());
    this.#busyMs = new Array(count).fill(0);
  }

  /** Opens `count` reader workers, or one inline connection when `count` is 0. */
  static async start(config: ConnectionConfig, count: number): Promise<Readers> {
    const readers = new Readers(config, count);
    if (count === 0) {
      readers.#inline = await Connection.open(config);
    } else {
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
        this.reads += message.batch.ids.length;
        this.#busyMs[i] += message.ms ?? 0;
        for (const k in message.batch.errors) {
          if (message.batch.errors[k].code?.startsWith("SQLITE_BUSY")) this.busyFailures++;
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

  /** Reads waiting for an answer. */
  get outstanding(): number {
    return this.#workers.reduce((n, w) => n + (w?.outstanding ?? 0), 0);
  }

  /** Runs a read on the least busy reader. */
  read(kind: ReadKind, sql: string, params: BindParams): Promise<unknown> {
    const req: ReadRequest = { id: this.#nextId++, kind, sql, params };
    if (this.#inline) {
      const [answer] = answerReads(this.#inline, [req]);
      this.reads++;
      if (answer.error?.code?.startsWith("SQLITE_BUSY")) this.busyFailures++;
      return answer.error
        ? Promise.reject(fromErrorData(answer.error))
        : Promise.resolve(answer.value);
    }
    const worker = this.#choose();
    if (!worker) return this.#afterRestart().then(() => this.read(kind, sql, params));
    return new Promise((resolve, reject) => worker.send(req, { resolve, reject }));
  }

  #choose(): WorkerClient<ReadRequest> | undefined {
    const n = this.#workers.length;
    let best: WorkerClient<ReadRequest> | undefined;
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
    this.#inline?.close();
    this.#inline = undefined;
    await Promise.all(this.#restarting);
    await Promise.all(this.#workers.map((w) => w?.close()));
  }
}
