// A first-in first-out queue with O(1) push and shift (an array with a moving head).

export class Fifo<T> {
  #items: T[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  /** The oldest item, left in place. */
  peek(): T | undefined {
    return this.#items[this.#head];
  }

  shift(): T | undefined {
    if (this.#head === this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined as T;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      // The old array is emptied, not just dropped: an old array that still pointed at the items
      // it held would keep them (and what they hold) alive through young collections (see
      // `_id_table.ts`).
      const rest = this.#items.slice(this.#head);
      this.#items.length = 0;
      this.#items = rest;
      this.#head = 0;
    }
    return item;
  }

  /** Removes one item (O(n)); false if it is not queued. */
  remove(item: T): boolean {
    const i = this.#items.indexOf(item, this.#head);
    if (i < 0) return false;
    this.#items.splice(i, 1);
    return true;
  }

  /** Takes every item out, oldest first. */
  drain(): T[] {
    const items = this.#items.slice(this.#head);
    this.#items = [];
    this.#head = 0;
    return items;
  }
}
