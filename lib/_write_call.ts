// The items of the writer's queue, in call order: a write call (its own `Pending`, so a call
// costs one object), or a transaction's ticket waiting for the writer to be lent to it.

import type { ReadKind, Statement, WriteRequest } from "./protocol.ts";
import type { BindParams } from "./driver.ts";
import type { Pending } from "./_worker_client.ts";
import type { TxCaller } from "./_tx_channel.ts";
import type { InlineGroup } from "./_inline_group.ts";
import { tickTime } from "./_writer_stats.ts";

/** What a write call tells the writer that queued it. */
export interface CallOwner {
  /** A sent call was answered (or rejected because its worker stopped). */
  answered(call: WriteCall, outcome: "done" | "failed" | "cancelled"): void;
  /** Its abort signal fired. */
  abort(call: WriteCall): void;
}

/** What a caller can ask of the writer (the id is added here). */
export type WriteBody =
  | { kind: "run" | ReadKind; sql: string; params: BindParams }
  | { kind: "exec"; sql: string }
  | { kind: "batch"; stmts: Statement[] }
  | { kind: "call"; sql: string; params: unknown };

/**
 * The writer lent to one interactive transaction: its channel, until `release`. Writes through
 * the database wait meanwhile.
 */
export interface Lease {
  readonly channel: TxCaller;
  /** Names the transaction in its requests (the writer refuses those of another). */
  readonly token: number;
  /** The writer worker it was lent on (its transactions' numbers start over with each). */
  readonly generation: number;
  /**
   * Ends the lease once COMMIT or ROLLBACK is sent; `done` settles when it was answered (none:
   * it was, at once).
   */
  release(done?: Promise<unknown>): void;
  /**
   * The calling thread's own write connection (with the group of transactions committed together
   * there), when the writer is idle (nothing in flight, no transaction of its group left to
   * commit) and it may run the transaction itself: see `transaction.ts`.
   */
  readonly inline?: InlineGroup;
}

/** A transaction waiting for its turn in the write order. */
export class Ticket {
  readonly at = tickTime();
  grant!: (lease: Lease) => void;
  fail!: (error: unknown) => void;
  readonly granted = new Promise<Lease>((resolve, reject) => {
    this.grant = resolve;
    this.fail = reject;
  });
}

/** One write call: queued in call order, then sent. It is its own `Pending`, so a call costs one object. */
export class WriteCall implements Pending {
  readonly req: WriteRequest;
  readonly signal?: AbortSignal;
  /** When the call was made (for stats' writeLatency). */
  readonly at: number;
  #writer: CallOwner;
  #resolve: (value: unknown) => void;
  #reject: (error: Error) => void;
  #onAbort?: () => void;

  constructor(
    writer: CallOwner,
    req: WriteRequest,
    resolve: (value: unknown) => void,
    reject: (error: Error) => void,
    signal?: AbortSignal,
  ) {
    this.#writer = writer;
    this.at = tickTime();
    this.req = req;
    this.#resolve = resolve;
    this.#reject = reject;
    if (signal) {
      this.signal = signal;
      this.#onAbort = () => writer.abort(this);
      signal.addEventListener("abort", this.#onAbort, { once: true });
    }
  }

  resolve(value: unknown): void {
    this.#writer.answered(this, "done");
    this.#end();
    this.#resolve(value);
  }

  reject(error: Error): void {
    this.#writer.answered(this, "failed");
    this.fail(error);
  }

  cancelled(): void {
    this.#writer.answered(this, "cancelled");
    this.fail(this.signal!.reason);
  }

  /** Resolves the caller with a call that was never sent (run on the calling thread). */
  done(value: unknown): void {
    this.#end();
    this.#resolve(value);
  }

  /** Rejects the caller (for a call that was never sent, or after `answered`). */
  fail(error: unknown): void {
    this.#end();
    this.#reject(error as Error);
  }

  #end(): void {
    if (this.#onAbort) this.signal!.removeEventListener("abort", this.#onAbort);
  }
}
