// The main thread's side of one worker: the start-up handshake, request ids, the pending map,
// one postMessage per tick carrying every request of that tick, and the end of the worker.

import type {
  Answer,
  FromWorker,
  ReadRequest,
  ToReader,
  ToWriter,
  WriteRequest,
} from "./protocol.ts";
import { spawnWorker, type WorkerLink } from "./_worker_host.ts";
import { fromErrorData, WorkerError } from "./errors.ts";

/** How a request's caller is told the outcome. */
export interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  /** The worker confirmed a `cancel`: the request was never applied. */
  cancelled?(): void;
}

type Role = "writer" | "reader";

export class WorkerClient<Req extends WriteRequest | ReadRequest> {
  readonly role: Role;
  #link!: WorkerLink;
  #pending = new Map<number, Pending>();
  #outbox: Req[] = [];
  #cancels: number[] = [];
  #scheduled = false;
  #alive = true;
  #onDeath: (reason: string) => void;
  #onAnswers: (answers: Answer[], commits: number) => void;
  #waiter?: { resolve(m: FromWorker): void; reject(e: Error): void };

  private constructor(
    role: Role,
    onAnswers: (answers: Answer[], commits: number) => void,
    onDeath: (reason: string) => void,
  ) {
    this.role = role;
    this.#onAnswers = onAnswers;
    this.#onDeath = onDeath;
  }

  /** Starts the worker and resolves once its connection is open (rejects with the reason if not). */
  static async start<R extends WriteRequest | ReadRequest>(
    role: Role,
    init: ToWriter | ToReader,
    onAnswers: (answers: Answer[], commits: number) => void,
    onDeath: (reason: string) => void,
  ): Promise<WorkerClient<R>> {
    const client = new WorkerClient<R>(role, onAnswers, onDeath);
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
    if (reply.t === "failed") {
      client.#alive = false;
      client.#link.terminate();
      throw fromErrorData(reply.error);
    }
    return client;
  }

  get alive(): boolean {
    return this.#alive;
  }

  /** Requests sent (or about to be) and not answered yet. */
  get outstanding(): number {
    return this.#pending.size;
  }

  /** Sends a request with the next flush (one message per tick). */
  send(req: Req, pending: Pending): void {
    if (!this.#alive) {
      pending.reject(new WorkerError(`The ${this.role} worker has stopped`));
      return;
    }
    if (this.#pending.size === 0) this.#link.hold(true);
    this.#pending.set(req.id, pending);
    this.#outbox.push(req);
    this.#schedule();
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

  /** Forgets a pending request (its answer, if one comes, is ignored). */
  forget(id: number): void {
    this.#settled(id);
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => this.#flush());
  }

  #flush(): void {
    this.#scheduled = false;
    if (!this.#alive) return;
    if (this.#outbox.length) {
      const reqs = this.#outbox;
      this.#outbox = [];
      this.#link.post(this.role === "writer" ? { t: "write", reqs } : { t: "read", reqs });
    }
    if (this.#cancels.length) {
      this.#link.post({ t: "cancel", ids: this.#cancels });
      this.#cancels = [];
    }
  }

  #settled(id: number): void {
    if (this.#pending.delete(id) && this.#pending.size === 0 && this.#alive) this.#link.hold(false);
  }

  #receive(msg: FromWorker): void {
    if (msg.t !== "answers") {
      const waiter = this.#waiter;
      this.#waiter = undefined;
      waiter?.resolve(msg);
      return;
    }
    for (const a of msg.answers) {
      const p = this.#pending.get(a.id);
      if (!p) continue;
      this.#settled(a.id);
      if (a.cancelled) p.cancelled?.();
      else if (a.error) p.reject(fromErrorData(a.error));
      else p.resolve(a.value);
    }
    this.#onAnswers(msg.answers, msg.commits ?? 0);
  }

  /** The next control message (ready, failed, closed); keeps the process alive until it comes. */
  #next(): Promise<FromWorker> {
    this.#link.hold(true);
    return new Promise<FromWorker>((resolve, reject) => {
      this.#waiter = { resolve, reject };
    }).finally(() => {
      if (this.#alive && this.#pending.size === 0) this.#link.hold(false);
    });
  }

  #died(reason: string): void {
    if (!this.#alive) {
      this.#waiter?.reject(new WorkerError(`The ${this.role} worker stopped: ${reason}`));
      return;
    }
    this.#alive = false;
    this.#waiter?.reject(new WorkerError(`The ${this.role} worker stopped: ${reason}`));
    this.#waiter = undefined;
    const unsent = new Set(this.#outbox.map((r) => r.id));
    const held = [...this.#pending];
    this.#pending.clear();
    this.#outbox = [];
    for (const [id, p] of held) {
      const mayHaveApplied = this.role === "writer" && !unsent.has(id);
      p.reject(
        new WorkerError(
          `The ${this.role} worker stopped (${reason}) while it held this request` +
            (mayHaveApplied ? "; it may have been applied" : "; it was not applied"),
          mayHaveApplied,
        ),
      );
    }
    this.#onDeath(reason);
  }

  /** Stops the worker at once (as a crash would); every request it held is rejected. */
  terminate(): void {
    this.#link.terminate();
  }

  /** Asks the worker to close its connection, then ends it. Resolves even if it already died. */
  async close(): Promise<void> {
    if (!this.#alive) return;
    this.#flush();
    const reply = this.#next();
    this.#link.post({ t: "close" });
    try {
      await reply;
    } catch { /* it died while closing: nothing is left to close */ }
    this.#alive = false;
    this.#link.terminate();
  }
}
