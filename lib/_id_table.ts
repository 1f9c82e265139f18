// The requests a worker holds, by id: a ring of slots indexed by the id's low bits, not a Map.
//
// Why not a Map: ids only grow, so a Map of pending requests keeps appending entries and
// rebuilding its table every few hundred calls. V8 links each replaced table to the next one and
// leaves its entries in it, so every table that has reached the old generation keeps the requests
// it held, and the table after it, alive through each young collection until the next full one.
// Under a burst of writes that promoted a quarter of all the calling thread's allocation (Node 22,
// 256 callers: 421 of 1 735 bytes per write; bench/RESULTS.md). Slots of a fixed array are
// cleared in place instead.

/** Values by integer id (ids that mostly arrive in increasing order and leave soon). */
export class IdTable<V> {
  #ids: number[];
  #values: (V | undefined)[];
  #mask: number;
  /** Entries whose slot another id held when they came (rare: see `set`). */
  #overflow = new Map<number, V>();
  #size = 0;

  constructor(capacity = 1024) {
    this.#ids = new Array(capacity).fill(-1);
    this.#values = new Array(capacity).fill(undefined);
    this.#mask = capacity - 1;
  }

  /** How many entries it holds. */
  get size(): number {
    return this.#size;
  }

  /** Adds `id` (not already held), with `value` (not undefined). */
  set(id: number, value: V): void {
    if (this.#size >= this.#ids.length / 2) this.#grow();
    this.#size++;
    const at = id & this.#mask;
    if (this.#values[at] === undefined) {
      this.#ids[at] = id;
      this.#values[at] = value;
    } else {
      this.#overflow.set(id, value); // an old entry still holds the slot
    }
  }

  get(id: number): V | undefined {
    const at = id & this.#mask;
    if (this.#ids[at] === id) return this.#values[at];
    return this.#overflow.size ? this.#overflow.get(id) : undefined;
  }

  has(id: number): boolean {
    return this.get(id) !== undefined;
  }

  /** Removes `id`; false if it was not held. */
  delete(id: number): boolean {
    const at = id & this.#mask;
    if (this.#ids[at] === id) {
      this.#ids[at] = -1;
      this.#values[at] = undefined;
    } else if (!this.#overflow.delete(id)) {
      return false;
    }
    this.#size--;
    return true;
  }

  /** Every entry, oldest id first (as a Map would give them: in the order they came). */
  entries(): [number, V][] {
    const out: [number, V][] = [...this.#overflow];
    for (let at = 0; at < this.#ids.length; at++) {
      if (this.#values[at] !== undefined) out.push([this.#ids[at], this.#values[at]!]);
    }
    return out.sort((a, b) => a[0] - b[0]);
  }

  clear(): void {
    this.#ids.fill(-1);
    this.#values.fill(undefined);
    this.#overflow.clear();
    this.#size = 0;
  }

  /** Twice the slots: entries are placed again (those of the overflow too, where they now fit). */
  #grow(): void {
    const entries = this.entries();
    const capacity = this.#ids.length * 2;
    this.#ids = new Array(capacity).fill(-1);
    this.#values = new Array(capacity).fill(undefined);
    this.#mask = capacity - 1;
    this.#overflow = new Map();
    this.#size = 0;
    for (const [id, value] of entries) this.set(id, value);
  }
}
