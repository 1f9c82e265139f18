// Work the calling thread did since its event loop last turned: what bounds the pause that reads
// or transactions answered at once can cause (lib/readers.ts, lib/writer.ts).

import { nextTurn } from "./_runtime.ts";

/** Milliseconds of some work since the event loop last turned, watched by one callback. */
export class SinceTurn {
  /** Milliseconds counted since the turn began (`add`); 0 when a new one is watched. */
  ms = 0;
  /** How many turns it has seen. */
  turns = 0;
  #watching = false;
  #onTurn: () => void;

  /** `onTurn` is called each time the event loop has turned while it was watched. */
  constructor(onTurn: () => void) {
    this.#onTurn = onTurn;
  }

  /** Watches for the next turn, unless it already does; a new watch starts `ms` at 0. */
  watch(): void {
    if (this.#watching) return;
    this.#watching = true;
    this.ms = 0;
    nextTurn(this.#turned);
  }

  /** Counts `ms` of the work. */
  add(ms: number): void {
    this.ms += ms;
  }

  #turned = (): void => {
    this.#watching = false;
    this.turns++;
    this.#onTurn();
  };
}
